package dev.atoll.shard.replica;

import dev.atoll.shard.Key;

import java.util.Arrays;
import java.util.Objects;

/** One row of a shard: a key and its value. The value is not copied; callers do not change it. */
public record KeyValue(Key key, byte[] value) {
    public KeyValue {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyValue kv && key.equals(kv.key) && Arrays.equals(value, kv.value);
    }

    @Override
    public int hashCode() {
        return key.hashCode() * 31 + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return key + "=" + value.length + "B";
    }
}
