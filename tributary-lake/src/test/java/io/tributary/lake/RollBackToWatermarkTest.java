package io.tributary.lake;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.commit.StateTable;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.Row;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline that stopped after committing its tables and before recording the micro-batch in the
 * state table leaves the tables ahead of the watermark. The micro-batch delivered again may hold
 * other events at the same positions (an incremental snapshot chunk read again after a row of it
 * was deleted): the tables must be rolled back to the watermark so nothing of it is skipped.
 */
class RollBackToWatermarkTest {
    private static final TableSchema ITEMS = schema("items");
    private static final TableSchema FRESH = schema("fresh");
    private static final Instant AT = Instant.parse("2026-11-20T10:00:00Z");

    @TempDir
    Path dir;

    @Test
    void tablesAheadOfTheWatermarkAreRolledBackSoAReplayWithOtherEventsLosesNothing() throws IOException {
        SourcePosition watermark = SourcePosition.ofSequence(100, 10);
        try (Lake lake = open()) {
            lake.acquireLease();
            lake.commit(reads(ITEMS, 1, 10, 1), watermark, new SourceOffset("first"), Set.of());
            // The next micro-batch reaches its tables, and the process dies before the state table.
            lake.commit(reads(ITEMS, 11, 20, 11), SourcePosition.ofSequence(100, 20), new SourceOffset("second"), Set.of());
            lake.commit(reads(FRESH, 1, 5, 21), SourcePosition.ofSequence(100, 25), new SourceOffset("third"), Set.of());
            new StateTable(lake.catalog(), "p").record(watermark, new SourceOffset("first"), AT);
            lake.releaseLease();
        }
        try (Lake lake = open()) {
            lake.acquireLease();
            List<String> rolledBack = lake.rollBackToWatermark();
            assertThat(rolledBack).hasSize(6);
            assertThat(rolledBack).filteredOn(l -> l.startsWith("Rolled back")).hasSize(3)
                    .anySatisfy(l -> assertThat(l).contains("bronze.items")).anySatisfy(l -> assertThat(l).contains("silver.items_history"));
            assertThat(rolledBack).filteredOn(l -> l.startsWith("Dropped")).hasSize(3).anySatisfy(l -> assertThat(l).contains("silver.fresh"));
            assertThat(SnapshotPositions.committed(lake.catalog().load(TableIdentifier.of("silver", "items")).orElseThrow())).contains(watermark);
            assertThat(lake.catalog().load(TableIdentifier.of("bronze", "fresh"))).isEmpty();
            assertThat(lake.rollBackToWatermark()).as("a second call finds nothing ahead").isEmpty();

            // Delivered again: row 11 was deleted meanwhile, so rows 12..21 take positions 11..20.
            List<ChangeEvent> replay = new ArrayList<>();
            for (int id = 12; id <= 21; id++) {
                replay.add(read(ITEMS, id, SourcePosition.ofSequence(100, id - 1)));
            }
            lake.commit(replay, SourcePosition.ofSequence(100, 20), new SourceOffset("second again"), Set.of());
            lake.commit(reads(FRESH, 1, 5, 21), SourcePosition.ofSequence(100, 25), new SourceOffset("third"), Set.of());

            List<Integer> expected = new ArrayList<>(IntStream.rangeClosed(1, 10).boxed().toList());
            expected.addAll(IntStream.rangeClosed(12, 21).boxed().toList());
            assertThat(ids(lake, "silver", "items")).containsExactlyElementsOf(expected);
            assertThat(ids(lake, "silver", "fresh")).containsExactly(1, 2, 3, 4, 5);
            List<Long> bronzePositions = new ArrayList<>();
            try (CloseableIterable<Record> rows = LiveRows.of(lake.catalog().load(TableIdentifier.of("bronze", "items")).orElseThrow())) {
                rows.forEach(r -> bronzePositions.add(SourcePosition.decode((String) r.getField("_position")).eventIndex()));
            }
            assertThat(bronzePositions).as("bronze holds each position once").doesNotHaveDuplicates().hasSize(20);
            assertThat(ids(lake, "silver", "items_history")).containsExactlyElementsOf(expected);
        }
    }

