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

    public static <T extends SnapshotUpdate<T>> T stamp(T update, String pipeline, SourcePosition position) {
        return update.set(POSITION, position.encoded()).set(PIPELINE, pipeline);
    }
}
