package io.tributary.lake.maintenance;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * What maintenance did to one table ({@code layer.name}): live data and delete files of its current
 * snapshot before and after, the compaction outcome, table snapshots expired (and kept), orphan
 * files removed (or, in a dry run, found), the time taken, and why it failed if it did.
 */
public record TableReport(String table, int dataFilesBefore, int dataFilesAfter, int deleteFilesBefore, int deleteFilesAfter,
        CompactionOutcome compaction, int snapshotsExpired, int snapshotsKept, int orphansRemoved, Duration took, Optional<String> failure) {
    public TableReport {
        requireNonNull(table, "table is null");
        requireNonNull(compaction, "compaction is null");
        requireNonNull(took, "took is null");
        requireNonNull(failure, "failure is null");
    }
}
