package io.tributary.lake;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.TableOptions;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.silver.HistoryWriter;
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
 * The history of a micro-batch is written beside its silver commit only when that commit cannot
 * change the key the history writer reads from silver; a batch that changes the primary key writes
 * silver first, and the history follows the new key.
 */
class HistoryBesideSilverTest {
    private static final TableId ITEMS = new TableId("public", "items");
    private static final List<Column> COLUMNS = List.of(Column.required("id", ColumnType.Primitive.INT64, "bigint"),
            Column.required("code", ColumnType.Primitive.STRING, "text"), Column.nullable("price", ColumnType.Primitive.INT64, "bigint"));
    private static final TableSchema BY_ID = new TableSchema(ITEMS, COLUMNS, List.of("id"));
    private static final TableSchema BY_CODE = new TableSchema(ITEMS, COLUMNS, List.of("code"));
    private static final TableIdentifier SILVER = TableIdentifier.of("silver", "items");

    @TempDir
    Path dir;

    @Test
    void onlyABatchKeepingSilversKeyMayBeWrittenBesideIt() {
        List<ChangeEvent> first = List.of(event(BY_ID, ChangeOperation.CREATE, null, Row.of(1L, "a", 10L), 100, 0));
        try (Lake lake = TestLakes.open(dir.resolve("lake"))) {
            // No silver table yet: the history writer would find no key.
            assertThat(HistoryWriter.keyUnchangedBy(lake.catalog().load(SILVER), first, TableOptions.DEFAULT)).isFalse();
            TestLakes.commit(lake, first);
            List<ChangeEvent> sameKey = List.of(event(BY_ID, ChangeOperation.UPDATE, null, Row.of(1L, "a", 11L), 200, 0),
                    event(BY_ID, ChangeOperation.DELETE, Row.of(1L, "a", 11L), null, 200, 1));
            assertThat(HistoryWriter.keyUnchangedBy(lake.catalog().load(SILVER), sameKey, TableOptions.DEFAULT)).isTrue();
            List<ChangeEvent> newKey = List.of(event(BY_ID, ChangeOperation.UPDATE, null, Row.of(1L, "a", 12L), 300, 0),
                    event(BY_CODE, ChangeOperation.UPDATE, null, Row.of(1L, "a", 13L), 300, 1));
            assertThat(HistoryWriter.keyUnchangedBy(lake.catalog().load(SILVER), newKey, TableOptions.DEFAULT)).isFalse();
        }
    }

    @Test
    void aBatchChangingThePrimaryKeyVersionsRowsByTheNewKey() throws IOException {
        try (Lake lake = TestLakes.open(dir.resolve("lake"))) {
            TestLakes.commit(lake, List.of(event(BY_ID, ChangeOperation.CREATE, null, Row.of(1L, "a", 10L), 100, 0),
                    event(BY_ID, ChangeOperation.CREATE, null, Row.of(2L, "b", 20L), 100, 1)));
            // The key moves from id to code; two rows then share id 3 under different codes.
            TestLakes.commit(lake, List.of(event(BY_CODE, ChangeOperation.UPDATE, null, Row.of(3L, "a", 11L), 200, 0),
                    event(BY_CODE, ChangeOperation.UPDATE, null, Row.of(3L, "b", 21L), 200, 1)));
            List<String> open = new ArrayList<>();
            try (CloseableIterable<Record> rows = LiveRows.of(lake.catalog().load(HistoryWriter.historyOf(SILVER)).orElseThrow())) {
                rows.forEach(r -> {
                    if (r.getField("_valid_to") == null) {
                        open.add(r.getField("code") + "=" + r.getField("id") + "/" + r.getField("price"));
                    }
                });
            }
            // Keyed by code the two updates are two rows; keyed by id (silver's key before the
            // batch) the second would have closed the first.
            assertThat(open).contains("a=3/11", "b=3/21");
        }
    }

    private static ChangeEvent event(TableSchema schema, ChangeOperation op, Row before, Row after, long lsn, int index) {
        return new ChangeEvent(op, schema, before, after, SourcePosition.ofSequence(lsn, index), lsn,
                Instant.parse("2026-11-20T10:00:00Z").plusSeconds(lsn), null);
    }
}
