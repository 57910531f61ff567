package dev.atoll.proto;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Real etcd clients against a grpc-netty server built on our generated KV base class: if they
 * can put and read back a value, our etcdserverpb/mvccpb definitions match etcd's on the wire
 * (method paths, message field numbers and types).
 */
class EtcdWireCompatibilityTest {
    private static final long CALL_TIMEOUT_SECONDS = 10;

    private static Server server;
    private static int port;

    @BeforeAll
    static void startServer() throws IOException {
        server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new MapKvService())
                .build()
                .start();
        port = server.getPort();
    }

    @AfterAll
    static void stopServer() throws InterruptedException {
        if (server != null) {
            server.shutdownNow();
            server.awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void jetcdPutThenGetSeesTheValue() throws Exception {
        try (Client client = Client.builder().endpoints("http://127.0.0.1:" + port).build()) {
            var kv = client.getKVClient();
            kv.put(bytes("jetcd/key"), bytes("value-1")).get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            kv.put(bytes("jetcd/other"), bytes("value-2")).get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);

            GetResponse one = kv.get(bytes("jetcd/key")).get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertThat(one.getKvs()).hasSize(1);
            assertThat(one.getKvs().getFirst().getValue().toString(StandardCharsets.UTF_8)).isEqualTo("value-1");
            assertThat(one.getKvs().getFirst().getVersion()).isEqualTo(1);
            assertThat(one.getHeader().getClusterId()).isEqualTo(MapKvService.CLUSTER_ID);

            GetResponse prefix = kv.get(bytes("jetcd/"), GetOption.builder().isPrefix(true).build())
                    .get(CALL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            assertThat(prefix.getKvs()).extracting(k -> k.getKey().toString(StandardCharsets.UTF_8))
                    .containsExactly("jetcd/key", "jetcd/other");
        }
    }

    @Test
    void etcdctlPutThenGetSeesTheValue() throws Exception {
        assumeTrue(etcdctlOnPath(), "etcdctl is not on PATH (Debian package etcd-client)");

        Result put = etcdctl("put", "etcdctl/key", "hello from etcdctl");
        assertThat(put.exitCode()).as(put.output()).isZero();
        assertThat(put.output().strip()).isEqualTo("OK");

        Result get = etcdctl("get", "etcdctl/key");
        assertThat(get.exitCode()).as(get.output()).isZero();
        assertThat(get.output().lines().toList()).containsExactly("etcdctl/key", "hello from etcdctl");

        Result json = etcdctl("get", "etcdctl/", "--prefix", "-w", "json");
        assertThat(json.exitCode()).as(json.output()).isZero();
        // the header we sent comes back through etcdctl's own decoding
        assertThat(json.output()).contains("\"cluster_id\":" + MapKvService.CLUSTER_ID).contains("\"count\":1");
    }

    private static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    private static boolean etcdctlOnPath() {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(dir, "etcdctl"))) {
                return true;
            }
        }
        return false;
    }

    private record Result(int exitCode, String output) {
    }

    private static Result etcdctl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("etcdctl", "--endpoints=127.0.0.1:" + port,
                "--dial-timeout=5s", "--command-timeout=" + CALL_TIMEOUT_SECONDS + "s"));
        command.addAll(List.of(args));
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("ETCDCTL_API", "3");
        Process process = builder.start();
        process.getOutputStream().close();
        if (!process.waitFor(CALL_TIMEOUT_SECONDS + 5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("etcdctl did not finish: " + command);
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(process.exitValue(), output);
    }
}
