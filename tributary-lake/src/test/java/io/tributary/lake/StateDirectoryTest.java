package io.tributary.lake;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.Row;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Process-local state (key indexes) lives in the state directory, never in the warehouse. */
class StateDirectoryTest {
    private static final TableId ITEMS = new TableId("public", "items");
    private static final TableSchema SCHEMA = new TableSchema(ITEMS,
            List.of(Column.required("id", ColumnType.Primitive.INT64, "bigint"), Column.nullable("price", ColumnType.Primitive.INT64, "bigint")), List.of("id"));

    @TempDir
    Path dir;

    @Test
    void keyIndexesLiveInTheStateDirectoryAndEarlierOnesLeaveTheWarehouse() throws IOException {
        Path warehouse = dir.resolve("lake");
        Path state = dir.resolve("state");
        // What an earlier release left in the warehouse.
        Path obsolete = warehouse.resolve("tributary").resolve("key-index").resolve("silver.items.mv.db");
        Files.createDirectories(obsolete.getParent());
        Files.writeString(obsolete, "stale");
        LakeConfig config = new LakeConfig(warehouse, LakeConfig.RawLayer.DISABLED, LakeConfig.HistoryLayer.ENABLED, state);
        // The H2 file an earlier release kept as a table's index in the state directory.
        Path legacy = Lake.keyIndexFolder(config, "shop").resolve("silver.items.mv.db");
        Files.createDirectories(legacy.getParent());
        Files.writeString(legacy, "stale");
        try (Lake lake = Lake.open(config, "shop", t -> TableOptions.DEFAULT)) {
            assertThat(lake.removeStateFromWarehouse()).containsExactly(warehouse.resolve("tributary").resolve("key-index"));
            assertThat(lake.removeStateFromWarehouse()).isEmpty();
            TestLakes.commit(lake, List.of(
                    new ChangeEvent(ChangeOperation.CREATE, SCHEMA, null, Row.of(1L, 10L), SourcePosition.ofSequence(100, 0), 1, Instant.parse("2026-12-01T00:00:00Z"), null)));
            // The second micro-batch replaces a row the tables hold: found through the key indexes.
            TestLakes.commit(lake, List.of(
                    new ChangeEvent(ChangeOperation.UPDATE, SCHEMA, null, Row.of(1L, 11L), SourcePosition.ofSequence(200, 0), 2, Instant.parse("2026-12-01T00:00:01Z"), null)));
        }
        assertThat(Lake.keyIndexFolder(config, "shop")).isEqualTo(state.resolve("shop").resolve("key-index"));
        assertThat(Lake.keyIndexFolder(config, "shop").resolve("silver.items.rocksdb")).isDirectory();
        assertThat(Lake.keyIndexFolder(config, "shop").resolve("silver.items_history.rocksdb")).isDirectory();
        assertThat(legacy).doesNotExist();
        try (Stream<Path> files = Files.walk(warehouse)) {
            assertThat(files.map(Path::toString)).noneMatch(p -> p.endsWith(".mv.db") || p.endsWith(".rocksdb")).noneMatch(p -> p.contains("key-index"));
        }
    }
}
