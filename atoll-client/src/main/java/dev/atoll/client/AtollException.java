package dev.atoll.client;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A request the cluster refused or could not answer. {@link #code()} is the server's stable code
 * ({@code KEYSPACE_NOT_FOUND}, {@code INVALID_REQUEST}, {@code NO_LEADER}, ...; the admin and
 * ShardKV APIs' {@code ShardError}), or the gRPC status code's name when the answer carried none
 * ({@code UNAVAILABLE} for an unreachable cluster, {@code DEADLINE_EXCEEDED}). Callers match on the
 * code, never on the message.
 */
public final class AtollException extends RuntimeException {
    private static final Metadata.Key<String> CODE_TRAILER = Metadata.Key.of("atoll-error",
            Metadata.ASCII_STRING_MARSHALLER);
    private static final String PREFIX = "atoll: ";

    private final String code;

    public AtollException(String code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    /** The stable code: one of the server's, or a gRPC status code's name. */
    public String code() {
        return code;
    }

    /** The code of a gRPC failure: the {@code atoll-error} trailer, else the status code's name. */
    static String codeOf(StatusRuntimeException e) {
        Metadata trailers = e.getTrailers();
        String code = trailers == null ? null : trailers.get(CODE_TRAILER);
        return code != null ? code : e.getStatus().getCode().name();
    }

    /** The exception for a gRPC failure, its message the server's words after "atoll: CODE: ". */
    static AtollException of(StatusRuntimeException e) {
        String code = codeOf(e);
        String description = e.getStatus().getDescription();
        String message = description == null ? e.getStatus().getCode().name() : description;
        String ours = PREFIX + code + ": ";
        if (message.startsWith(ours)) {
            message = message.substring(ours.length());
        }
        return new AtollException(code, message, e);
    }

    /** The exception for a failure that was no gRPC status (the client's own). */
    static AtollException of(Status.Code code, String message) {
        return new AtollException(code.name(), message, null);
    }

    /** "atoll: CODE: message", as the {@code atoll} command prints it. */
    @Override
    public String toString() {
        return PREFIX + code + ": " + getMessage();
    }
}
