package io.tributary.spi;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/**
 * A table's commit to the lake, as announced to other systems: the Iceberg snapshot a layer's
 * table is at after it.
 *
 * @param pipeline       the pipeline that committed
 * @param layer          {@code bronze}, {@code silver} or {@code gold} (history tables are silver's)
 * @param table          the table's name in its layer, e.g. {@code orders} or {@code orders_history}
 * @param snapshotId     the table's current Iceberg snapshot id after the commit
 * @param position       the source position the snapshot holds changes through, when it records one
 *                       ({@link SourcePosition#encoded()}); gold tables carry none
 * @param addedRecords   rows the commit's snapshot added (Iceberg's {@code added-records} summary)
 * @param deletedRecords rows it removed, by position deletes or rewritten files
 *                       ({@code deleted-records} plus {@code added-position-deletes})
 * @param committedAt    the snapshot's commit time
 */
public record LakeCommit(String pipeline, String layer, String table, long snapshotId, Optional<String> position, long addedRecords,
                         long deletedRecords, Instant committedAt) {
    public LakeCommit {
        requireNonNull(pipeline, "pipeline is null");
        requireNonNull(layer, "layer is null");
        requireNonNull(table, "table is null");
        requireNonNull(position, "position is null");
        requireNonNull(committedAt, "committedAt is null");
    }
}
