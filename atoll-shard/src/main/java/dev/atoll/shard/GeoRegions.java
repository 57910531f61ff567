package dev.atoll.shard;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The key space of a geo keyspace cut into region segments: each listed region owns the keys
 * starting with its name and the delimiter; every other key belongs to the home region.
 * Adjacent segments of one region are joined, so the segments tile the key space.
 */
public final class GeoRegions {
    /** A maximal run of keys that belong to one region. */
    public record Segment(KeyRange range, String region) {
    }

    private final Sharding.Geo geo;
    private final NavigableMap<Key, Segment> byStart = new TreeMap<>();

    public GeoRegions(Sharding.Geo geo) {
        this.geo = geo;
        var prefixed = new TreeMap<Key, String>();
        for (String r : geo.regions()) {
            prefixed.put(geo.prefixOf(r), r);
        }
        var segments = new ArrayList<Segment>();
        Key cursor = Key.MIN;
        for (Map.Entry<Key, String> e : prefixed.entrySet()) {
            KeyRange own = KeyRange.ofPrefix(e.getKey());
            if (cursor.compareTo(own.start()) < 0) {
                add(segments, new KeyRange(cursor, own.start()), geo.homeRegion());
            }
            add(segments, own, e.getValue());
            cursor = own.end();
        }
        if (!cursor.isEnd()) {
            add(segments, new KeyRange(cursor, Key.END), geo.homeRegion());
        }
        for (Segment s : segments) {
            byStart.put(s.range().start(), s);
        }
    }

    private static void add(List<Segment> segments, KeyRange range, String region) {
        if (!segments.isEmpty()) {
            Segment last = segments.getLast();
            if (last.region().equals(region) && last.range().end().equals(range.start())) {
                segments.set(segments.size() - 1, new Segment(new KeyRange(last.range().start(), range.end()), region));
                return;
            }
        }
        segments.add(new Segment(range, region));
    }

    public Sharding.Geo geo() {
        return geo;
    }

    /** The segments in key order; they tile the key space. */
    public List<Segment> segments() {
        return List.copyOf(byStart.values());
    }

    public String regionOf(Key key) {
        return byStart.floorEntry(key).getValue().region();
    }

    /** The one region all of {@code range}'s keys belong to, or empty if it straddles a region boundary. */
    public Optional<String> regionOf(KeyRange range) {
        Segment first = byStart.floorEntry(range.start()).getValue();
        return first.range().contains(range) ? Optional.of(first.region()) : Optional.empty();
    }
}
