package io.tributary.lake;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.lake.catalog.LiveRows;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.Row;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression: under REPLICA IDENTITY DEFAULT a delete carries only the key, and the deleted row's
 * history tombstone held that image (nulls, or Debezium's placeholders 0 and '') instead of the row's
 * last known values. Bronze keeps the delete as it came: the key, and null elsewhere.
 */
class DeleteTombstoneTest {
    private static final TableSchema ORDERS = new TableSchema(new TableId("public", "orders"),
            List.of(Column.required("id", ColumnType.Primitive.INT64, "int8"), Column.required("customer_id", ColumnType.Primitive.INT32, "int4"),
                    Column.required("status", ColumnType.Primitive.STRING, "text")), List.of("id"));

    @TempDir
    Path dir;

    @Test
    void aTombstoneHoldsTheDeletedRowsLastKnownValuesWhenTheDeleteCarriesOnlyTheKey() throws IOException {
        try (Lake lake = open()) {
            TestLakes.commit(lake, List.of(
                    event(ChangeOperation.CREATE, null, Row.of(1L, 7, "paid"), 100, 0),
                    event(ChangeOperation.CREATE, null, Row.of(2L, 8, "new"), 100, 1)));
            // Key 2 is updated and deleted in one micro-batch: its last values are not committed yet.
            TestLakes.commit(lake, List.of(
                    event(ChangeOperation.UPDATE, null, Row.of(2L, 9, "shipped"), 200, 0),
                    event(ChangeOperation.DELETE, Row.of(2L, null, null), null, 200, 1)));
        }
        // Key 1 is deleted by a new process: its open version comes from the index, not the writer's cache.
        try (Lake lake = open()) {
            TestLakes.commit(lake, List.of(event(ChangeOperation.DELETE, Row.of(1L, null, null), null, 300, 0)));
        }

        assertThat(rows("silver", "orders_history", "_is_deleted")).containsExactlyInAnyOrder("1 7 paid d", "2 9 shipped d");
        assertThat(rows("bronze", "orders", "_op")).contains("1 null null d", "2 null null d");
    }

    private List<String> rows(String namespace, String table, String last) throws IOException {
        List<String> out = new ArrayList<>();
        try (Lake lake = open();
             CloseableIterable<Record> rows = LiveRows.of(lake.catalog().load(TableIdentifier.of(namespace, table)).orElseThrow())) {
            for (Record r : rows) {
                boolean pick = last.equals("_is_deleted") ? Boolean.TRUE.equals(r.getField("_is_deleted")) : "d".equals(r.getField("_op"));
                if (pick) {
                    out.add(r.getField("id") + " " + r.getField("customer_id") + " " + r.getField("status") + " " + r.getField("_op"));
                }
            }
        }
        return out;
    }

    private static ChangeEvent event(ChangeOperation op, Row before, Row after, long lsn, int index) {
        return new ChangeEvent(op, ORDERS, before, after, SourcePosition.ofSequence(lsn, index), lsn, Instant.parse("2026-11-20T10:00:00Z").plusSeconds(lsn),
                null);
    }

    private Lake open() {
        return TestLakes.open(dir.resolve("lake"));
    }
}
