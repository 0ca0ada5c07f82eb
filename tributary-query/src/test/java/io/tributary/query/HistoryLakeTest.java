package io.tributary.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeTable;
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
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code silver.<table>_history} written by the lake from hand-made change events, read by DuckDB and by Iceberg's generic reader. */
class HistoryLakeTest {
    private static final TableSchema ITEMS = new TableSchema(new TableId("public", "items"), List.of(
            Column.required("ItemID", ColumnType.Primitive.INT64, "int8"),
            Column.nullable("ref", ColumnType.Primitive.UUID, "uuid"),
            Column.nullable("qty", ColumnType.Primitive.INT32, "int4")), List.of("ItemID"));
    private static final TableSchema TAGS = new TableSchema(new TableId("public", "tags"), List.of(
            Column.required("ref", ColumnType.Primitive.UUID, "uuid"),
            Column.nullable("label", ColumnType.Primitive.STRING, "text")), List.of("ref"));
    private static final TableSchema NOTES = new TableSchema(new TableId("public", "notes"), List.of(
            Column.nullable("text", ColumnType.Primitive.STRING, "text")), List.of());

    @TempDir
    Path dir;

    private static ChangeEvent event(ChangeOperation op, TableSchema schema, Row before, Row after, long lsn, int index, int minute) {
        return new ChangeEvent(op, schema, before, after, SourcePosition.ofSequence(lsn, index), lsn, Instant.parse("2024-01-01T00:00:00Z").plusSeconds(60L * minute), null);
    }

    private static Row item(long id, int qty) {
        return Row.of(id, UUID.nameUUIDFromBytes(Long.toString(id).getBytes()), qty);
    }

    private static Row tag(int n, String label) {
        return Row.of(UUID.nameUUIDFromBytes(("tag" + n).getBytes()), label);
    }

    private static void commit(Lake lake, List<ChangeEvent> events, Set<TableId> snapshotStarted) {
        lake.commit(events, events.get(events.size() - 1).position(), new SourceOffset("{}"), snapshotStarted);
    }

