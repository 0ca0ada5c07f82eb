package io.tributary.bench;

import io.tributary.config.CommitConfig;
import io.tributary.config.ConfigLoader;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SnapshotConfig;
import io.tributary.config.SslMode;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.query.QueryResult;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * The read benchmark: what a {@code tributary sql} query of silver costs after heavy random
 * updates. Loads a {@code --rows}-row table ({@code pgbench_accounts}'s shape) into an embedded
 * PostgreSQL, takes the initial snapshot, writes {@code --updates} updates of random keys
 * ({@code abalance + 1}, in source transactions of {@code --transaction-size}), streams them into
 * the lake (bronze, silver and history, the defaults), and then measures, {@code --repeat} times
 * each, the work of one {@code sql} command without the JVM start: open the lake, take its
 * consistent view, start DuckDB over it, run the query. Two queries: a point look-up by key
 * ({@code SELECT * FROM silver.accounts WHERE aid = ?}, a different random key each time) and a
 * full-scan aggregate ({@code SELECT count(*), sum(abalance) FROM silver.accounts}, checked
 * against {@code --rows} and {@code --updates}). Prints the snapshot and streaming rates too.
 * {@code --lake=<dir>} measures the reads of a lake an earlier run left behind (its path is
 * printed). Run by hand: {@code ./tributary-bench/run-read --rows=1000000 --updates=1000000}.
 */
public final class ReadBench {
    private ReadBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (String a : args) {
            if (!a.startsWith("--") || !a.contains("=")) {
                throw new IllegalArgumentException("Options look like --rows=1000000, got '" + a + "'");
            }
            options.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
        }
        int rows = Integer.parseInt(options.getOrDefault("rows", "1000000"));
        int updates = Integer.parseInt(options.getOrDefault("updates", "1000000"));
        int transactionSize = Integer.parseInt(options.getOrDefault("transaction-size", "100"));
        int repeat = Integer.parseInt(options.getOrDefault("repeat", "7"));
        Map<String, String> results = new LinkedHashMap<>();
        HeapSampler heap = HeapSampler.start();
        Path lakeDir = options.containsKey("lake") ? Path.of(options.get("lake")) : Files.createTempDirectory("tributary-read-bench").resolve("lake");
        LakeConfig lakeConfig = new LakeConfig(lakeDir, LakeConfig.RawLayer.ENABLED, LakeConfig.HistoryLayer.ENABLED);
        if (!options.containsKey("lake")) {
            load(lakeConfig, rows, updates, transactionSize, results);
        }
        System.out.println("Measuring reads of " + lakeDir);
        Random random = new Random(7);
        long[] point = new long[repeat];
        long[] scan = new long[repeat];
        for (int i = 0; i < repeat; i++) {
            int key = 1 + random.nextInt(rows);
            long t0 = System.nanoTime();
            QueryResult one = sql(lakeConfig, "SELECT * FROM silver.accounts WHERE aid = " + key);
            point[i] = System.nanoTime() - t0;
            if (one.rows().size() != 1) {
                throw new IllegalStateException("Key " + key + " has " + one.rows().size() + " rows in silver.accounts, expected 1");
            }
            long t1 = System.nanoTime();
            QueryResult all = sql(lakeConfig, "SELECT count(*), sum(abalance) FROM silver.accounts");
            scan[i] = System.nanoTime() - t1;
            long count = ((Number) all.rows().get(0).get(0)).longValue();
            long sum = ((Number) all.rows().get(0).get(1)).longValue();
            if (count != rows || sum != updates) {
                throw new IllegalStateException("silver.accounts has " + count + " rows summing to " + sum + ", expected " + rows + " and " + updates);
            }
        }
        heap.stop();
        results.put("`sql` point look-up by key", millis(point));
        results.put("`sql` full scan (count, sum)", millis(scan));
        results.put("peak heap used", String.format("%,d MiB sampled, %,d MiB right after a GC", heap.peakBytes() / (1 << 20), heap.peakAfterGcBytes() / (1 << 20)));
        System.out.println();
        System.out.println("| measure | result |");
        System.out.println("|---|---|");
        results.forEach((k, v) -> System.out.println("| " + k + " | " + v + " |"));
        System.exit(0);
    }

    /** Loads the table, takes the initial snapshot, writes the random updates and streams them; records both rates. */
    private static void load(LakeConfig lakeConfig, int rows, int updates, int transactionSize, Map<String, String> results) throws Exception {
        try (TestingPostgres postgres = new TestingPostgres(List.of("max_wal_size=4GB", "checkpoint_timeout=30min", "shared_buffers=512MB"))) {
            String db = postgres.createDatabase("bench");
            System.out.printf("Loading %,d rows ...%n", rows);
            postgres.execute(db,
                    "CREATE TABLE accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))",
                    "INSERT INTO accounts SELECT g, 1 + (g - 1) / 100000, 0, '' FROM generate_series(1, " + rows + ") g",
                    "ANALYZE");
            PipelineConfig config = new PipelineConfig("read-bench",
                    new PostgresSourceConfig(postgres.host(), postgres.port(), db, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE, List.of(),
                            "tributary_read_bench", "tributary_read_bench", Duration.ofSeconds(1), Duration.ofSeconds(10)).withSnapshot(SnapshotConfig.DEFAULT),
                    lakeConfig, new ModelsConfig(Optional.empty(), Duration.ofSeconds(30)),
                    new CommitConfig(Duration.ofSeconds(1), ConfigLoader.DEFAULT_COMMIT_MAX_EVENTS), Map.of());
            results.put("initial snapshot", timedRun(config, "rows"));
            System.out.printf("Writing %,d updates of random keys in transactions of %,d ...%n", updates, transactionSize);
            // The key is drawn first: random() in the WHERE clause would be drawn per row scanned.
            postgres.execute(db, "DO $$ DECLARE k int; BEGIN FOR i IN 1.." + updates + " LOOP "
                    + "k := 1 + floor(random() * " + rows + ")::int; "
                    + "UPDATE accounts SET abalance = abalance + 1 WHERE aid = k; "
                    + "IF i % " + transactionSize + " = 0 THEN COMMIT; END IF; END LOOP; COMMIT; END $$");
            Bench.awaitSlotInactive(postgres, db, "tributary_read_bench");
            results.put("streaming the random updates", timedRun(config, "events"));
        }
    }

    /** What {@code tributary sql} does after reading its configuration: open the lake, a consistent view, DuckDB over it, one query. */
    private static QueryResult sql(LakeConfig lakeConfig, String sql) {
        try (Lake lake = Lake.open(lakeConfig, "read-bench", t -> TableOptions.DEFAULT);
             QueryEngine engine = QueryEngine.open(lake.consistentView().tables())) {
            return engine.query(sql);
        }
    }

    /** {@code "median 120 ms (min 100, max 180) over 7 runs"}. */
    private static String millis(long[] nanos) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        return String.format("median %d ms (min %d, max %d) over %d runs", sorted[sorted.length / 2] / 1_000_000, sorted[0] / 1_000_000,
                sorted[sorted.length - 1] / 1_000_000, sorted.length);
    }

    private static String timedRun(PipelineConfig config, String unit) {
        long start = System.nanoTime();
        long count = Bench.runOnce(config);
        double seconds = (System.nanoTime() - start) / 1e9;
        String result = String.format("%,d %s in %.1f s = %,.0f %s/s", count, unit, seconds, count / seconds, unit);
        System.out.println(unit + ": " + result);
        return result;
    }
}
