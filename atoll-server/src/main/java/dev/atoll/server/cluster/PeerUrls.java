package dev.atoll.server.cluster;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Member URLs as etcd accepts them (its types.NewURLs): at least one; each {@code scheme://host:port}
 * with scheme http or https and no path. Accepted lists are trimmed and sorted, as etcd stores
 * them. Stateless.
 */
public final class PeerUrls {
    private PeerUrls() {
    }

    /** The URLs trimmed and sorted, or empty when any of them is not a member URL (etcd: bad URLs). */
    public static Optional<List<String>> parse(List<String> urls) {
        if (urls == null || urls.isEmpty()) {
            return Optional.empty();
        }
        var accepted = new ArrayList<String>(urls.size());
        for (String raw : urls) {
            String url = raw == null ? "" : raw.strip();
            if (endpoint(url).isEmpty()) {
                return Optional.empty();
            }
            accepted.add(url);
        }
        accepted.sort(null);
        return Optional.of(List.copyOf(accepted));
    }

    /** "host:port" of a member URL (what gRPC dials), or empty when it is not one. */
    public static Optional<String> endpoint(String url) {
        try {
            URI u = new URI(url);
            boolean schemeOk = "http".equals(u.getScheme()) || "https".equals(u.getScheme());
            boolean noPath = u.getRawPath() == null || u.getRawPath().isEmpty();
            if (!schemeOk || !noPath || u.getHost() == null || u.getPort() < 0 || u.getRawQuery() != null
                    || u.getRawFragment() != null || u.getRawUserInfo() != null) {
                return Optional.empty();
            }
            return Optional.of(u.getHost() + ":" + u.getPort());
        } catch (URISyntaxException e) {
            return Optional.empty();
        }
    }

    /** Whether the two lists name a common endpoint (host:port), whatever the scheme. */
    public static boolean shareEndpoint(List<String> a, List<String> b) {
        for (String x : a) {
            Optional<String> ex = endpoint(x);
            for (String y : b) {
                if (ex.isPresent() && ex.equals(endpoint(y))) {
                    return true;
                }
            }
        }
        return false;
    }
}
