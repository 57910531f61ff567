package dev.atoll.server.shard;

import io.grpc.stub.StreamObserver;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** How the shard services answer a unary call from a future: on their executor, failures as statuses. */
final class Answers {
    private Answers() {
    }

    static <R> void answer(CompletableFuture<R> result, StreamObserver<R> out, Executor executor) {
        result.whenCompleteAsync((value, error) -> {
            if (error != null) {
                out.onError(ShardKvService.statusOf(error));
            } else {
                out.onNext(value);
                out.onCompleted();
            }
        }, executor).exceptionally(rejected -> {
            // the executor refused the continuation: answer from here
            out.onError(ShardKvService.statusOf(rejected));
            return null;
        });
    }
}