    @Test
    void versionsEveryChangeAcrossBatchesRestartsTruncatesAndResnapshots() {
        LakeConfig config = new LakeConfig(dir, LakeConfig.RawLayer.DISABLED);
        List<ChangeEvent> second = List.of(
                // Two updates of one key in one transaction, a delete, a key change, an insert.
                event(ChangeOperation.UPDATE, ITEMS, item(1, 10), item(1, 11), 200, 0, 2),
                event(ChangeOperation.UPDATE, ITEMS, item(1, 11), item(1, 12), 200, 1, 2),
                event(ChangeOperation.DELETE, ITEMS, item(2, 20), null, 200, 2, 2),
                event(ChangeOperation.UPDATE, ITEMS, item(3, 30), item(30, 30), 200, 3, 2),
                event(ChangeOperation.CREATE, ITEMS, null, item(4, 40), 200, 4, 2),
                event(ChangeOperation.UPDATE, TAGS, tag(1, "one"), tag(1, "uno"), 200, 5, 2),
                event(ChangeOperation.UPDATE, NOTES, Row.of("a note"), Row.of("edited"), 200, 6, 2));
        try (Lake lake = Lake.open(config, "test", t -> TableOptions.DEFAULT)) {
            commit(lake, List.of(
                    event(ChangeOperation.READ, ITEMS, null, item(1, 10), 100, 0, 1),
                    event(ChangeOperation.READ, ITEMS, null, item(2, 20), 100, 1, 1),
                    event(ChangeOperation.READ, ITEMS, null, item(3, 30), 100, 2, 1),
                    event(ChangeOperation.READ, TAGS, null, tag(1, "one"), 100, 3, 1),
                    event(ChangeOperation.READ, TAGS, null, tag(2, "two"), 100, 4, 1),
                    event(ChangeOperation.READ, NOTES, null, Row.of("a note"), 100, 5, 1),
                    event(ChangeOperation.READ, NOTES, null, Row.of("a note"), 100, 6, 1)), Set.of(ITEMS.table(), TAGS.table(), NOTES.table()));
            commit(lake, second, Set.of());
            // A replay after a crash changes nothing.
            commit(lake, second, Set.of());
        }
        // A new process: the open versions come from the table, not from the writer's cache.
        try (Lake lake = Lake.open(config, "test", t -> TableOptions.DEFAULT)) {
            commit(lake, List.of(
                    event(ChangeOperation.CREATE, ITEMS, null, item(2, 21), 300, 0, 3),
                    event(ChangeOperation.UPDATE, ITEMS, item(4, 40), item(4, 41), 300, 1, 3),
                    event(ChangeOperation.TRUNCATE, ITEMS, null, null, 300, 2, 3),
                    event(ChangeOperation.CREATE, ITEMS, null, item(5, 50), 300, 3, 3),
                    event(ChangeOperation.DELETE, TAGS, tag(2, "two"), null, 300, 4, 3),
                    event(ChangeOperation.CREATE, TAGS, null, tag(3, "three"), 300, 5, 3),
                    event(ChangeOperation.DELETE, NOTES, Row.of("a note"), null, 300, 6, 3)), Set.of());
            commit(lake, List.of(event(ChangeOperation.UPDATE, ITEMS, item(5, 50), item(5, 51), 350, 0, 3)), Set.of());
            // A new initial snapshot: the first read shares its position with the reset before it.
            commit(lake, List.of(
                    event(ChangeOperation.READ, ITEMS, null, item(5, 55), 400, 0, 4),
                    event(ChangeOperation.READ, ITEMS, null, item(30, 30), 400, 1, 4),
                    event(ChangeOperation.READ, TAGS, null, tag(1, "uno"), 400, 2, 4)), Set.of(ITEMS.table(), TAGS.table()));

            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(q.query("SELECT item_id, _op, _is_current, _is_deleted, minute(_valid_from), minute(_valid_to), qty FROM silver.items_history"
                        + " ORDER BY item_id, _valid_from, _position").rows()).containsExactly(
                        row(1L, "r", false, false, 1L, 2L, 10),
                        row(1L, "u", false, false, 2L, 2L, 11),
                        row(1L, "u", false, false, 2L, 3L, 12),
                        row(1L, "t", false, true, 3L, null, 12),
                        row(2L, "r", false, false, 1L, 2L, 20),
                        row(2L, "d", false, true, 2L, 3L, 20),
                        row(2L, "c", false, false, 3L, 3L, 21),
                        row(2L, "t", false, true, 3L, null, 21),
                        row(3L, "r", false, false, 1L, 2L, 30),
                        row(3L, "u", false, true, 2L, null, 30),
                        row(4L, "c", false, false, 2L, 3L, 40),
                        row(4L, "u", false, false, 3L, 3L, 41),
                        row(4L, "t", false, true, 3L, null, 41),
                        row(5L, "c", false, false, 3L, 3L, 50),
                        row(5L, "u", false, false, 3L, 4L, 51),
                        row(5L, "r", true, false, 4L, null, 55),
                        row(30L, "u", false, false, 2L, 3L, 30),
                        row(30L, "t", false, true, 3L, 4L, 30),
                        row(30L, "r", true, false, 4L, null, 30));
                assertThat(q.query("SELECT label, _op, _is_current, _is_deleted, minute(_valid_from), minute(_valid_to) FROM silver.tags_history"
                        + " ORDER BY ref, _valid_from, _position").rows()).containsExactlyInAnyOrder(
                        row("one", "r", false, false, 1L, 2L),
                        row("uno", "u", false, false, 2L, 4L),
                        row("uno", "r", true, false, 4L, null),
                        row("two", "r", false, false, 1L, 3L),
                        row("two", "d", false, true, 3L, null),
                        // Not read again by the new initial snapshot: gone since it started.
                        row("three", "c", false, false, 3L, 4L),
                        row("three", "t", false, true, 4L, null));
                // The current versions are silver, column for column.
                for (String table : List.of("items", "tags")) {
                    String columns = table.equals("items") ? "item_id, ref, qty" : "ref, label";
                    assertThat(q.query("SELECT " + columns + " FROM silver." + table + "_history WHERE _is_current ORDER BY 1").rows())
                            .isEqualTo(q.query("SELECT " + columns + " FROM silver." + table + " ORDER BY 1").rows())
                            .isNotEmpty();
                }
                assertThat(q.query("SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'items_history' ORDER BY ordinal_position").rows())
                        .extracting(r -> r.get(0)).containsExactly("item_id", "ref", "qty", "_valid_from", "_valid_to", "_is_current", "_is_deleted", "_op", "_position", "_tx_id");
                // A table without a key: each row instance is a version; a delete closes the oldest instance of its image.
                assertThat(q.query("SELECT text, _op, _is_current, _is_deleted, minute(_valid_from), minute(_valid_to) FROM silver.notes_history"
                        + " ORDER BY _position, _valid_from").rows()).containsExactly(
                        row("a note", "r", false, false, 1L, 2L),
                        row("a note", "r", false, false, 1L, 3L),
                        row("edited", "u", true, false, 2L, null));
                assertThat(q.query("SELECT text FROM silver.notes_history WHERE _is_current").rows()).isEqualTo(q.query("SELECT text FROM silver.notes").rows());

                // Iceberg's own generic reader sees the same versions as DuckDB.
                Table history = lake.load(Layer.SILVER, "items_history").orElseThrow();
                List<List<Object>> iceberg = new ArrayList<>();
                for (Record r : read(history)) {
                    OffsetDateTime to = (OffsetDateTime) r.getField("_valid_to");
                    iceberg.add(row(r.getField("item_id"), r.getField("_op"), r.getField("_is_current"), r.getField("_is_deleted"),
                            (long) ((OffsetDateTime) r.getField("_valid_from")).getMinute(), to == null ? null : (long) to.getMinute(), r.getField("qty")));
                }
                assertThat(iceberg).containsExactlyInAnyOrderElementsOf(q.query(
                        "SELECT item_id, _op, _is_current, _is_deleted, minute(_valid_from), minute(_valid_to), qty FROM silver.items_history").rows());
                List<List<Object>> silver = new ArrayList<>();
                for (Record r : read(lake.load(Layer.SILVER, "items").orElseThrow())) {
                    silver.add(row(r.getField("item_id"), r.getField("qty")));
                }
                List<List<Object>> current = new ArrayList<>();
                for (Record r : read(history)) {
                    if ((Boolean) r.getField("_is_current")) {
                        current.add(row(r.getField("item_id"), r.getField("qty")));
                    }
                }
                assertThat(current).containsExactlyInAnyOrderElementsOf(silver).hasSize(2);
            }
        }
    }

    @Test
    void disabledHistoryWritesNoHistoryTable() {
        LakeConfig config = new LakeConfig(dir, LakeConfig.RawLayer.DISABLED, LakeConfig.HistoryLayer.DISABLED);
        try (Lake lake = Lake.open(config, "test", t -> TableOptions.DEFAULT)) {
            commit(lake, List.of(event(ChangeOperation.CREATE, ITEMS, null, item(1, 10), 100, 0, 1)), Set.of());
            assertThat(lake.tables()).extracting(LakeTable::name).containsExactly("items", "items");
        }
    }

    private static List<Record> read(Table table) {
        try (CloseableIterable<Record> rows = LiveRows.of(table)) {
            List<Record> out = new ArrayList<>();
            rows.forEach(r -> out.add(r.copy()));
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<Object> row(Object... values) {
        return Arrays.asList(values);
    }
}
