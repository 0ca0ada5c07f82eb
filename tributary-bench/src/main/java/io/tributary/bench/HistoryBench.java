package io.tributary.bench;

import io.tributary.config.LakeConfig;
import io.tributary.config.MaintenanceConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.maintenance.Maintenance;
import io.tributary.lake.maintenance.TableReport;
import io.tributary.query.QueryEngine;
import io.tributary.query.QueryResult;
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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The history benchmark (issue "full row history"): writes {@code --rows} rows and then
 * {@code --versions - 1} rounds of updates of every row through the lake writer ({@link Lake#commit},
 * bronze, silver and {@code silver.<table>_history}, no source database: the events are generated),
 * then measures the latency of {@code --as-of} queries (a full as-of aggregate and a point look-up)
 * at several instants, the storage bytes per version of the history table, and the time table
 * maintenance takes to compact it, and the as-of latency again after compaction.
 *
 * <p>Each micro-batch is one source transaction of {@code --batch} events over a contiguous key
 * range (the first round inserts, later rounds update), committed one second of source time after
 * the previous one. Run by hand: {@code ./tributary-bench/run-history --rows=1000000 --versions=10}.
 */
public final class HistoryBench {
    private static final TableId TABLE = new TableId("public", "accounts");

    private HistoryBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        if (options.containsKey("random-batches")) {
            randomUpdates(options);
            return;
        }
        int rows = Integer.parseInt(options.getOrDefault("rows", "1000000"));
        int versions = Integer.parseInt(options.getOrDefault("versions", "10"));
        int batch = Integer.parseInt(options.getOrDefault("batch", "100000"));
        // --lake=<warehouse> measures an existing bench lake again instead of writing a new one.
        Optional<Path> existing = Optional.ofNullable(options.get("lake")).map(Path::of);
        Path dir = Files.createTempDirectory("tributary-history-bench");
        Map<String, String> results = new LinkedHashMap<>();
        TableSchema schema = new TableSchema(TABLE, List.of(
                Column.required("id", ColumnType.Primitive.INT64, "bigint"),
                Column.nullable("owner", ColumnType.Primitive.STRING, "text"),
                Column.nullable("balance", ColumnType.Primitive.INT64, "bigint")), List.of("id"));
        LakeConfig config = new LakeConfig(existing.orElse(dir.resolve("lake")), LakeConfig.RawLayer.DISABLED, LakeConfig.HistoryLayer.ENABLED);
        Instant epoch = Instant.parse("2026-01-01T00:00:00Z");
        List<Instant> roundEnds = new ArrayList<>();
        long lsn = 1_000;
        long written = 0;
        Instant start = Instant.now();
        long cpu = cpuNanos();
        try (Lake lake = Lake.open(config, "history-bench", t -> TableOptions.DEFAULT)) {
            lake.acquireLease();
            Instant commitTime = epoch;
            for (int round = 0; round < versions; round++) {
                if (existing.isPresent()) {
                    // The same commit times as the run that wrote it.
                    commitTime = commitTime.plusSeconds((rows + batch - 1) / batch);
                    roundEnds.add(commitTime);
                    continue;
                }
                for (int from = 1; from <= rows; from += batch) {
                    int to = Math.min(rows, from + batch - 1);
                    lsn += 1_000;
                    commitTime = commitTime.plusSeconds(1);
                    List<ChangeEvent> events = new ArrayList<>(to - from + 1);
                    for (int id = from; id <= to; id++) {
                        SourcePosition position = SourcePosition.ofSequence(lsn, id - from);
                        Row after = Row.of((long) id, "owner " + id, (long) round * 100 + id % 97);
                        events.add(round == 0
                                ? new ChangeEvent(ChangeOperation.CREATE, schema, null, after, position, lsn, commitTime, null)
                                : new ChangeEvent(ChangeOperation.UPDATE, schema, Row.of((long) id, null, null), after, position, lsn, commitTime, null));
                    }
                    SourcePosition through = events.get(events.size() - 1).position();
                    lake.commit(events, through, new SourceOffset("bench-" + lsn), Set.of());
                    written += events.size();
                }
                roundEnds.add(commitTime);
                System.out.printf("round %d of %d: %,d versions written in %.1f s%n", round + 1, versions, written,
                        Duration.between(start, Instant.now()).toMillis() / 1000.0);
            }
            if (written > 0) {
                double seconds = Duration.between(start, Instant.now()).toMillis() / 1000.0;
                results.put("write (bronze + silver + history)", String.format("%,d change events in %.1f s = %,.0f events/s (%.1f µs CPU per event)",
                        written, seconds, written / seconds, (cpuNanos() - cpu) / 1000.0 / written));
                System.out.println(results.get("write (bronze + silver + history)"));
            }

            Table history = lake.load(Layer.SILVER, "accounts_history").orElseThrow();
            long versionCount = count(lake, "SELECT count(*) FROM silver.accounts_history");
            results.put("history rows", String.format("%,d versions of %,d keys", versionCount, rows));
            results.put("storage per version", storage(history, versionCount, "before compaction"));
            System.out.println(results.get("storage per version"));

            // As-of reads in the middle of the history, before compaction.
            List<Instant> instants = List.of(roundEnds.get(0), roundEnds.get(roundEnds.size() / 2), roundEnds.get(roundEnds.size() - 1));
            results.put("as-of latency (before compaction)", asOfLatency(lake, instants, rows));
            System.out.println(results.get("as-of latency (before compaction)"));

            // Compaction of the history table by table maintenance, whatever its file counts.
            Maintenance maintenance = new Maintenance(lake.catalog(), new MaintenanceConfig(MaintenanceConfig.DEFAULT.mode(), MaintenanceConfig.DEFAULT.interval(),
                    MaintenanceConfig.DEFAULT.snapshotRetention(), MaintenanceConfig.DEFAULT.minSnapshots(), MaintenanceConfig.DEFAULT.orphanAge(),
                    MaintenanceConfig.DEFAULT.targetFileSize(), 2, 1), Clock.systemUTC());
            Instant compactStart = Instant.now();
            long compactCpu = cpuNanos();
            TableReport report = maintenance.maintain(org.apache.iceberg.catalog.TableIdentifier.of(Layer.SILVER.namespace(), "accounts_history"),
                    Maintenance.Mode.APPLY);
            results.put("compaction of the history", String.format("%s: data files %,d -> %,d, delete files %,d -> %,d in %.1f s (%.1f s CPU)",
                    report.compaction() + report.failure().map(f -> " (" + f + ")").orElse(""), report.dataFilesBefore(), report.dataFilesAfter(), report.deleteFilesBefore(), report.deleteFilesAfter(),
                    Duration.between(compactStart, Instant.now()).toMillis() / 1000.0, (cpuNanos() - compactCpu) / 1e9));
            System.out.println(results.get("compaction of the history"));
            history.refresh();
            results.put("storage per version (after compaction)", storage(history, versionCount, "after compaction"));
            results.put("as-of latency (after compaction)", asOfLatency(lake, instants, rows));
            System.out.println(results.get("as-of latency (after compaction)"));
            lake.releaseLease();
        }
        System.out.println();
        System.out.println("| measure | result |");
        System.out.println("|---|---|");
        results.forEach((k, v) -> System.out.println("| " + k + " | " + v + " |"));
        System.exit(0);
    }

    /**
     * {@code --random-batches=N}: loads {@code --rows} rows, then commits N micro-batches of
     * {@code --batch} updates of random keys (a streaming workload the open-version cache cannot
     * hold once {@code --rows} exceeds it) and prints the commit time of those micro-batches.
     */
    private static void randomUpdates(Map<String, String> options) throws Exception {
        int rows = Integer.parseInt(options.getOrDefault("rows", "200000"));
        int batches = Integer.parseInt(options.get("random-batches"));
        int batch = Integer.parseInt(options.getOrDefault("batch", "2000"));
        TableSchema schema = new TableSchema(TABLE, List.of(
                Column.required("id", ColumnType.Primitive.INT64, "bigint"),
                Column.nullable("owner", ColumnType.Primitive.STRING, "text"),
                Column.nullable("balance", ColumnType.Primitive.INT64, "bigint")), List.of("id"));
        Path dir = Files.createTempDirectory("tributary-history-bench");
        LakeConfig config = new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.DISABLED, LakeConfig.HistoryLayer.ENABLED);
        java.util.Random random = new java.util.Random(42);
        Instant commitTime = Instant.parse("2026-01-01T00:00:00Z");
        long lsn = 1_000;
        try (Lake lake = Lake.open(config, "history-bench", t -> TableOptions.DEFAULT)) {
            lake.acquireLease();
            for (int from = 1; from <= rows; from += 50_000) {
                int to = Math.min(rows, from + 49_999);
                lsn += 1_000;
                commitTime = commitTime.plusSeconds(1);
                List<ChangeEvent> events = new ArrayList<>();
                for (int id = from; id <= to; id++) {
                    events.add(new ChangeEvent(ChangeOperation.CREATE, schema, null, Row.of((long) id, "owner " + id, 0L), SourcePosition.ofSequence(lsn, id - from),
                            lsn, commitTime, null));
                }
                lake.commit(events, events.get(events.size() - 1).position(), new SourceOffset("bench-" + lsn), Set.of());
            }
            long[] millis = new long[batches];
            Instant start = Instant.now();
            for (int b = 0; b < batches; b++) {
                lsn += 1_000;
                commitTime = commitTime.plusSeconds(1);
                List<ChangeEvent> events = new ArrayList<>();
                java.util.Set<Long> keys = new java.util.LinkedHashSet<>();
                while (keys.size() < batch) {
                    keys.add(1L + random.nextInt(rows));
                }
                int i = 0;
                for (long id : keys) {
                    events.add(new ChangeEvent(ChangeOperation.UPDATE, schema, Row.of(id, null, null), Row.of(id, "owner " + id, (long) b), SourcePosition.ofSequence(lsn, i++),
                            lsn, commitTime, null));
                }
                long t0 = System.nanoTime();
                lake.commit(events, events.get(events.size() - 1).position(), new SourceOffset("bench-" + lsn), Set.of());
                millis[b] = (System.nanoTime() - t0) / 1_000_000;
                if (batches <= 20 || (b + 1) % 20 == 0) {
                    System.out.printf("%d micro-batches of %,d random updates: the last took %,d ms%n", b + 1, batch, millis[b]);
                }
            }
            double seconds = Duration.between(start, Instant.now()).toMillis() / 1000.0;
            long[] sorted = millis.clone();
            Arrays.sort(sorted);
            System.out.printf("| random updates of %,d rows | %,d micro-batches of %,d in %.1f s = %,.0f events/s; commit p50 %,d ms, p90 %,d ms, max %,d ms |%n", rows, batches,
                    batch, seconds, batches * (double) batch / seconds, sorted[batches / 2], sorted[batches * 9 / 10], sorted[batches - 1]);
            System.out.printf("| key indexes on disk while open | %,d KiB |%n", bytesUnder(Lake.keyIndexFolder(config, "history-bench")) >> 10);
            lake.releaseLease();
        }
        System.out.printf("| key indexes on disk after close | %,d KiB |%n", bytesUnder(Lake.keyIndexFolder(config, "history-bench")) >> 10);
        System.exit(0);
    }

    /** The bytes of the files under {@code folder}. */
    private static long bytesUnder(Path folder) throws java.io.IOException {
        try (java.util.stream.Stream<Path> files = Files.walk(folder)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    private static long count(Lake lake, String sql) {
        try (QueryEngine q = QueryEngine.open(lake.consistentView().tables())) {
            return ((Number) q.query(sql).rows().get(0).get(0)).longValue();
        }
    }

    /** Median wall time of three runs of each as-of query (engine start included once per instant). */
    private static String asOfLatency(Lake lake, List<Instant> instants, int rows) {
        List<String> out = new ArrayList<>();
        for (Instant at : instants) {
            long open = System.nanoTime();
            try (QueryEngine q = QueryEngine.openAsOf(lake.consistentView().tables(), at)) {
                long opened = System.nanoTime() - open;
                long[] scan = new long[3];
                long[] point = new long[3];
                for (int i = 0; i < 3; i++) {
                    long t0 = System.nanoTime();
                    QueryResult all = q.query("SELECT count(*), sum(balance) FROM silver.accounts");
                    scan[i] = System.nanoTime() - t0;
                    if (((Number) all.rows().get(0).get(0)).longValue() != rows) {
                        throw new IllegalStateException("As of " + at + " silver.accounts has " + all.rows().get(0).get(0) + " rows, expected " + rows);
                    }
                    long t1 = System.nanoTime();
                    q.query("SELECT * FROM silver.accounts WHERE id = " + (1 + (i * 7919L) % rows));
                    point[i] = System.nanoTime() - t1;
                }
                Arrays.sort(scan);
                Arrays.sort(point);
                out.add(String.format("at %s: open %d ms, full as-of aggregate %d ms, point look-up %d ms", at, opened / 1_000_000,
                        scan[1] / 1_000_000, point[1] / 1_000_000));
            }
        }
        return String.join("; ", out);
    }

    /** Bytes of the live data and delete files of the table's current snapshot, per version. */
    private static String storage(Table table, long versions, String when) {
        long data = 0;
        long deletes = 0;
        java.util.Set<String> seenDeletes = new java.util.HashSet<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
            for (FileScanTask task : tasks) {
                data += task.file().fileSizeInBytes();
                for (var d : task.deletes()) {
                    if (seenDeletes.add(d.path().toString())) {
                        deletes += d.fileSizeInBytes();
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long onDisk = directorySize(Path.of(java.net.URI.create(table.location().startsWith("file:") ? table.location() : "file:" + table.location())));
        return String.format("%s: %.1f bytes per version in live files (data %,d B + deletes %,d B); %,d B on disk incl. metadata and unexpired files",
                when, (data + deletes) / (double) versions, data, deletes, onDisk);
    }

    private static long directorySize(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String a : args) {
            if (!a.startsWith("--") || !a.contains("=")) {
                throw new IllegalArgumentException("Options look like --rows=1000000, got '" + a + "'");
            }
            out.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
        }
        return out;
    }
}
