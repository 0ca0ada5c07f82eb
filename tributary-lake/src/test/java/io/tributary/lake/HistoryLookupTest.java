package io.tributary.lake;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
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
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The history writer finds a key's open version in its cache, its on-disk index, or the table: a
 * random workload of inserts, updates, deletes and re-inserts over many micro-batches gives the same
 * history written by one process (the cache), by a new process per micro-batch (the index), with the
 * index lost before each micro-batch (built again from the table) and with the index unavailable
 * (every open version read from the table, through its equality deletes).
 */
class HistoryLookupTest {
    private static final TableSchema ITEMS = new TableSchema(new TableId("public", "items"),
            List.of(Column.required("id", ColumnType.Primitive.INT64, "int8"), Column.nullable("n", ColumnType.Primitive.INT32, "int4")), List.of("id"));

    @TempDir
    Path dir;

    @Test
    void openVersionsFromTheIndexOrTheTableEqualThoseTheWriterCached() throws IOException {
        List<List<ChangeEvent>> batches = workload(new Random(7), 25, 60, 200);
        Path warm = dir.resolve("warm");
        try (Lake lake = open(warm)) {
            for (List<ChangeEvent> batch : batches) {
                TestLakes.commit(lake, batch);
            }
        }
        List<String> expected = history(warm);
        assertThat(expected).hasSizeGreaterThan(1200);
        assertThat(expected.stream().filter(v -> v.endsWith(" open")).count()).as("one open version per key ever seen").isEqualTo(200);

        // A new process per micro-batch: the open versions come from the index on disk.
        Path indexed = dir.resolve("indexed");
        for (List<ChangeEvent> batch : batches) {
            try (Lake lake = open(indexed)) {
                TestLakes.commit(lake, batch);
            }
        }
        assertThat(history(indexed)).as("open versions from the index").isEqualTo(expected);

        // The index lost before every micro-batch: built again from the table each time.
        Path rebuilt = dir.resolve("rebuilt");
        for (List<ChangeEvent> batch : batches) {
            deleteRecursively(Lake.keyIndexFolder(new LakeConfig(rebuilt, LakeConfig.RawLayer.DISABLED), "p"));
            try (Lake lake = open(rebuilt)) {
                TestLakes.commit(lake, batch);
            }
        }
        assertThat(history(rebuilt)).as("open versions from an index built again").isEqualTo(expected);

        // The index held by someone else: every open version is read from the table.
        Path tableOnly = dir.resolve("table-only");
        Path file = Lake.keyIndexFolder(new LakeConfig(tableOnly, LakeConfig.RawLayer.DISABLED), "p").resolve("silver.items_history.rocksdb");
        java.nio.file.Files.createDirectories(file.getParent());
        for (List<ChangeEvent> batch : batches) {
            try (org.rocksdb.Options options = new org.rocksdb.Options().setCreateIfMissing(true);
                 org.rocksdb.RocksDB holder = org.rocksdb.RocksDB.open(options, file.toString());
                 Lake lake = open(tableOnly)) {
                TestLakes.commit(lake, batch);
            } catch (org.rocksdb.RocksDBException e) {
                throw new IllegalStateException(e);
            }
        }
        assertThat(history(tableOnly)).as("open versions read from the table").isEqualTo(expected);
    }

    private static void deleteRecursively(Path path) throws IOException {
        if (!java.nio.file.Files.exists(path)) {
            return;
        }
        try (var walk = java.nio.file.Files.walk(path)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(p);
            }
        }
    }

    private static List<List<ChangeEvent>> workload(Random random, int batchCount, int batchSize, int keys) {
        Map<Long, Integer> source = new TreeMap<>();
        List<List<ChangeEvent>> batches = new ArrayList<>();
        for (int b = 0; b < batchCount; b++) {
            List<ChangeEvent> events = new ArrayList<>();
            for (int i = 0; i < batchSize; i++) {
                long id = b == 0 ? i % keys : random.nextInt(keys);
                SourcePosition p = SourcePosition.ofSequence(100 + b, i);
                Instant at = Instant.parse("2026-11-20T10:00:00Z").plusSeconds(b * 60L + i);
                Integer current = source.get(id);
                if (current != null && random.nextInt(5) == 0) {
                    source.remove(id);
                    events.add(new ChangeEvent(ChangeOperation.DELETE, ITEMS, Row.of(id, current), null, p, b, at, null));
                } else {
                    int n = random.nextInt(1000);
                    source.put(id, n);
                    events.add(new ChangeEvent(current == null ? ChangeOperation.CREATE : ChangeOperation.UPDATE, ITEMS, null, Row.of(id, n), p, b, at, null));
                }
            }
            if (b == 0) {
                // Every key exists at first, so each one has an open version from then on.
                for (long id = 0; id < keys; id++) {
                    if (!source.containsKey(id)) {
                        source.put(id, 0);
                        events.add(new ChangeEvent(ChangeOperation.CREATE, ITEMS, null, Row.of(id, 0), SourcePosition.ofSequence(100, 1000 + id), 0,
                                Instant.parse("2026-11-20T10:00:00Z"), null));
                    }
                }
            }
            batches.add(events);
        }
        return batches;
    }

    private static Lake open(Path warehouse) {
        return TestLakes.open(warehouse);
    }

    /** Every version as text, sorted. */
    private static List<String> history(Path warehouse) throws IOException {
        List<String> out = new ArrayList<>();
        try (Lake lake = open(warehouse);
             CloseableIterable<Record> rows = LiveRows.of(lake.catalog().load(TableIdentifier.of("silver", "items_history")).orElseThrow())) {
            for (Record r : rows) {
                out.add(r.getField("id") + " " + r.getField("n") + " " + r.getField("_op") + " " + r.getField("_position") + " " + r.getField("_valid_from") + " "
                        + (r.getField("_valid_to") == null ? "open" : r.getField("_valid_to") + " " + r.getField("_is_current") + " " + r.getField("_is_deleted")));
            }
        }
        out.sort(null);
        return out;
    }
}
