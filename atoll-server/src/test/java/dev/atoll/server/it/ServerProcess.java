package dev.atoll.server.it;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One real {@code atoll server} process started from the test classpath, listening on
 * 127.0.0.1 with ports picked free; output goes to a log file next to its data. Stopped by PID
 * only: {@link #kill()} is SIGKILL (kill -9), {@link #stop()} is SIGTERM then SIGKILL.
 */
final class ServerProcess implements AutoCloseable {
    final String name;
    final int clientPort;
    final int peerPort;
    final Path dataDir;
    final Path logFile;
    private final List<String> command;
    private Process process;

    ServerProcess(String name, int clientPort, int peerPort, Path dataDir, String initialCluster,
                  String... extraArgs) {
        this.name = name;
        this.clientPort = clientPort;
        this.peerPort = peerPort;
        this.dataDir = dataDir;
        this.logFile = dataDir.resolveSibling(name + ".log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        command = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx256m",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), "dev.atoll.server.AtollServer",
                "--name", name, "--data-dir", dataDir.toString(),
                "--listen-client", "127.0.0.1:" + clientPort, "--listen-peer", "127.0.0.1:" + peerPort,
                "--initial-cluster", initialCluster));
        command.addAll(List.of(extraArgs));
    }

    /**
     * A port no one listens on, picked below the kernel's ephemeral range: a port the kernel
     * hands out could be taken by any outgoing connection (etcdctl's, a peer's) between this
     * pick and the server's bind, and then the server could not start.
     */
    static int freePort() {
        int below = ephemeralLow();
        for (int attempt = 0; attempt < 200; attempt++) {
            int port = java.util.concurrent.ThreadLocalRandom.current().nextInt(10_000, below);
            try (var s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress("127.0.0.1", port));
                return port;
            } catch (IOException taken) {
                // try another
            }
        }
        throw new IllegalStateException("no free port in 10000.." + below);
    }

    private static int ephemeralLow() {
        try {
            String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).strip();
            int low = Integer.parseInt(range.split("\\s+")[0]);
            return low > 11_000 ? low : 32_768;
        } catch (IOException | RuntimeException notLinux) {
            return 32_768;
        }
    }

    void start() throws IOException {
        Files.createDirectories(dataDir);
        process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .start();
    }

    /** Waits until the client port accepts connections (the process is serving). */
    void awaitListening(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + "; see " + logFile);
            }
            try (var s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", clientPort), 200);
                return;
            } catch (IOException notYet) {
                TimeUnit.MILLISECONDS.sleep(50);
            }
        }
        throw new IllegalStateException(name + " not listening on " + clientPort + " within " + timeout);
    }

    String endpoint() {
        return "http://127.0.0.1:" + clientPort;
    }

    /** Waits for the process to end by itself; its exit code, or empty if it still runs. */
    java.util.OptionalInt awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)
                ? java.util.OptionalInt.of(process.exitValue()) : java.util.OptionalInt.empty();
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    /** kill -STOP: the process keeps its connections and answers nothing, as a hung or paused node. */
    void pause() throws IOException, InterruptedException {
        signal("-STOP");
    }

    /** kill -CONT after {@link #pause()}. */
    void resume() throws IOException, InterruptedException {
        signal("-CONT");
    }

    private void signal(String signal) throws IOException, InterruptedException {
        if (alive()) {
            int code = new ProcessBuilder("kill", signal, Long.toString(process.pid())).inheritIO().start().waitFor();
            if (code != 0) {
                throw new IOException("kill " + signal + " " + process.pid() + " exited " + code);
            }
        }
    }

    /** kill -9: no shutdown hook, no flush. */
    void kill() throws InterruptedException {
        if (alive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    void stop() throws InterruptedException {
        if (alive()) {
            try {
                resume(); // a paused process would not act on SIGTERM
            } catch (IOException e) {
                process.destroyForcibly();
            }
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    String log() {
        try {
            return Files.exists(logFile) ? Files.readString(logFile) : "";
        } catch (IOException e) {
            return "(cannot read " + logFile + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }
}
