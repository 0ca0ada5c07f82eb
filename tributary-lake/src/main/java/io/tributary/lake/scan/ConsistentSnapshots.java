package io.tributary.lake.scan;

import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/**
 * Chooses, per table, the snapshot that a transaction-consistent read of the lake sees.
 *
 * <p>The lake commits the tables a micro-batch touches one by one, and a source transaction larger
 * than a micro-batch across several micro-batches, so the current snapshots of two tables may hold
 * different parts of one transaction. The state table records the end of the last transaction
 * every table holds in full (its consistent position). Reading each table at its newest snapshot
 * whose <em>effective position</em> is at or before that position shows every source transaction
 * either whole or not at all, in every table together.
 *
 * <p>A snapshot's effective position is its own {@value SnapshotPositions#POSITION} stamp (Iceberg
 * spec, "Snapshots": the summary is a free string map), or for a snapshot without one (a
 * maintenance rewrite, a compaction) that of its nearest stamped ancestor: such snapshots change
 * files, not rows. A snapshot without a stamped ancestor (a table not written by the pipeline) is
 * before every position. Only the current snapshot's ancestry counts (Iceberg spec, "Snapshot
 * ancestry"); an expired ancestor ends the walk.
 */
public final class ConsistentSnapshots {
    private ConsistentSnapshots() {
    }

    /** The position of the source change {@code snapshot} holds data through, empty when no ancestor is stamped. */
    public static Optional<SourcePosition> effectivePosition(Table table, Snapshot snapshot) {
        for (Snapshot s = snapshot; s != null; s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            String position = s.summary().get(SnapshotPositions.POSITION);
            if (position != null) {
                return Optional.of(SourcePosition.decode(position));
            }
        }
        return Optional.empty();
    }

    /**
     * The newest snapshot of the current snapshot's ancestry whose effective position is at or
     * before {@code consistent}; empty when the table has none (it was created, or first written,
     * after that position: it then reads as empty).
     *
     * @throws TributaryException LAKE_IO_FAILED when none is left because older snapshots were
     *                            expired: the table would otherwise read as empty
     */
    public static Optional<Snapshot> at(Table table, SourcePosition consistent) {
        List<Snapshot> ancestry = new ArrayList<>();
        for (Snapshot s = table.currentSnapshot(); s != null; s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            ancestry.add(s);
        }
        Snapshot oldest = ancestry.isEmpty() ? null : ancestry.get(ancestry.size() - 1);
        boolean expired = oldest != null && oldest.parentId() != null;
        // Oldest first, carrying the nearest stamp forward; unknown (null) for unstamped snapshots
        // whose stamped ancestor was expired.
        SourcePosition effective = expired ? null : SourcePosition.BEGINNING;
        Snapshot chosen = null;
        for (int i = ancestry.size() - 1; i >= 0; i--) {
            Snapshot s = ancestry.get(i);
            String stamp = s.summary().get(SnapshotPositions.POSITION);
            if (stamp != null) {
                effective = SourcePosition.decode(stamp);
            }
            if (effective != null && !effective.isAfter(consistent)) {
                chosen = s;
            }
        }
        if (chosen == null && expired) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read " + table.name() + " at the consistent position " + consistent
                    + ": its snapshots up to it were expired (the oldest kept, " + oldest.snapshotId() + ", is at "
                    + effectivePosition(table, oldest).map(Object::toString).orElse("no position")
                    + "). Snapshot expiry must keep each table's newest snapshot at or before the state table's consistent position", null);
        }
        return Optional.ofNullable(chosen);
    }
}
