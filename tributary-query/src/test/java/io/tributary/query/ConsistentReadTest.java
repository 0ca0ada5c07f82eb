package io.tributary.query;

import static io.tributary.query.HandBuiltTables.at;
import static io.tributary.query.HandBuiltTables.position;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.commit.CommittedState;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.commit.StateTable;
import io.tributary.lake.scan.LakeView;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.Row;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import io.tributary.lake.scan.ConsistentSnapshots;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads at the state table's consistent position: every source transaction in all its tables or in none. */
class ConsistentReadTest {
    private static final TableSchema ORDERS = new TableSchema(new TableId("public", "orders"), List.of(
            Column.required("id", ColumnType.Primitive.INT64, "int8"), Column.nullable("note", ColumnType.Primitive.STRING, "text")), List.of("id"));
    private static final TableSchema CUSTOMERS = new TableSchema(new TableId("public", "customers"), List.of(
            Column.required("id", ColumnType.Primitive.INT64, "int8"), Column.nullable("note", ColumnType.Primitive.STRING, "text")), List.of("id"));
    private static final SourceOffset OFFSET = new SourceOffset("{}");

    @TempDir
    Path dir;

    @Test
    void readsEachTableAtItsNewestSnapshotNotAfterTheConsistentPositionThroughUnstampedRewrites() {
        LakeConfig config = new LakeConfig(dir, LakeConfig.RawLayer.DISABLED);
        try (Lake lake = Lake.open(config, "test", t -> TableOptions.DEFAULT)) {
            LakeCatalog catalog = lake.catalog();
            Table a = HandBuiltTables.create(catalog, "silver", "a", HandBuiltTables.SILVER);
            DataFile first = HandBuiltTables.appendSilver(catalog, a, List.<Object[]>of(new Object[] {1L, "one"}), at("10:00"), position(100, 0));
            DataFile second = HandBuiltTables.appendSilver(catalog, a, List.<Object[]>of(new Object[] {2L, "two"}), at("11:00"), position(200, 1));
            // A compaction: one file for both, in a snapshot without a position stamp, on top.
            DataFile compacted = new DataFiles(a).write(HandBuiltTables.silverRecords(a,
                    List.<Object[]>of(new Object[] {1L, "one"}, new Object[] {2L, "two"}), at("11:00"), position(200, 1)), null);
            catalog.commit(a.newRewrite().deleteFile(first).deleteFile(second).addFile(compacted));
            a.refresh();
            Table late = HandBuiltTables.create(catalog, "silver", "late", HandBuiltTables.SILVER);
            HandBuiltTables.appendSilver(catalog, late, List.<Object[]>of(new Object[] {9L, "nine"}), at("12:00"), position(300, 0));
            Table outside = HandBuiltTables.create(catalog, "gold", "outside", HandBuiltTables.SILVER);
            HandBuiltTables.appendSilver(catalog, outside, List.<Object[]>of(new Object[] {5L, "five"}), at("12:00"), null);

            assertThat(ids(lake.consistentView(), "silver.a")).as("no state recorded: current snapshots").containsExactly(1L, 2L);

            StateTable state = new StateTable(catalog, "test");
            state.record(position(300, 0), OFFSET, Instant.now(), position(200, 1));
            LakeView view = lake.consistentView();
            assertThat(view.consistent()).contains(position(200, 1));
            assertThat(ids(view, "silver.a")).as("the unstamped rewrite on top counts at its parent's position").containsExactly(1L, 2L);
            assertThat(view.tables()).filteredOn(t -> t.name().equals("a")).singleElement()
                    .satisfies(t -> assertThat(t.snapshotId()).contains(a.currentSnapshot().snapshotId()));
            assertThat(ids(view, "silver.late")).as("first written after the consistent position").isEmpty();
            assertThat(ids(view, "gold.outside")).as("never stamped: before every position").containsExactly(5L);

            state.record(position(300, 0), OFFSET, Instant.now(), position(199, 9));
            assertThat(ids(lake.consistentView(), "silver.a")).containsExactly(1L);

            // A stamped snapshot after the rewrite: the rewrite is still what (200, 1) reads.
            HandBuiltTables.appendSilver(catalog, a, List.<Object[]>of(new Object[] {3L, "three"}), at("12:00"), position(300, 0));
            state.record(position(300, 0), OFFSET, Instant.now(), position(200, 1));
            assertThat(ids(lake.consistentView(), "silver.a")).containsExactly(1L, 2L);
            state.record(position(300, 0), OFFSET, Instant.now());
            assertThat(ids(lake.consistentView(), "silver.a")).containsExactly(1L, 2L, 3L);
            assertThat(ids(lake.consistentView(), "silver.late")).containsExactly(9L);
        }
    }