    /**
     * Bronze is written beside silver and its history: when bronze fails while they commit, the
     * micro-batch fails with bronze's cause, and delivered again it lands in bronze once while silver
     * and its history skip what they already hold.
     */
    @Test
    void aBronzeFailureBesideSilverFailsTheBatchAndItsDeliveryAgainLandsOnce() throws IOException {
        try (Lake lake = open()) {
            lake.acquireLease();
            lake.commit(reads(ITEMS, 1, 10, 1), SourcePosition.ofSequence(100, 10), new SourceOffset("first"), Set.of());
            // bronze.items cannot write data files: its data folder is a plain file for a while.
            String location = lake.catalog().load(TableIdentifier.of("bronze", "items")).orElseThrow().location();
            Path data = (location.startsWith("file:") ? Path.of(java.net.URI.create(location)) : Path.of(location)).resolve("data");
            Path aside = data.resolveSibling("data-aside");
            java.nio.file.Files.move(data, aside);
            java.nio.file.Files.writeString(data, "not a folder");
            SourcePosition second = SourcePosition.ofSequence(100, 20);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> lake.commit(reads(ITEMS, 11, 20, 11), second, new SourceOffset("second"), Set.of()))
                    .isInstanceOf(io.tributary.spi.TributaryException.class).hasMessageContaining("Cannot commit items");
            assertThat(ids(lake, "silver", "items")).as("silver committed beside the failed bronze").hasSize(20);

            java.nio.file.Files.delete(data);
            java.nio.file.Files.move(aside, data);
            assertThat(ids(lake, "bronze", "items")).as("bronze kept its earlier micro-batch only").hasSize(10);
            lake.commit(reads(ITEMS, 11, 20, 11), second, new SourceOffset("second"), Set.of());
            List<Integer> all = IntStream.rangeClosed(1, 20).boxed().toList();
            assertThat(ids(lake, "bronze", "items")).containsExactlyElementsOf(all);
            assertThat(ids(lake, "silver", "items")).containsExactlyElementsOf(all);
            assertThat(ids(lake, "silver", "items_history")).containsExactlyElementsOf(all);
        }
    }

    /**
     * An initial snapshot that starts over (after {@code resnapshot}, or a crash of a blocking one)
     * removes the earlier attempt's reads from bronze even when they share a data file with other
     * events, and leaves files of other operations alone (Iceberg's delete by row filter refuses a
     * file only some of whose rows match).
     */
    @Test
    void aRestartedSnapshotRemovesTheAbandonedReadsFromFilesThatAlsoHoldOtherEvents() throws IOException {
        try (Lake lake = open()) {
            lake.acquireLease();
            // Streamed changes: c, u, c in one file.
            lake.commit(List.of(change(ChangeOperation.CREATE, 1, "a", 200, 0), change(ChangeOperation.UPDATE, 1, "b", 200, 1),
                    change(ChangeOperation.CREATE, 2, "c", 200, 2)), SourcePosition.ofSequence(200, 2), new SourceOffset("s1"), Set.of());
            // A resnapshot: silver is replaced, bronze keeps the changes and appends the reads.
            List<ChangeEvent> first = new ArrayList<>(List.of(change(ChangeOperation.CREATE, 9, "late", 250, 0)));
            first.addAll(reads(ITEMS, 1, 3, 1).stream().map(e -> read(ITEMS, (Integer) e.after().get(0), SourcePosition.ofSequence(300, e.position().eventIndex()))).toList());
            lake.commit(first, SourcePosition.ofSequence(300, 3), new SourceOffset("s2"), Set.of(ITEMS.table()));
            assertThat(ids(lake, "silver", "items")).containsExactly(1, 2, 3);
            // That snapshot starts over: its reads at LSN 300 go, the change at 250 in the same file stays.
            lake.commit(List.of(read(ITEMS, 1, SourcePosition.ofSequence(400, 1)), read(ITEMS, 2, SourcePosition.ofSequence(400, 2))),
                    SourcePosition.ofSequence(400, 2), new SourceOffset("s3"), Set.of(ITEMS.table()));
            assertThat(ids(lake, "silver", "items")).containsExactly(1, 2);
            List<String> bronze = new ArrayList<>();
            try (CloseableIterable<Record> rows = LiveRows.of(lake.catalog().load(TableIdentifier.of("bronze", "items")).orElseThrow())) {
                rows.forEach(r -> bronze.add(r.getField("_op") + " " + r.getField("id") + " " + SourcePosition.decode((String) r.getField("_position")).sequence().getAsLong()));
            }
            assertThat(bronze).containsExactlyInAnyOrder("c 1 200", "u 1 200", "c 2 200", "c 9 250", "r 1 400", "r 2 400");
        }
    }

    private static ChangeEvent change(ChangeOperation op, int id, String label, long lsn, long index) {
        return new ChangeEvent(op, ITEMS, null, Row.of(id, label), SourcePosition.ofSequence(lsn, index), 7, AT, null);
    }

    private Lake open() {
        return Lake.open(new LakeConfig(dir, LakeConfig.RawLayer.DISABLED), "p", t -> TableOptions.DEFAULT);
    }

    private static List<Integer> ids(Lake lake, String namespace, String table) throws IOException {
        TreeSet<Integer> ids = new TreeSet<>();
        List<Integer> all = new ArrayList<>();
        try (CloseableIterable<Record> rows = LiveRows.of(lake.catalog().load(TableIdentifier.of(namespace, table)).orElseThrow())) {
            rows.forEach(r -> {
                all.add((Integer) r.getField("id"));
                ids.add((Integer) r.getField("id"));
            });
        }
        assertThat(all).as("%s.%s holds each key once", namespace, table).hasSameSizeAs(ids);
        return List.copyOf(ids);
    }

    private static List<ChangeEvent> reads(TableSchema schema, int fromId, int toId, long firstIndex) {
        List<ChangeEvent> out = new ArrayList<>();
        for (int id = fromId; id <= toId; id++) {
            out.add(read(schema, id, SourcePosition.ofSequence(100, firstIndex + id - fromId)));
        }
        return out;
    }

    private static ChangeEvent read(TableSchema schema, int id, SourcePosition position) {
        return new ChangeEvent(ChangeOperation.READ, schema, null, Row.of(id, "row " + id), position, 0, AT, null);
    }

    private static TableSchema schema(String name) {
        return new TableSchema(new TableId("public", name),
                List.of(Column.required("id", ColumnType.Primitive.INT32, "int4"), Column.nullable("label", ColumnType.Primitive.STRING, "text")), List.of("id"));
    }
}
