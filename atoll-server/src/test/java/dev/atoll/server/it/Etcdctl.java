package dev.atoll.server.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Debian's etcdctl (3.4, API v3) run against members of a test cluster; what it prints, as a user sees it. */
final class Etcdctl {
    static final Path BINARY = Path.of("/usr/bin/etcdctl");
    private static final long CALL_SECONDS = 10;

    private Etcdctl() {
    }

    static boolean installed() {
        return Files.isExecutable(BINARY);
    }

    /** Exit code and output (stdout and stderr, minus the client library's JSON warnings). */
    record Result(int exitCode, String output) {
        List<String> lines() {
            return output.lines().toList();
        }

        @Override
        public String toString() {
            return "exit " + exitCode + ": " + output;
        }
    }

    static Result run(List<ServerProcess> members, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(BINARY.toString(),
                "--endpoints=" + String.join(",", members.stream().map(s -> "127.0.0.1:" + s.clientPort).toList()),
                "--dial-timeout=5s", "--command-timeout=" + CALL_SECONDS + "s"));
        command.addAll(List.of(args));
        var builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("ETCDCTL_API", "3");
        Process process = builder.start();
        process.getOutputStream().close();
        byte[] out = process.getInputStream().readAllBytes();
        if (!process.waitFor(CALL_SECONDS + 5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("etcdctl did not finish: " + List.of(args));
        }
        // clientv3's retry interceptor logs a JSON line at warn level before etcdctl prints the error
        var kept = new ArrayList<String>();
        for (String line : new String(out, StandardCharsets.UTF_8).lines().toList()) {
            String stripped = line.replaceAll("\\{\"level\":\"warn\".*?\\}", "");
            if (stripped.isEmpty() && !line.isEmpty()) {
                continue; // the line was only the warning
            }
            kept.add(stripped);
        }
        String text = String.join("\n", kept);
        return new Result(process.exitValue(), text);
    }
}
