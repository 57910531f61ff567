package dev.atoll.shard;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static dev.atoll.core.Check.check;

/** Routes by a {@link Directory} whose entries and default rule name only the keyspace's shards. */
public final class DirectoryPartitioner implements Partitioner {
    private final Directory directory;

    private DirectoryPartitioner(Directory directory) {
        this.directory = directory;
    }

    public static DirectoryPartitioner of(Directory directory, List<ShardDescriptor> shards) {
        check(directory != null, "a directory keyspace has a directory");
        Set<ShardId> ids = new TreeSet<>();
        for (ShardDescriptor s : shards) {
            check(s.span() instanceof ShardSpan.Directed, "a directory shard's keys are directed: %s", s);
            ids.add(s.id());
        }
        check(ids.containsAll(directory.referencedShards()), "the directory routes only to the keyspace's shards: %s not in %s",
                directory.referencedShards(), ids);
        return new DirectoryPartitioner(directory);
    }

    @Override
    public ShardId shardFor(Key key) {
        return directory.shardFor(key);
    }

    public Directory directory() {
        return directory;
    }
}
