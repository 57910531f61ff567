package dev.atoll.server.runtime;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.proto.meta.MemberRecord;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.server.cluster.Member;
import dev.atoll.server.cluster.MemberTable;
import dev.atoll.server.cluster.NodeLabels;
import dev.atoll.server.shard.ShardState;
import dev.atoll.proto.shardmap.ShardMapState;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The meta group's state: cluster metadata in a sorted map of "key=value" strings, held in
 * memory and rebuilt on restart from the snapshot file and the WAL, so it is only as large as
 * cluster metadata. Readable from any thread.
 *
 * <p>Two kinds of command: a plain {@code key=value} text sets a key; a {@link MetaCommand}
 * (marked by a leading 0 byte, which no text command has) changes the member table, validated
 * as etcd validates a configuration change. The table lives in the same map
 * ({@code cluster/id} and one {@code member/<16 hex digits>} key per member, the record in
 * base64 protobuf), so snapshots carry it; plain commands cannot touch those keys.
 *
 * <p>A {@link MetaCommand} may also change the shard state ({@link ShardState}: keyspaces, the
 * shard map, move and transfer intents). That state is held as an immutable value, not in the
 * map; a snapshot carries it as one {@code shardmap/state} line (base64 protobuf).
 */
public final class MetaStateMachine implements StateMachine {
    private static final byte MEMBER_COMMAND_MARK = 0;
    private static final String CLUSTER_ID_KEY = "cluster/id";
    private static final String MEMBER_PREFIX = "member/";
    private static final String SHARD_STATE_KEY = "shardmap/state";

    /** Replaced whole by an installed snapshot, so readers never see it half-filled. */
    private volatile ConcurrentSkipListMap<String, String> data = new ConcurrentSkipListMap<>();
    private volatile MemberTable members = MemberTable.EMPTY;
    private volatile long appliedIndex;
    private volatile ShardState shards = ShardState.EMPTY;
    private volatile Runnable shardListener = () -> { };

    /** The command that sets {@code key} to {@code value}. */
    public static byte[] set(String key, String value) {
        if (key.indexOf('=') >= 0 || key.indexOf('\n') >= 0 || value.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("meta keys hold no '=' and no line breaks: " + key);
        }
        if (isReserved(key)) {
            throw new IllegalArgumentException("the member table is changed by member commands only: " + key);
        }
        return (key + "=" + value).getBytes(StandardCharsets.UTF_8);
    }

    /** The command that changes the member table. */
    public static byte[] command(MetaCommand command) {
        byte[] body = command.toByteArray();
        byte[] out = new byte[body.length + 1];
        out[0] = MEMBER_COMMAND_MARK;
        System.arraycopy(body, 0, out, 1, body.length);
        return out;
    }

    public String get(String key) {
        return data.get(key);
    }

    /** The member table as of the last applied entry. */
    public MemberTable members() {
        return members;
    }

    /** The shard state as of the last applied entry. */
    public ShardState shards() {
        return shards;
    }

    /**
     * Told (on the runtime's loop thread) after every applied change of the shard state; it must
     * only hand the news on (schedule work), never block.
     */
    public void onShardStateChanged(Runnable listener) {
        this.shardListener = listener;
    }

    /**
     * Applies one committed entry. A text command answers the key's previous value; a member
     * command answers a {@link MemberTable.Change} (the refusal changes nothing); a malformed
     * command is ignored alike by every replica and answers null.
     */
    @Override
    public Object apply(Entry entry) {
        if (entry.index() <= appliedIndex) {
            return null;
        }
        appliedIndex = entry.index();
        if (entry.kind() != Entry.Kind.COMMAND || entry.data().length == 0) {
            return null;
        }
        if (entry.data()[0] == MEMBER_COMMAND_MARK) {
            return applyMemberCommand(entry.data());
        }
        String command = new String(entry.data(), StandardCharsets.UTF_8);
        int eq = command.indexOf('=');
        if (eq <= 0 || isReserved(command.substring(0, eq))) {
            return null; // malformed: every replica ignores it alike
        }
        return data.put(command.substring(0, eq), command.substring(eq + 1));
    }

