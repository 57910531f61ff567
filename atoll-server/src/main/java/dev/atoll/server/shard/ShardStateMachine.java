package dev.atoll.server.shard;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.proto.shardkv.ShardCommand;
import dev.atoll.proto.shardkv.ShardSnapshot;
import dev.atoll.server.runtime.StateMachine;
import dev.atoll.shard.Key;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The apply logic of one shard replica of a keyspace other than {@code default}: applies each
 * round of committed {@link ShardCommand}s (put, delete) to the shard's {@link ShardData} in one
 * write with the round's last log position, and makes and installs whole-shard snapshots.
 * Deterministic: a command for a key the shard does not own, or one that does not decode, is
 * refused alike on every replica and only moves the applied index.
 *
 * <p>Everything it needs from the node is the {@link ShardData} view and the ownership test
 * fixed when the replica was created; the pure shard replica state machine
 * ({@code dev.atoll.shard.replica}) can take its place behind the same runtime
 * {@link StateMachine} interface, turning decoded commands into {@link ShardStore.Write}s.
 *
 * <p>Threads: apply, snapshot and install on the runtime's loop thread; {@link #get} and
 * {@link #scan} from any thread.
 */
public final class ShardStateMachine implements StateMachine {
    /** Most keys one snapshot may hold: a snapshot is built in memory. */
    public static final int SNAPSHOT_KEYS_MAX = 4_000_000;

    /** What applying a command came to; handed to the proposer. */
    public sealed interface Result permits Written, Deleted, NotOwned, Malformed {
    }

    /** The put was applied at {@code index}. */
    public record Written(long index) implements Result {
    }

    /** The delete was applied at {@code index}; {@code existed} says whether the key was there. */
    public record Deleted(boolean existed, long index) implements Result {
    }

    /** The key is not this shard's (the proposer's map was stale); nothing changed. */
    public record NotOwned(String detail) implements Result {
    }

    /** The entry held no decodable command; nothing changed. */
    public record Malformed(String detail) implements Result {
    }

    private final ShardData data;
    private final Predicate<Key> owns;
    private volatile long appliedIndex;
    private volatile boolean closed;

    /** {@code owns}: whether a key belongs to this shard (its span at creation). */
    public ShardStateMachine(ShardData data, Predicate<Key> owns) {
        this.data = data;
        this.owns = owns;
        this.appliedIndex = data.applied().index();
    }

    public ShardData data() {
        return data;
    }

    // ------------------------------------------------------------------ apply (loop thread)

    @Override
    public Object apply(Entry entry) {
        return applyAll(List.of(entry)).getFirst();
    }

    @Override
    public List<Object> applyAll(List<Entry> entries) {
        var results = new ArrayList<Object>(entries.size());
        var writes = new ArrayList<ShardStore.Write>();
        // the round's writes so far, by key: a delete after a put in the same round sees the put
        Map<ByteString, byte[]> written = new HashMap<>();
        Entry last = null;
        for (Entry e : entries) {
            if (e.index() <= appliedIndex) {
                results.add(null); // replayed after a restart: applied before
                continue;
            }
            last = e;
            results.add(e.kind() == Entry.Kind.COMMAND ? applyCommand(e, writes, written) : null);
        }
        if (last != null) {
            data.write(writes, new ShardStore.Applied(last.index(), last.term()));
            appliedIndex = last.index();
        }
        return results;
    }

    private Result applyCommand(Entry e, List<ShardStore.Write> writes, Map<ByteString, byte[]> written) {
        ShardCommand c;
        try {
            c = ShardCommand.parseFrom(e.data());
        } catch (InvalidProtocolBufferException bad) {
            return new Malformed("undecodable command: " + bad.getMessage());
        }
        return switch (c.getOpCase()) {
            case PUT -> {
                ByteString key = c.getPut().getKey();
                if (!owns.test(Key.of(key.toByteArray()))) {
                    yield new NotOwned("key not in " + data.shardId());
                }
                byte[] value = c.getPut().getValue().toByteArray();
                writes.add(new ShardStore.Write(key.toByteArray(), value));
                written.put(key, value);
                yield new Written(e.index());
            }
            case DELETE -> {
                ByteString key = c.getDelete().getKey();
                if (!owns.test(Key.of(key.toByteArray()))) {
                    yield new NotOwned("key not in " + data.shardId());
                }
                boolean existed = written.containsKey(key) ? written.get(key) != null
                        : data.get(key.toByteArray()).isPresent();
                writes.add(new ShardStore.Write(key.toByteArray(), null));
                written.put(key, null);
                yield new Deleted(existed, e.index());
            }
            case OP_NOT_SET -> new Malformed("a shard command names put or delete");
        };
    }

    @Override
    public long appliedIndex() {
        return appliedIndex;
    }

    @Override
    public byte[] snapshotData() {
        ShardStore.Applied applied = data.applied();
        var b = ShardSnapshot.newBuilder().setShard(data.shardId().value()).setAppliedIndex(applied.index())
                .setAppliedTerm(applied.term());
        for (ShardStore.KeyValue kv : data.scan(new byte[0], null, SNAPSHOT_KEYS_MAX)) {
            b.addPairs(dev.atoll.proto.shardkv.KeyValue.newBuilder().setKey(ByteString.copyFrom(kv.key()))
                    .setValue(ByteString.copyFrom(kv.value())));
        }
        return b.build().toByteArray();
    }

    @Override
    public void install(Snapshot snapshot) {
        var pairs = new ArrayList<ShardStore.KeyValue>();
        if (snapshot.data() != null && snapshot.data().length > 0) {
            ShardSnapshot s;
            try {
                s = ShardSnapshot.parseFrom(snapshot.data());
            } catch (InvalidProtocolBufferException damaged) {
                throw new IllegalStateException("SNAPSHOT_CORRUPT: shard " + data.shardId()
                        + " snapshot does not decode", damaged);
            }
            for (var kv : s.getPairsList()) {
                pairs.add(new ShardStore.KeyValue(kv.getKey().toByteArray(), kv.getValue().toByteArray()));
            }
        }
        data.replace(pairs, new ShardStore.Applied(snapshot.index(), snapshot.term()));
        appliedIndex = snapshot.index();
    }

    @Override
    public void close() {
        // the store is the node's, shared by every shard; the replica's data is deleted after this
        closed = true;
    }

    /** A read raced with the replica's removal from this node: its data may be gone, so the read says nothing. */
    public static final class ReplicaGone extends RuntimeException {
        ReplicaGone(String message) {
            super(message, null, false, false);
        }
    }

    // ------------------------------------------------------------------ reads (any thread)

    /** The key's value; throws {@link ReplicaGone} once the replica is removed from this node. */
    public Optional<byte[]> get(byte[] key) {
        Optional<byte[]> value = data.get(key);
        checkOpen();
        return value;
    }

    /** See {@link ShardData#scan}; throws {@link ReplicaGone} once the replica is removed from this node. */
    public List<ShardStore.KeyValue> scan(byte[] start, byte[] end, int limit) {
        List<ShardStore.KeyValue> found = data.scan(start, end, limit);
        checkOpen();
        return found;
    }

    private void checkOpen() {
        if (closed) {
            throw new ReplicaGone(data.shardId() + " left this node");
        }
    }

    /** The command that puts {@code value} at {@code key}. */
    public static byte[] put(long requestId, byte[] key, byte[] value) {
        return ShardCommand.newBuilder().setRequestId(requestId).setPut(dev.atoll.proto.shardkv.KvPut.newBuilder()
                .setKey(ByteString.copyFrom(key)).setValue(ByteString.copyFrom(value))).build().toByteArray();
    }

    /** The command that deletes {@code key}. */
    public static byte[] delete(long requestId, byte[] key) {
        return ShardCommand.newBuilder().setRequestId(requestId).setDelete(dev.atoll.proto.shardkv.KvDelete.newBuilder()
                .setKey(ByteString.copyFrom(key))).build().toByteArray();
    }
}
