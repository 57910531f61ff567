package dev.atoll.shard;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.TreeSet;

import static dev.atoll.core.Check.checkArgument;

/** How a keyspace maps keys to shards. */
public sealed interface Sharding {
    /** Contiguous byte-ordered key ranges, split and merged by size and load. */
    record Range() implements Sharding {
    }

    /**
     * A fixed space of {@code slotCount} hash slots (CRC16 of the key or its {tag}, as Redis
     * Cluster) divided among the shards. A power of two, at most 65536 (CRC16's range).
     */
    record Hash(int slotCount) implements Sharding {
        public static final int SLOT_COUNT_DEFAULT = 16384;

        public Hash {
            checkArgument(slotCount >= 1 && slotCount <= 65536 && Integer.bitCount(slotCount) == 1,
                    "slotCount is a power of two in [1, 65536]: %d", slotCount);
        }
    }

    /**
     * An explicit table of keys and key prefixes to shards; keys it does not name go by the
     * default rule, a jump hash over the keyspace's initial shards.
     */
    record Directory() implements Sharding {
    }

    /**
     * A key's leading component, up to the first {@code delimiter}, names its region ("eu/u42" is
     * in eu); keys that name no listed region belong to {@code homeRegion}. A shard holds keys of
     * one region only and has replicas only on nodes of that region.
     */
    record Geo(byte delimiter, List<String> regions, String homeRegion) implements Sharding {
        public static final int REGIONS_MAX = 64;

        public Geo {
            var sorted = new TreeSet<>(regions);
            checkArgument(!sorted.isEmpty() && sorted.size() <= REGIONS_MAX && sorted.size() == regions.size(),
                    "1 to %d distinct regions: %s", REGIONS_MAX, regions);
            for (String r : sorted) {
                byte[] name = r.getBytes(StandardCharsets.UTF_8);
                boolean hasDelimiter = false;
                for (byte b : name) {
                    hasDelimiter |= b == delimiter;
                }
                checkArgument(name.length >= 1 && name.length <= 64 && !hasDelimiter,
                        "a region name is 1-64 bytes without the delimiter: %s", r);
            }
            checkArgument(sorted.contains(homeRegion), "the home region %s is one of %s", homeRegion, sorted);
            regions = List.copyOf(sorted);
        }

        /** Every key of {@code region} starts with this: the region's name and the delimiter. */
        public Key prefixOf(String region) {
            byte[] name = region.getBytes(StandardCharsets.UTF_8);
            byte[] prefix = java.util.Arrays.copyOf(name, name.length + 1);
            prefix[name.length] = delimiter;
            return Key.of(prefix);
        }
    }
}
