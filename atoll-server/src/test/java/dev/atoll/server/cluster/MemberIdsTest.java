package dev.atoll.server.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class MemberIdsTest {
    @Test
    void anAddedMemberGetsEtcdsIdForItsUrlsAndSecond() {
        // etcd 3.4 answered "Member d695dd4f62f7eaf1 added" to MemberAdd of http://127.0.0.1:55555
        // at Unix second 1796083491 (etcdctl member add x --peer-urls=http://127.0.0.1:55555)
        assertThat(Long.toHexString(MemberIds.ofAddedMember(List.of("http://127.0.0.1:55555"), 1796083491L)))
                .isEqualTo("d695dd4f62f7eaf1");
        assertThat(MemberIds.ofAddedMember(List.of("http://127.0.0.1:55555"), 1796083492L))
                .isNotEqualTo(MemberIds.ofAddedMember(List.of("http://127.0.0.1:55555"), 1796083491L));
    }

    @Test
    void aFoundersIdDependsOnItsNameOnly() {
        assertThat(MemberIds.ofName("n1")).isEqualTo(MemberIds.ofName("n1")).isNotEqualTo(MemberIds.ofName("n2"))
                .isNotZero();
    }
}
