package dev.atoll.server.runtime;

import dev.atoll.core.protocol.Entry;
import dev.atoll.core.protocol.Membership;
import dev.atoll.core.protocol.Snapshot;
import dev.atoll.proto.meta.AddMember;
import dev.atoll.proto.meta.MemberRecord;
import dev.atoll.proto.meta.MetaCommand;
import dev.atoll.proto.meta.PublishMember;
import dev.atoll.proto.meta.RemoveMember;
import dev.atoll.proto.meta.SeedMembers;
import dev.atoll.server.cluster.MemberError;
import dev.atoll.server.cluster.MemberIds;
import dev.atoll.server.cluster.MemberTable;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The meta group's state machine: plain keys, the member table, and snapshots of both. */
class MetaStateMachineTest {
    private final MetaStateMachine sm = new MetaStateMachine();
    private long index;

    private Object apply(byte[] command) {
        return sm.apply(new Entry(++index, 1, Entry.Kind.COMMAND, command));
    }

    private Object apply(MetaCommand command) {
        return apply(MetaStateMachine.command(command));
    }

    private static MetaCommand seed() {
        return MetaCommand.newBuilder().setSeed(SeedMembers.newBuilder().setClusterId(0xc1)
                .addMembers(MemberRecord.newBuilder().setId(MemberIds.ofName("n1")).setName("n1")
                        .addPeerUrls("http://127.0.0.1:2380"))
                .addMembers(MemberRecord.newBuilder().setId(MemberIds.ofName("n2")).setName("n2")
                        .addPeerUrls("http://127.0.0.1:2381"))).build();
    }

    private static MetaCommand add(long id, String peer) {
        return MetaCommand.newBuilder().setAdd(AddMember.newBuilder().setMember(
                MemberRecord.newBuilder().setId(id).addPeerUrls(peer))).build();
    }

    @Test
    void memberCommandsAnswerTheChangeAndRefusalsChangeNothing() {
        apply(seed());
        Object added = apply(add(5, "http://127.0.0.1:2390"));
        assertThat(added).isInstanceOf(MemberTable.Changed.class);
        Map<String, String> before = sm.contents();
        MemberTable tableBefore = sm.members();

        // the same id again (etcd: two adds of the same URLs within one second)
        assertThat(apply(add(5, "http://127.0.0.1:2391"))).isEqualTo(new MemberTable.Refused(MemberError.MEMBER_EXISTS));
        assertThat(apply(add(6, "http://127.0.0.1:2381"))).isEqualTo(new MemberTable.Refused(MemberError.PEER_URL_EXISTS));
        assertThat(apply(MetaCommand.newBuilder().setRemove(RemoveMember.newBuilder().setId(99)).build()))
                .isEqualTo(new MemberTable.Refused(MemberError.MEMBER_NOT_FOUND));
        assertThat(sm.contents()).isEqualTo(before);
        assertThat(sm.members()).isEqualTo(tableBefore);
        assertThat(sm.appliedIndex()).isEqualTo(index);
    }

    @Test
    void theTableSurvivesASnapshotAndPlainKeysCannotTouchIt() {
        apply(seed());
        apply(add(5, "http://127.0.0.1:2390"));
        apply(MetaCommand.newBuilder().setPublish(PublishMember.newBuilder().setName("n3")
                .addPeerUrls("http://127.0.0.1:2390").addClientUrls("http://127.0.0.1:2379")).build());
        apply(MetaStateMachine.set("shard/map", "v1"));
        apply(("member/0000000000000005=forged").getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> MetaStateMachine.set("member/1", "x")).isInstanceOf(IllegalArgumentException.class);

        var copy = new MetaStateMachine();
        copy.install(new Snapshot(index, 1, Membership.ofVoters(Set.of()), sm.snapshotData()));
        assertThat(copy.members()).isEqualTo(sm.members());
        assertThat(copy.members().clusterId()).isEqualTo(0xc1);
        assertThat(copy.members().currentByName("n3").orElseThrow().id()).isEqualTo(5);
        assertThat(copy.get("shard/map")).isEqualTo("v1");
        assertThat(copy.contents()).isEqualTo(sm.contents());
    }

    @Test
    void aSecondSeedChangesNothing() {
        apply(seed());
        MemberTable seeded = sm.members();
        apply(MetaCommand.newBuilder().setSeed(SeedMembers.newBuilder().setClusterId(0xdead)
                .addMembers(MemberRecord.newBuilder().setId(7).setName("other").addPeerUrls("http://x:1"))).build());
        assertThat(sm.members()).isEqualTo(seeded);
    }
}
