package dev.atoll.storage.mvcc;

import java.nio.file.Path;
import java.util.List;

/** A consistent checkpoint: the Raft position and store revision it holds, and its files. */
public record CheckpointInfo(Path dir, LogPosition applied, long revision, List<CheckpointFile> files) {
}
