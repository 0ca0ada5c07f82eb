package io.tributary.lake.silver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.scan.RowLocation;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An index update cut short (a value that cannot be encoded, a process killed while it writes)
 * must leave the index as it was, since its entries and stamp go in one atomic write; and an index
 * that recorded a micro-batch the table then lost (rolled back to the watermark after a crash
 * between the two commits) must not pass for up to date: it is built again from the table.
 */
class KeyIndexCrashTest {
    private static final TableSchema ITEMS = new TableSchema(new TableId("public", "items"),
            List.of(Column.required("id", ColumnType.Primitive.INT64, "int8"), Column.nullable("n", ColumnType.Primitive.INT32, "int4")), List.of("id"));
    /** More keys than a rebuild writes at once. */
    private static final int KEYS = 60_000;

    @TempDir
    Path dir;

    @Test
    void anUpdateCutShortIsNotTakenForTheTableItFollowed() {
        Path warehouse = dir.resolve("lake");
        List<ChangeEvent> inserts = new ArrayList<>();
        for (long id = 0; id < KEYS; id++) {
            inserts.add(new ChangeEvent(ChangeOperation.CREATE, ITEMS, null, Row.of(id, 1), SourcePosition.ofSequence(100, id), 1,
                    Instant.parse("2026-11-20T10:00:00Z"), null));
        }
        try (Lake lake = Lake.open(new LakeConfig(warehouse, LakeConfig.RawLayer.DISABLED), "p", t -> TableOptions.DEFAULT)) {
            lake.acquireLease();
            lake.commit(inserts, inserts.get(KEYS - 1).position(), new SourceOffset("o"), Set.of());
            lake.releaseLease();
        }
        String committedPosition = SourcePosition.ofSequence(100, 0).encoded();
        Path file = io.tributary.lake.Lake.keyIndexFolder(new LakeConfig(warehouse, LakeConfig.RawLayer.DISABLED), "p").resolve("silver.items_history.rocksdb");
        try (Lake lake = Lake.open(new LakeConfig(warehouse, LakeConfig.RawLayer.DISABLED), "p", t -> TableOptions.DEFAULT)) {
            Table table = lake.catalog().load(TableIdentifier.of("silver", "items_history")).orElseThrow();
            List<Types.NestedField> keyFields = List.of(table.schema().findField("id"));

            // The next micro-batch's versions (as if the table had committed them), the last one
            // unencodable: the update stops after the store's intermediate commit, as a kill would.
            KeyIndex index = KeyIndex.open(file, KeyIndex.Kind.OPEN_VERSIONS, table, table.schema(), keyFields);
            assertThat(positionOf(index, 0L)).isEqualTo(committedPosition);
            Map<List<Object>, KeyIndex.Entry> next = new LinkedHashMap<>();
            for (long id = 0; id < KEYS; id++) {
                Record r = org.apache.iceberg.data.GenericRecord.create(table.schema());
                r.setField("id", id);
                r.setField("n", 2);
                r.setField("_valid_from", Instant.parse("2026-11-20T11:00:00Z").atOffset(java.time.ZoneOffset.UTC));
                r.setField("_is_current", true);
                r.setField("_is_deleted", false);
                r.setField("_op", "u");
                r.setField("_position", SourcePosition.ofSequence(200, id).encoded());
                r.setField("_tx_id", id == KEYS - 1 ? (Object) "not a number" : (Object) 2L);
                next.put(List.of(id), new KeyIndex.Entry(new RowLocation("file:/next.parquet", id), (String) r.getField("_position"), r));
            }
            assertThatThrownBy(() -> index.update(next, false, SourcePosition.ofSequence(200, KEYS - 1), table.currentSnapshot().snapshotId() + 1)).isInstanceOf(ClassCastException.class);
            index.close();

            // Nothing of the update was written: the index still follows the table.
            KeyIndex reopened = KeyIndex.open(file, KeyIndex.Kind.OPEN_VERSIONS, table, table.schema(), keyFields);
            try {
                assertThat(positionOf(reopened, 0L)).as("the open version of key 0").isEqualTo(committedPosition);
                assertThat(positionOf(reopened, KEYS - 2L)).isEqualTo(SourcePosition.ofSequence(100, KEYS - 2L).encoded());
                // The next micro-batch recorded whole, as if the table had committed it ...
                next.get(List.of(KEYS - 1L)).row().setField("_tx_id", 2L);
                reopened.update(next, false, SourcePosition.ofSequence(200, KEYS - 1), table.currentSnapshot().snapshotId() + 1);
                assertThat(reopened.lookup(List.of(0L), e -> assertThat(e.location().file()).isEqualTo("file:/next.parquet")))
                        .isEqualTo(KeyIndex.Found.HELD);
            } finally {
                reopened.close();
            }
            // ... but the table did not keep it (rolled back to the watermark): built again from the table.
            KeyIndex rebuilt = KeyIndex.open(file, KeyIndex.Kind.OPEN_VERSIONS, table, table.schema(), keyFields);
            try {
                assertThat(positionOf(rebuilt, 0L)).as("the open version of key 0").isEqualTo(committedPosition);
                assertThat(positionOf(rebuilt, KEYS - 1L)).isEqualTo(SourcePosition.ofSequence(100, KEYS - 1L).encoded());
            } finally {
                rebuilt.close();
            }
        }
    }

    private static String positionOf(KeyIndex index, long id) {
        AtomicReference<KeyIndex.Entry> found = new AtomicReference<>();
        assertThat(index.lookup(List.of(id), found::set)).isEqualTo(KeyIndex.Found.HELD);
        assertThat(found.get().location().file()).as("the location of key %d", id).doesNotContain("next.parquet");
        return (String) found.get().row().getField("_position");
    }
}
