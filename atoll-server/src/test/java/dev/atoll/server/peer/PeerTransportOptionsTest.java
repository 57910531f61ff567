package dev.atoll.server.peer;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PeerTransportOptionsTest {
    @Test
    void defaultsAreValidAndFitABatchInTheGrpcLimit() {
        var o = PeerTransportOptions.defaults();
        assertThat(o.grpcMessageBytesMax()).isGreaterThan(o.batchBytesMax());
        assertThat(o.reconnectBackoffMillisMin()).isLessThanOrEqualTo(o.reconnectBackoffMillisMax());
    }

    @Test
    void nonsenseIsRejectedWithTheNameOfTheBound() {
        var o = PeerTransportOptions.defaults();
        assertThatThrownBy(() -> o.withOutbound(0, 10)).hasMessageContaining("outboundBytesMax");
        assertThatThrownBy(() -> o.withBatch(1 << 20, 20_000)).hasMessageContaining("batchMessagesMax");
        assertThatThrownBy(() -> o.withOutbound(1000, 10_000)).hasMessageContaining("batchBytesMax");
        assertThatThrownBy(() -> o.withReconnectBackoff(500, 100, 1000)).hasMessageContaining("reconnectBackoffMillisMin");
        assertThatThrownBy(() -> o.withReceiveWindowBytes(1000)).hasMessageContaining("receiveWindowBytes");
    }
}