    @Test
    void refusesToReadATableWhoseSnapshotsUpToTheConsistentPositionWereExpired() {
        try (LakeCatalog catalog = LakeCatalog.open(dir)) {
            Table a = HandBuiltTables.create(catalog, "silver", "a", HandBuiltTables.SILVER);
            HandBuiltTables.appendSilver(catalog, a, List.<Object[]>of(new Object[] {1L, "one"}), at("10:00"), position(100, 0));
            long first = a.currentSnapshot().snapshotId();
            HandBuiltTables.appendSilver(catalog, a, List.<Object[]>of(new Object[] {2L, "two"}), at("11:00"), position(200, 0));
            long second = a.currentSnapshot().snapshotId();
            HandBuiltTables.appendSilver(catalog, a, List.<Object[]>of(new Object[] {3L, "three"}), at("12:00"), position(300, 0));
            catalog.commit(a.expireSnapshots().expireSnapshotId(first).cleanExpiredFiles(false));
            a.refresh();
            assertThat(ConsistentSnapshots.at(a, position(250, 0))).map(Snapshot::snapshotId).contains(second);

            catalog.commit(a.expireSnapshots().expireSnapshotId(second).cleanExpiredFiles(false));
            a.refresh();
            assertThatThrownBy(() -> ConsistentSnapshots.at(a, position(250, 0)))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.LAKE_IO_FAILED))
                    .hasMessageContaining("silver.a at the consistent position " + position(250, 0))
                    .hasMessageContaining("were expired");
            assertThat(ConsistentSnapshots.at(a, position(300, 0))).map(Snapshot::snapshotId).contains(a.currentSnapshot().snapshotId());
        }
    }

    @Test
    void aStateRecordedWithoutAConsistentPositionIsConsistentAtItsWatermark() {
        try (LakeCatalog catalog = LakeCatalog.open(dir)) {
            new StateTable(catalog, "test").record(position(100, 0), OFFSET, Instant.now());
            Table state = catalog.load(StateTable.ID).orElseThrow();
            // As a lake written before the consistent position existed records it.
            catalog.commit(SnapshotPositions.stamp(state.newAppend(), "test", position(200, 3)).set(SnapshotPositions.OFFSET, "{}"));
            assertThat(new StateTable(catalog, "test").read()).map(CommittedState::consistent).contains(position(200, 3));
        }
    }

    /**
     * One source transaction at LSN 200 changes both tables and is larger than a micro-batch: it is
     * committed in three parts. Until its last part commits, the consistent position stays at the
     * transaction before it and a consistent read shows none of it, while the current snapshots
     * already hold parts of it.
     */
    @Test
    void aTransactionSplitAcrossMicroBatchesBecomesVisibleInAllItsTablesAtOnce() {
        LakeConfig config = new LakeConfig(dir, LakeConfig.RawLayer.DISABLED);
        try (Lake lake = Lake.open(config, "test", t -> TableOptions.DEFAULT)) {
            List<ChangeEvent> before = List.of(insert(ORDERS, 100, 0, 0), insert(CUSTOMERS, 100, 1, 0));
            lake.commit(before, position(100, 1), OFFSET, Set.of());
            List<ChangeEvent> split = List.of(insert(ORDERS, 200, 0, 1), insert(ORDERS, 200, 1, 2), insert(ORDERS, 200, 2, 3),
                    insert(CUSTOMERS, 200, 3, 1), insert(CUSTOMERS, 200, 4, 2), insert(ORDERS, 200, 5, 4));
            List<List<ChangeEvent>> parts = List.of(split.subList(0, 2), split.subList(2, 4), split.subList(4, 6));
            for (int i = 0; i < parts.size(); i++) {
                List<ChangeEvent> part = parts.get(i);
                SourcePosition through = part.get(part.size() - 1).position();
                boolean last = i == parts.size() - 1;
                lake.commit(part, through, OFFSET, Set.of(), last ? through : position(100, 1));

                CommittedState state = lake.committedState().orElseThrow();
                assertThat(state.watermark()).isEqualTo(through);
                LakeView view = lake.consistentView();
                if (last) {
                    assertThat(state.consistent()).isEqualTo(position(200, 5));
                    assertThat(ids(view, "silver.orders")).containsExactly(0L, 1L, 2L, 3L, 4L);
                    assertThat(ids(view, "silver.customers")).containsExactly(0L, 1L, 2L);
                    assertThat(ids(view, "bronze.orders")).containsExactly(0L, 1L, 2L, 3L, 4L);
                } else {
                    assertThat(state.consistent()).as("part %d", i + 1).isEqualTo(position(100, 1));
                    assertThat(ids(view, "silver.orders")).as("part %d", i + 1).containsExactly(0L);
                    assertThat(ids(view, "silver.customers")).as("part %d", i + 1).containsExactly(0L);
                    assertThat(ids(view, "bronze.orders")).as("part %d", i + 1).containsExactly(0L);
                    assertThat(ids(new LakeView(view.consistent(), lake.tables()), "silver.orders")).as("current snapshots hold part %d", i + 1)
                            .hasSizeGreaterThan(1);
                }
            }
        }
    }

    /**
     * A micro-batch holding the end of one transaction and the start of the next (larger than a
     * batch) is consistent through the end of the first: each table gets a snapshot ending there.
     */
    @Test
    void aMicroBatchEndingInsideTheNextTransactionIsReadWholeUpToTheEndOfTheFirst() {
        LakeConfig config = new LakeConfig(dir, LakeConfig.RawLayer.DISABLED);
        try (Lake lake = Lake.open(config, "test", t -> TableOptions.DEFAULT)) {
            List<ChangeEvent> first = List.of(insert(ORDERS, 200, 0, 1), insert(CUSTOMERS, 200, 1, 1), insert(ORDERS, 200, 2, 2));
            lake.commit(first.subList(0, 2), position(200, 1), OFFSET, Set.of(), SourcePosition.BEGINNING);
            List<ChangeEvent> mixed = List.of(first.get(2), insert(ORDERS, 300, 0, 3), insert(CUSTOMERS, 300, 1, 3));
            lake.commit(mixed, position(300, 1), OFFSET, Set.of(), position(200, 2));

            assertThat(lake.committedState()).map(CommittedState::consistent).contains(position(200, 2));
            LakeView view = lake.consistentView();
            assertThat(ids(view, "silver.orders")).containsExactly(1L, 2L);
            assertThat(ids(view, "silver.customers")).containsExactly(1L);
            assertThat(ids(view, "bronze.orders")).containsExactly(1L, 2L);
            assertThat(ids(new LakeView(view.consistent(), lake.tables()), "silver.orders")).containsExactly(1L, 2L, 3L);
        }
    }

    private static ChangeEvent insert(TableSchema schema, long lsn, long index, long id) {
        return new ChangeEvent(ChangeOperation.CREATE, schema, null, Row.of(id, "n" + id), position(lsn, index), lsn, at("10:00").plusSeconds(lsn), null);
    }

    private static List<Long> ids(LakeView view, String table) {
        try (QueryEngine q = QueryEngine.open(view.tables())) {
            List<Long> out = new ArrayList<>();
            for (List<Object> row : q.query("SELECT id FROM " + table + " ORDER BY id").rows()) {
                out.add((Long) row.get(0));
            }
            return out;
        }
    }
}
