package dev.atoll.server.cluster;

import dev.atoll.proto.meta.NodeLabelsRecord;

import java.util.regex.Pattern;

/**
 * Where a node runs and how much it may hold: what placement reads (a shard's replicas spread
 * over regions, then zones; a geo shard's replicas stay in its region; bytes weigh against
 * capacity). A node states them in its configuration ({@code region}, {@code zone},
 * {@code capacity-bytes}) and publishes them with its name, so a restart with new labels
 * updates them.
 *
 * @param region        e.g. {@code eu-west}; {@code default} when not configured
 * @param zone          e.g. {@code eu-west-1a}; empty when not configured: the node is then a
 *                      zone of its own
 * @param capacityBytes how much shard data the node should hold, relative to the others
 */
public record NodeLabels(String region, String zone, long capacityBytes) {
    public static final String REGION_DEFAULT = "default";
    public static final long CAPACITY_BYTES_DEFAULT = 1L << 40;
    private static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

    /** What a node that configured nothing has. */
    public static final NodeLabels DEFAULT = new NodeLabels(REGION_DEFAULT, "", CAPACITY_BYTES_DEFAULT);

    public NodeLabels {
        if (region == null || !NAME.matcher(region).matches()) {
            throw new IllegalArgumentException("region: 1-64 of [a-z0-9._-], starting with a letter or digit: " + region);
        }
        zone = zone == null ? "" : zone;
        if (!zone.isEmpty() && !NAME.matcher(zone).matches()) {
            throw new IllegalArgumentException("zone: 1-64 of [a-z0-9._-], starting with a letter or digit: " + zone);
        }
        if (capacityBytes <= 0) {
            throw new IllegalArgumentException("capacity-bytes: must be positive: " + capacityBytes);
        }
    }

    /** The zone placement counts the node in: its own name when none is configured. */
    public String zoneOr(String nodeName) {
        return zone.isEmpty() ? nodeName : zone;
    }

    public NodeLabelsRecord toProto() {
        return NodeLabelsRecord.newBuilder().setRegion(region).setZone(zone).setCapacityBytes(capacityBytes).build();
    }

    /** The labels a record holds; a member that never published any has the defaults. */
    public static NodeLabels fromProto(NodeLabelsRecord r) {
        if (r.getRegion().isEmpty()) {
            return DEFAULT;
        }
        return new NodeLabels(r.getRegion(), r.getZone(),
                r.getCapacityBytes() == 0 ? CAPACITY_BYTES_DEFAULT : r.getCapacityBytes());
    }

    @Override
    public String toString() {
        return "region=" + region + (zone.isEmpty() ? "" : " zone=" + zone) + " capacity=" + capacityBytes;
    }
}