    private Object applyMemberCommand(byte[] bytes) {
        MetaCommand c;
        try {
            c = MetaCommand.parseFrom(ByteBuffer.wrap(bytes, 1, bytes.length - 1));
        } catch (InvalidProtocolBufferException e) {
            return null;
        }
        if (c.getOpCase() == MetaCommand.OpCase.SHARD_MAP) {
            ShardState.Outcome outcome = shards.apply(c.getShardMap());
            if (outcome.state() != shards) {
                shards = outcome.state();
                shardListener.run();
            }
            return outcome.answer();
        }
        MemberTable t = members;
        MemberTable.Change change = switch (c.getOpCase()) {
            case SEED -> t.seed(c.getSeed().getClusterId(),
                    c.getSeed().getMembersList().stream().map(Member::fromProto).toList());
            case ADD -> t.add(Member.fromProto(c.getAdd().getMember()));
            case PUBLISH -> t.publish(c.getPublish().getName(), c.getPublish().getPeerUrlsList(),
                    c.getPublish().getClientUrlsList(), NodeLabels.fromProto(c.getPublish().getLabels()));
            case PROMOTE -> t.promote(c.getPromote().getId());
            case UPDATE -> t.update(c.getUpdate().getId(), c.getUpdate().getPeerUrlsList());
            case REMOVE -> t.remove(c.getRemove().getId());
            case SHARD_MAP, OP_NOT_SET -> null;
        };
        if (change instanceof MemberTable.Changed changed && changed.table() != t) {
            store(changed.table());
        }
        return change;
    }

    /** Writes the table into the map (the part that differs) and publishes it. */
    private void store(MemberTable table) {
        if (table.clusterId() != 0) {
            data.put(CLUSTER_ID_KEY, Long.toHexString(table.clusterId()));
        }
        for (Member m : table.members()) {
            String encoded = Base64.getEncoder().encodeToString(m.toProto().toByteArray());
            data.put(memberKey(m.id()), encoded);
        }
        members = table;
    }

    private static MemberTable tableOf(Map<String, String> data) {
        String id = data.get(CLUSTER_ID_KEY);
        var list = new ArrayList<Member>();
        for (var e : data.entrySet()) {
            if (e.getKey().startsWith(MEMBER_PREFIX)) {
                try {
                    list.add(Member.fromProto(MemberRecord.parseFrom(Base64.getDecoder().decode(e.getValue()))));
                } catch (InvalidProtocolBufferException | IllegalArgumentException damaged) {
                    throw new IllegalStateException("META_CORRUPT: member record " + e.getKey() + " does not decode",
                            damaged);
                }
            }
        }
        return id == null && list.isEmpty() ? MemberTable.EMPTY
                : new MemberTable(id == null ? 0 : Long.parseUnsignedLong(id, 16), list);
    }

    private static ShardState shardStateOf(String encoded) {
        try {
            return ShardState.fromProto(ShardMapState.parseFrom(Base64.getDecoder().decode(encoded)));
        } catch (InvalidProtocolBufferException | RuntimeException damaged) {
            throw new IllegalStateException("META_CORRUPT: the shard state does not decode", damaged);
        }
    }

    private static String memberKey(long id) {
        return MEMBER_PREFIX + String.format("%016x", id);
    }

    private static boolean isReserved(String key) {
        return key.equals(CLUSTER_ID_KEY) || key.startsWith(MEMBER_PREFIX) || key.equals(SHARD_STATE_KEY);
    }

    @Override
    public long appliedIndex() {
        return appliedIndex;
    }

    @Override
    public byte[] snapshotData() {
        var sb = new StringBuilder();
        for (var e : data.entrySet()) {
            sb.append(e.getKey()).append('=').append(e.getValue()).append('\n');
        }
        ShardState s = shards;
        if (s != ShardState.EMPTY) {
            sb.append(SHARD_STATE_KEY).append('=')
                    .append(Base64.getEncoder().encodeToString(s.toProto().toByteArray())).append('\n');
        }
        byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(8 + body.length).putLong(appliedIndex).put(body).array();
    }

    @Override
    public void install(Snapshot snapshot) {
        var installed = new ConcurrentSkipListMap<String, String>();
        if (snapshot.data().length > 0) {
            ByteBuffer b = ByteBuffer.wrap(snapshot.data());
            b.getLong();
            byte[] body = new byte[b.remaining()];
            b.get(body);
            for (String line : new String(body, StandardCharsets.UTF_8).split("\n")) {
                if (!line.isEmpty()) {
                    int eq = line.indexOf('=');
                    installed.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
        }
        members = tableOf(installed);
        String shardState = installed.remove(SHARD_STATE_KEY);
        shards = shardState == null ? ShardState.EMPTY : shardStateOf(shardState);
        data = installed;
        appliedIndex = snapshot.index();
        shardListener.run();
    }

    /** A copy of every key, for tests and status pages. */
    public Map<String, String> contents() {
        var copy = new TreeMap<String, String>();
        data.forEach(copy::put);
        return copy;
    }

    @Override
    public void close() {
    }
}
