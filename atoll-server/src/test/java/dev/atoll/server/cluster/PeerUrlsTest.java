package dev.atoll.server.cluster;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class PeerUrlsTest {
    @Test
    void memberUrlsAreSchemeHostAndPortOnlyAndComeBackSorted() {
        assertThat(PeerUrls.parse(List.of(" http://127.0.0.1:2390 ", "https://b:1")))
                .contains(List.of("http://127.0.0.1:2390", "https://b:1"));
        assertThat(PeerUrls.endpoint("http://127.0.0.1:2390")).contains("127.0.0.1:2390");
    }

    @Test
    void whatEtcdCallsInvalidIsRefused() {
        for (String bad : List.of("foo", "127.0.0.1:2390", "ftp://a:1", "http://a", "http://a:1/path", "http://a:1?x",
                "unix://sock:1/x", "")) {
            assertThat(PeerUrls.parse(List.of(bad))).as(bad).isEmpty();
        }
        assertThat(PeerUrls.parse(List.of())).isEmpty();
    }

    @Test
    void endpointsAreComparedWhateverTheScheme() {
        assertThat(PeerUrls.shareEndpoint(List.of("http://a:1"), List.of("https://b:2", "https://a:1"))).isTrue();
        assertThat(PeerUrls.shareEndpoint(List.of("http://a:1"), List.of("http://a:2"))).isFalse();
    }
}
