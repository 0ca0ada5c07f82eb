package io.tributary.lake.commit;

import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;

/**
 * The pipeline's state table {@code tributary.state}: after every table of a micro-batch has
 * committed, an empty snapshot whose summary records the consistent watermark, the source offset
 * to resume from and the commit time. Its current snapshot is where a restart resumes.
 */
public final class StateTable {
    public static final TableIdentifier ID = TableIdentifier.of("tributary", "state");
    private static final String COMMITTED_AT = "tributary.committed-at";

    private final LakeCatalog catalog;
    private final String pipeline;

    public StateTable(LakeCatalog catalog, String pipeline) {
        this.catalog = catalog;
        this.pipeline = pipeline;
    }

    public Optional<CommittedState> read() {
        Optional<Table> table = catalog.load(ID);
        if (table.isEmpty()) {
            return Optional.empty();
        }
        Snapshot s = table.get().currentSnapshot();
        if (s == null || s.summary().get(SnapshotPositions.POSITION) == null) {
            return Optional.empty();
        }
        return Optional.of(new CommittedState(
                SourcePosition.decode(s.summary().get(SnapshotPositions.POSITION)),
                new SourceOffset(s.summary().get(SnapshotPositions.OFFSET)),
                Instant.parse(s.summary().getOrDefault(COMMITTED_AT, Instant.ofEpochMilli(s.timestampMillis()).toString()))));
    }

    public void record(SourcePosition watermark, SourceOffset offset, Instant committedAt) {
        Table table = catalog.ensure(ID, new Schema(List.of(Types.NestedField.optional(1, "unused", Types.StringType.get())), Set.of()),
                s -> PartitionSpec.unpartitioned());
        catalog.commit(SnapshotPositions.stamp(table.newAppend(), pipeline, watermark)
                .set(SnapshotPositions.OFFSET, offset.token())
                .set(COMMITTED_AT, committedAt.toString()));
    }
}
