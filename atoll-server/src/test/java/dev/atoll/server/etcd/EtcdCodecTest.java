package dev.atoll.server.etcd;

import dev.atoll.storage.mvcc.MvccError;
import io.grpc.Status;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Store refusals and runtime failures answer with etcd's own status (api/v3rpc/rpctypes). */
class EtcdCodecTest {
    private static void assertMaps(MvccError error, Status.Code code, String message) {
        Status s = EtcdCodec.toStatus(error).getStatus();
        assertThat(s.getCode()).as(error.name()).isEqualTo(code);
        assertThat(s.getDescription()).as(error.name()).isEqualTo(message);
    }

    @Test
    void storeRefusalsMapToEtcdsCodesAndTexts() {
        assertMaps(MvccError.COMPACTED, Status.Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision has been compacted");
        assertMaps(MvccError.FUTURE_REVISION, Status.Code.OUT_OF_RANGE, "etcdserver: mvcc: required revision is a future revision");
        assertMaps(MvccError.EMPTY_KEY, Status.Code.INVALID_ARGUMENT, "etcdserver: key is not provided");
        assertMaps(MvccError.KEY_TOO_LARGE, Status.Code.INVALID_ARGUMENT, "etcdserver: request is too large");
        assertMaps(MvccError.VALUE_TOO_LARGE, Status.Code.INVALID_ARGUMENT, "etcdserver: request is too large");
        assertMaps(MvccError.TOO_MANY_OPS, Status.Code.INVALID_ARGUMENT, "etcdserver: too many operations in txn request");
        assertMaps(MvccError.TXN_TOO_DEEP, Status.Code.INVALID_ARGUMENT, "etcdserver: too many operations in txn request");
        assertMaps(MvccError.DUPLICATE_KEY, Status.Code.INVALID_ARGUMENT, "etcdserver: duplicate key given in txn request");
        assertMaps(MvccError.KEY_NOT_FOUND, Status.Code.INVALID_ARGUMENT, "etcdserver: key not found");
        assertMaps(MvccError.VALUE_PROVIDED, Status.Code.INVALID_ARGUMENT, "etcdserver: value is provided");
        assertMaps(MvccError.LEASE_PROVIDED, Status.Code.INVALID_ARGUMENT, "etcdserver: lease is provided");
        assertMaps(MvccError.LEASE_NOT_FOUND, Status.Code.NOT_FOUND, "etcdserver: requested lease not found");
        assertMaps(MvccError.LEASE_EXISTS, Status.Code.FAILED_PRECONDITION, "etcdserver: lease already exists");
        assertMaps(MvccError.LEASE_TTL_TOO_LARGE, Status.Code.OUT_OF_RANGE, "etcdserver: too large lease TTL");
        for (MvccError e : MvccError.values()) {
            assertThat(EtcdCodec.toStatus(e).getStatus().getDescription()).as(e.name()).startsWith("etcdserver: ");
        }
    }

    @Test
    void runtimeFailuresMapToEtcdsUnavailableErrors() {
        assertThat(EtcdCodec.noLeader().getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(EtcdCodec.noLeader().getStatus().getDescription()).isEqualTo("etcdserver: no leader");
        assertThat(EtcdGroup.statusOf(new java.util.concurrent.TimeoutException()).getStatus().getDescription())
                .isEqualTo("etcdserver: request timed out");
        assertThat(EtcdGroup.statusOf(new dev.atoll.server.runtime.ProposalFailedException(
                "proposal lost to a leader change", true)).getStatus().getDescription())
                .isEqualTo("etcdserver: leader changed");
        assertThat(EtcdGroup.statusOf(new dev.atoll.server.runtime.NotLeaderException(1, null)).getStatus()
                .getDescription()).isEqualTo("etcdserver: no leader");
        assertThat(EtcdCodec.requestTooLarge().getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
}
