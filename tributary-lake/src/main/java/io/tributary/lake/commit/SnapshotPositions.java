package io.tributary.lake.commit;

import io.tributary.spi.SourcePosition;
import java.util.Optional;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.Table;

/**
 * The source position a table has committed through, kept in each Tributary snapshot's summary
 * under {@value #POSITION} (Iceberg spec, "Snapshots": summary is a free string map).
 * Snapshots written by others (maintenance) are skipped when reading.
 */
public final class SnapshotPositions {
    public static final String POSITION = "tributary.position";
    public static final String PIPELINE = "tributary.pipeline";
    public static final String OFFSET = "tributary.offset";

    private SnapshotPositions() {
    }

    public static Optional<SourcePosition> committed(Table table) {
        for (Snapshot s = table.currentSnapshot(); s != null; s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            String position = s.summary().get(POSITION);
            if (position != null) {
                return Optional.of(SourcePosition.decode(position));
            }
        }
        return Optional.empty();
    }

    /**
     * The newest snapshot on the current snapshot's parent chain whose effective position (its own
     * stamp, or that of its newest stamped ancestor; {@link SourcePosition#BEGINNING} for none) is at
     * or below {@code position}; empty when every snapshot of the chain is past it or the table has
     * none.
     */
    public static Optional<Snapshot> newestAtOrBelow(Table table, SourcePosition position) {
        java.util.List<Snapshot> chain = new java.util.ArrayList<>();
        for (Snapshot s = table.currentSnapshot(); s != null; s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            chain.add(s);
        }
        SourcePosition effective = SourcePosition.BEGINNING;
        Snapshot newest = null;
        for (int i = chain.size() - 1; i >= 0; i--) {
            String stamped = chain.get(i).summary().get(POSITION);
            if (stamped != null) {
                effective = SourcePosition.decode(stamped);
            }
            if (effective.isAfter(position)) {
                break;
            }
            newest = chain.get(i);
        }
        return Optional.ofNullable(newest);
    }

    public static <T extends SnapshotUpdate<T>> T stamp(T update, String pipeline, SourcePosition position) {
        return update.set(POSITION, position.encoded()).set(PIPELINE, pipeline);
    }
}
