package dev.atoll.client;

import java.nio.charset.StandardCharsets;

/** One key and its value, as a range returns them. The arrays are the caller's to keep. */
public record KeyValue(byte[] key, byte[] value) {
    public String keyUtf8() {
        return new String(key, StandardCharsets.UTF_8);
    }

    public String valueUtf8() {
        return new String(value, StandardCharsets.UTF_8);
    }
}
