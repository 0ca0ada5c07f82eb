package io.tributary.lake.silver;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.commit.SnapshotPositions;
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
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Look-ups of whole-number keys skip the database above the greatest key the index holds; that
 * bound must follow every key written, by a rebuild, by an update, and after the index is opened
 * again from disk, negative keys included.
 */
class KeyIndexLookupTest {
    private static final TableSchema ITEMS = new TableSchema(new TableId("public", "items"),
            List.of(Column.required("id", ColumnType.Primitive.INT64, "int8"), Column.nullable("n", ColumnType.Primitive.INT32, "int4")), List.of("id"));

    @TempDir
    Path dir;

    @Test
    void everyKeyWrittenIsFoundAndOnlyKeysAboveTheGreatestAreSkipped() {
        Path warehouse = dir.resolve("lake");
        LakeConfig config = new LakeConfig(warehouse, LakeConfig.RawLayer.DISABLED);
        List<ChangeEvent> inserts = new ArrayList<>();
        long[] ids = {-3, 7, 42};
        for (int i = 0; i < ids.length; i++) {
            inserts.add(new ChangeEvent(ChangeOperation.CREATE, ITEMS, null, Row.of(ids[i], 1), SourcePosition.ofSequence(100, i), 1,
                    Instant.parse("2026-12-01T10:00:00Z"), null));
        }
        try (Lake lake = Lake.open(config, "p", t -> TableOptions.DEFAULT)) {
            lake.acquireLease();
            lake.commit(inserts, inserts.get(inserts.size() - 1).position(), new SourceOffset("o"), Set.of());
            lake.releaseLease();
        }
        Path file = dir.resolve("index.rocksdb");
        try (Lake lake = Lake.open(config, "p", t -> TableOptions.DEFAULT)) {
            Table table = lake.catalog().load(TableIdentifier.of("silver", "items")).orElseThrow();
            List<Types.NestedField> keyFields = List.of(table.schema().findField("id"));
            SourcePosition committed = SnapshotPositions.committed(table).orElseThrow();
            long snapshot = table.currentSnapshot().snapshotId();

            KeyIndex built = KeyIndex.open(file, KeyIndex.Kind.ROWS, table, table.schema(), keyFields);
            try {
                assertThat(found(built, -3L)).isEqualTo(KeyIndex.Found.HELD);
                assertThat(found(built, 42L)).isEqualTo(KeyIndex.Found.HELD);
                assertThat(found(built, 43L)).isEqualTo(KeyIndex.Found.NONE);
                assertThat(found(built, 0L)).isEqualTo(KeyIndex.Found.NONE);
                Map<List<Object>, KeyIndex.Entry> changed = new LinkedHashMap<>();
                changed.put(List.of(1_000L), new KeyIndex.Entry(new RowLocation("file:/a.parquet", 0), null, null));
                changed.put(List.of(-1_000L), new KeyIndex.Entry(new RowLocation("file:/a.parquet", 1), null, null));
                changed.put(List.of(7L), null);
                built.update(changed, false, committed, snapshot);
                assertThat(found(built, 1_000L)).isEqualTo(KeyIndex.Found.HELD);
                assertThat(found(built, -1_000L)).isEqualTo(KeyIndex.Found.HELD);
                assertThat(found(built, 7L)).isEqualTo(KeyIndex.Found.NONE);
            } finally {
                built.close();
            }

            // Opened again from disk (the stamp still matches the table): the bound is read back.
            KeyIndex reopened = KeyIndex.open(file, KeyIndex.Kind.ROWS, table, table.schema(), keyFields);
            try {
                assertThat(found(reopened, 1_000L)).isEqualTo(KeyIndex.Found.HELD);
                assertThat(found(reopened, 42L)).isEqualTo(KeyIndex.Found.HELD);
                assertThat(found(reopened, -1_000L)).isEqualTo(KeyIndex.Found.HELD);
                assertThat(found(reopened, 1_001L)).isEqualTo(KeyIndex.Found.NONE);
                List<RowLocation> at = new ArrayList<>();
                reopened.lookup(List.of(1_000L), e -> at.add(e.location()));
                assertThat(at).containsExactly(new RowLocation("file:/a.parquet", 0));
            } finally {
                reopened.close();
            }
        }
    }

    private static KeyIndex.Found found(KeyIndex index, long id) {
        return index.lookup(List.of(id), e -> { });
    }
}
