package io.tributary.bench;

import io.tributary.config.CatalogConfig;
import io.tributary.config.CommitConfig;
import io.tributary.config.ConfigLoader;
import io.tributary.config.KafkaSinkConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.S3Config;
import io.tributary.config.Secret;
import io.tributary.config.SnapshotConfig;
import io.tributary.config.SslMode;
import io.tributary.pipeline.BackgroundRun;
import io.tributary.pipeline.CapturePipeline;
import io.tributary.pipeline.Pipeline;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeSource;
import io.tributary.testing.TestingKafka;
import io.tributary.testing.TestingPostgres;
import io.tributary.testing.TestingS3;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * The benchmark harness: a pgbench-like workload against an embedded PostgreSQL, measuring initial
 * snapshot rows/s and the rate of {@code COPY (SELECT *) TO STDOUT} of the same tables (its
 * ceiling), streaming events/s into bronze+silver (draining a WAL backlog) and the rate of a bare
 * pgoutput reader over the same WAL (its ceiling), freshness p50/p99 at a fixed rate, and the peak
 * heap, each rate also per CPU-second of this process, and ends with a table of each measure
 * against its ceiling and target; then the snapshot, streaming (with each micro-batch's commit time) and freshness again on an
 * S3 warehouse (S3Proxy on loopback, a JDBC catalog in PostgreSQL; {@code --s3=false} skips it,
 * {@code --s3-accounts} sizes its table, default 100,000); and the same workload captured into
 * Kafka topics (a KRaft broker on loopback), then those topics landed in a lake by a Kafka source
 * ({@code --kafka=false} skips both, {@code --kafka-accounts}
 * sizes its table, default 100,000). Run by hand (see README, "Benchmarks"); not part of the test suite. Options:
 * {@code --accounts}, {@code --transactions}, {@code --rate}, {@code --freshness-seconds},
 * {@code --snapshot-chunk-size} / {@code --snapshot-resumable-above} ({@code source.snapshot}: with
 * {@code --snapshot-resumable-above=0} the accounts are read by the resumable incremental snapshot),
 * {@code --commit-max-events} ({@code commit.max-events}), and {@code --warmup-accounts} /
 * {@code --warmup-transactions} (default: the measured sizes):
 * before the measured runs, the same snapshot and streaming run once over a database of their own
 * in this JVM, so the measured runs see compiled code rather than the JIT compiler's first minute
 * ({@code --warmup-accounts=0} skips it; the warm-up's own cold figures are printed too). Every
 * measure also reports the JIT compile and GC pause time spent while it ran.
 */
public final class Bench {
    private Bench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = options(args);
        int accounts = Integer.parseInt(options.getOrDefault("accounts", "1000000"));
        int transactions = Integer.parseInt(options.getOrDefault("transactions", "50000"));
        int rate = Integer.parseInt(options.getOrDefault("rate", "1000"));
        int freshnessSeconds = Integer.parseInt(options.getOrDefault("freshness-seconds", "30"));
        LakeConfig.HistoryLayer history = LakeConfig.HistoryLayer.valueOf(options.getOrDefault("history", "enabled").toUpperCase(java.util.Locale.ROOT));
        CommitConfig commit = new CommitConfig(Duration.ofSeconds(1), Integer.parseInt(options.getOrDefault("commit-max-events", Integer.toString(ConfigLoader.DEFAULT_COMMIT_MAX_EVENTS))));
        Path dir = Files.createTempDirectory("tributary-bench");
        HeapSampler heap = HeapSampler.start();
        Map<String, String> results = new LinkedHashMap<>();
        Map<String, String> targets = new LinkedHashMap<>();
        try (TestingPostgres postgres = new TestingPostgres(List.of("max_wal_size=4GB", "checkpoint_timeout=30min", "shared_buffers=512MB"))) {
            SnapshotConfig snapshot = new SnapshotConfig(Integer.parseInt(options.getOrDefault("snapshot-chunk-size", Integer.toString(SnapshotConfig.DEFAULT.chunkSize()))),
                    Long.parseLong(options.getOrDefault("snapshot-resumable-above", Long.toString(SnapshotConfig.DEFAULT.resumableAbove()))));
            // By default the warm-up is as large as the measured runs: with less, the JIT compiler was
            // still busy in them (a 300,000-row warm-up left 18.9 s of compiling in a 25.7 s snapshot).
            int warmupAccounts = Integer.parseInt(options.getOrDefault("warmup-accounts", Integer.toString(accounts)));
            int warmupTransactions = Integer.parseInt(options.getOrDefault("warmup-transactions", Integer.toString(transactions)));
            if (warmupAccounts > 0) {
                // 0. Warm-up: the same two runs over a database of their own, so that the measured
                // runs below do not pay for the JIT compiler's first minute (a third of the CPU of a
                // cold 2-core JVM); their cold figures are printed for comparison.
                String warmupDb = postgres.createDatabase("bench_warmup");
                Workload warmup = new Workload(postgres, warmupDb);
                System.out.printf("Warm-up: loading %,d accounts ...%n", warmupAccounts);
                warmup.create(warmupAccounts);
                PipelineConfig warmupConfig = config(postgres, warmupDb, dir.resolve("warmup"), "tributary_warmup", history, snapshot, commit);
                timedRun(results, "warm-up: initial snapshot, cold JVM", warmupConfig, "rows");
                warmup.transactions(warmupTransactions);
                awaitSlotInactive(postgres, warmupDb, "tributary_warmup");
                timedRun(results, "warm-up: streaming, cold JVM", warmupConfig, "events");
                awaitSlotInactive(postgres, warmupDb, "tributary_warmup");
                postgres.execute(warmupDb, "SELECT pg_drop_replication_slot('tributary_warmup')");
            }
            String db = postgres.createDatabase("bench");
            Workload workload = new Workload(postgres, db);
            System.out.printf("Loading %,d accounts ...%n", accounts);
            workload.create(accounts);
            PipelineConfig config = config(postgres, db, dir, "tributary_bench", history, snapshot, commit);

            // 1. Initial snapshot; COPY of the same tables is its ceiling.
            timedRun(results, "initial snapshot", config, "rows");
            CopyReader.Result copy = CopyReader.read(postgres, db, List.of("pgbench_branches", "pgbench_tellers", "pgbench_accounts"));
            results.put("COPY (SELECT *) TO STDOUT (ceiling)", String.format("%,d rows (%,d MiB of text) in %.2f s = %,.0f rows/s", copy.rows(),
                    copy.bytes() >> 20, copy.seconds(), copy.rowsPerSecond()));
            System.out.println("COPY (SELECT *) TO STDOUT (ceiling): " + results.get("COPY (SELECT *) TO STDOUT (ceiling)"));

            // 2. Streaming: drain a backlog of pgbench transactions; a bare pgoutput reader drains the same WAL.
            BareReader bare = BareReader.createSlot(postgres, db, "bench_bare", "tributary_bench");
            System.out.printf("Writing %,d pgbench transactions (4 change events each) ...%n", transactions);
            workload.transactions(transactions);
            awaitSlotInactive(postgres, db, "tributary_bench");
            streamingRun(results, "streaming into bronze+silver", "commit time per micro-batch (local)", config);
            BareReader.Result ceiling = bare.drain();
            results.put("bare pgoutput reader (ceiling)", String.format("%,d change messages in %.1f s = %,.0f messages/s",
                    ceiling.changes(), ceiling.seconds(), ceiling.changes() / ceiling.seconds()));
            System.out.println(results.get("bare pgoutput reader (ceiling)"));

            // 3. Freshness at a fixed rate.
            freshness(results, "freshness (commit -> visible in silver)", config, workload, postgres, db, "tributary_bench", rate, freshnessSeconds);

            Rate snapshotRate = RATES.get("initial snapshot");
            Rate streamingRate = RATES.get("streaming into bronze+silver");
            targets.put("initial snapshot / COPY", String.format("%,.0f / %,.0f rows/s = %.3f× (target ≥ 0.1×)", snapshotRate.perSecond(), copy.rowsPerSecond(),
                    snapshotRate.perSecond() / copy.rowsPerSecond()));
            targets.put("initial snapshot per CPU-second", String.format("%,.0f rows (target ≥ 100,000)", snapshotRate.perCpuSecond()));
            targets.put("streaming / bare pgoutput reader", String.format("%,.0f / %,.0f events/s = %.3f× (target ≥ 0.5×)", streamingRate.perSecond(),
                    ceiling.changes() / ceiling.seconds(), streamingRate.perSecond() / (ceiling.changes() / ceiling.seconds())));
            targets.put("freshness p99 at " + String.format("%,d", rate) + " events/s", String.format("%,d", FRESHNESS_P99.get("freshness (commit -> visible in silver)")) + " ms (target ≤ 1,500 ms at 5,000 events/s)");

            // 4. The same on an S3 warehouse (S3Proxy, a child JVM on loopback) behind a JDBC catalog in PostgreSQL.
            if (Boolean.parseBoolean(options.getOrDefault("s3", "true"))) {
                int s3Accounts = Integer.parseInt(options.getOrDefault("s3-accounts", "100000"));
                try (TestingS3 s3 = TestingS3.start(dir.resolve("s3"))) {
                    s3.createBucket("bench");
                    postgres.createDatabase("lake_catalog");
                    String s3Db = postgres.createDatabase("bench_s3");
                    Workload s3Workload = new Workload(postgres, s3Db);
                    System.out.printf("S3 warehouse: loading %,d accounts ...%n", s3Accounts);
                    s3Workload.create(s3Accounts);
                    LakeConfig s3Lake = new LakeConfig("s3://bench/lake", new S3Config(Optional.of(s3.endpoint()), Optional.of("us-east-1"), true,
                            Optional.of(TestingS3.ACCESS_KEY_ID), Optional.of(new Secret(TestingS3.SECRET_ACCESS_KEY, "bench")), S3Config.DEFAULT_CACHE_SIZE),
                            CatalogConfig.jdbc(postgres.jdbcUrl("lake_catalog"), TestingPostgres.USER, Optional.empty()), LakeConfig.RawLayer.ENABLED, history,
                            dir.resolve("s3-state"));
                    PipelineConfig s3Config = config("bench_s3", postgres, s3Db, s3Lake, "tributary_bench_s3", snapshot, commit);
                    timedRun(results, "S3: initial snapshot", s3Config, "rows");
                    System.out.printf("S3 warehouse: writing %,d pgbench transactions ...%n", transactions);
                    s3Workload.transactions(transactions);
                    awaitSlotInactive(postgres, s3Db, "tributary_bench_s3");
                    streamingRun(results, "S3: streaming into bronze+silver", "S3: commit time per micro-batch", s3Config);
                    freshness(results, "S3: freshness (commit -> visible in silver)", s3Config, s3Workload, postgres, s3Db, "tributary_bench_s3", rate,
                            freshnessSeconds);
                }
            }

            // 5. Capture into Kafka (a KRaft broker, a child JVM on loopback): the same workload into
            // Debezium-compatible topics, one Kafka transaction per batch.
            if (Boolean.parseBoolean(options.getOrDefault("kafka", "true"))) {
                int kafkaAccounts = Integer.parseInt(options.getOrDefault("kafka-accounts", "100000"));
                try (TestingKafka kafka = TestingKafka.start(dir.resolve("kafka"))) {
                    String kafkaDb = postgres.createDatabase("bench_kafka");
                    Workload kafkaWorkload = new Workload(postgres, kafkaDb);
                    System.out.printf("Kafka: loading %,d accounts ...%n", kafkaAccounts);
                    kafkaWorkload.create(kafkaAccounts);
                    PipelineConfig base = config("bench_kafka", postgres, kafkaDb, new LakeConfig(dir.resolve("unused"), LakeConfig.RawLayer.ENABLED, history),
                            "tributary_bench_kafka", snapshot, commit);
                    PipelineConfig capture = new PipelineConfig(base.name(), base.source(), null, base.models(), base.commit(), base.tableOptions(),
                            base.maintenance(), Optional.of(new KafkaSinkConfig(kafka.bootstrapServers(), "bench", KafkaSinkConfig.Format.DEBEZIUM_JSON, 3,
                            (short) -1, Map.of())), Optional.empty());
                    timedCapture(results, "Kafka: initial snapshot into topics", capture, "rows");
                    System.out.printf("Kafka: writing %,d pgbench transactions ...%n", transactions);
                    kafkaWorkload.transactions(transactions);
                    awaitSlotInactive(postgres, kafkaDb, "tributary_bench_kafka");
                    timedCapture(results, "Kafka: streaming into topics", capture, "events");
                    // 6. The other half: the topics (snapshot and stream) landed in a lake by a Kafka source.
                    PipelineConfig landing = new PipelineConfig("bench_landing",
                            new io.tributary.config.KafkaSourceConfig(kafka.bootstrapServers(), List.of(), Optional.of("bench\\.public\\..*"),
                                    KafkaSinkConfig.Format.DEBEZIUM_JSON, "bench-landing", Map.of(), Duration.ofSeconds(1), io.tributary.config.ReconnectConfig.DEFAULT),
                            new LakeConfig(dir.resolve("kafka-lake"), LakeConfig.RawLayer.ENABLED, history), base.models(), base.commit(), Map.of());
                    Measure landed = Measure.start();
                    long events = runOnce(landing);
                    results.put("Kafka: landing the topics in the lake", landed.rate(events, "events"));
                    System.out.println("Kafka: landing the topics in the lake: " + results.get("Kafka: landing the topics in the lake"));
                    // 6b. The same topics landed by 1, 2 and 3 lake workers of one consumer group (source.workers: group).
                    for (int n = 1; n <= 3; n++) {
                        landWithWorkers(results, landing, n, dir.resolve("kafka-lake-" + n + "-workers"));
                    }
                    // 7. Both halves running: freshness from the source commit through Kafka to silver.
                    kafkaFreshness(results, capture, landing, kafkaWorkload, rate, freshnessSeconds);
                }
            }
        } finally {
            heap.stop();
            // The lakes of a run take 0.6 GiB; a run is measured, not kept.
            deleteRecursively(dir);
        }
        results.put("peak heap used", String.format("%,d MiB sampled, %,d MiB right after a GC (max heap %,d MiB)", heap.peakBytes() / (1 << 20),
                heap.peakAfterGcBytes() / (1 << 20), Runtime.getRuntime().maxMemory() / (1 << 20)));
        targets.put("peak heap", String.format("%,d MiB sampled (target ≤ 1,024 MiB)", heap.peakBytes() / (1 << 20)));
        System.out.println();
        System.out.printf("%d CPUs given to the JVM (-XX:ActiveProcessorCount), history %s%n", Runtime.getRuntime().availableProcessors(),
                history.name().toLowerCase(java.util.Locale.ROOT));
        System.out.println("| measure | result |");
        System.out.println("|---|---|");
        results.forEach((k, v) -> System.out.println("| " + k + " | " + v + " |"));
        System.out.println();
        System.out.println("| against its ceiling | this run |");
        System.out.println("|---|---|");
        targets.forEach((k, v) -> System.out.println("| " + k + " | " + v + " |"));
        System.exit(0);
    }

    /**
     * Lands the topics of {@code landing} into a new lake with {@code workers} lake workers of one
     * consumer group ({@code source.workers: group}), side by side in this JVM (they share its 2
     * cores as processes on one machine would), each until it caught up with its topics; records
     * all their events over the time until the last one finished.
     */
    private static void landWithWorkers(Map<String, String> results, PipelineConfig landing, int workers, Path warehouse) throws Exception {
        io.tributary.config.KafkaSourceConfig source = (io.tributary.config.KafkaSourceConfig) landing.source();
        PipelineConfig config = new PipelineConfig("bench_workers", new io.tributary.config.KafkaSourceConfig(source.bootstrapServers(), source.topics(),
                source.topicPattern(), source.format(), "bench-workers-" + workers, Map.of(), source.heartbeatInterval(), source.reconnect(),
                io.tributary.config.KafkaSourceConfig.Workers.GROUP),
                new LakeConfig(warehouse, LakeConfig.RawLayer.ENABLED, landing.lake().history()), landing.models(), landing.commit(), Map.of());
        String measure = "Kafka: landing with " + workers + " lake worker(s)";
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(workers);
        try {
            Measure landed = Measure.start();
            List<java.util.concurrent.Future<Long>> runs = new ArrayList<>();
            for (int i = 0; i < workers; i++) {
                runs.add(pool.submit(() -> runOnce(config)));
            }
            long events = 0;
            for (java.util.concurrent.Future<Long> run : runs) {
                events += run.get();
            }
            results.put(measure, landed.rate(events, "events"));
            System.out.println(measure + ": " + results.get(measure));
        } finally {
            pool.shutdownNow();
        }
    }

    /** Runs the pipeline once to the source's current position, and records and prints its {@link Measure}. */
    private static void timedRun(Map<String, String> results, String measure, PipelineConfig config, String unit) {
        timedRun(results, measure, config, unit, new ArrayList<>());
    }

    /** A {@link #timedRun} of change events, recording the percentiles of its micro-batches' commit times as {@code commitMeasure}. */
    private static void streamingRun(Map<String, String> results, String measure, String commitMeasure, PipelineConfig config) {
        List<Long> commitTimes = new ArrayList<>();
        timedRun(results, measure, config, "events", commitTimes);
        results.put(commitMeasure, percentiles(commitTimes, "micro-batches"));
        System.out.println(commitMeasure + ": " + results.get(commitMeasure));
    }

    /** As {@link #timedRun(Map, String, PipelineConfig, String)}, adding each micro-batch's commit time (ms) to {@code commitTimes}. */
    private static void timedRun(Map<String, String> results, String measure, PipelineConfig config, String unit, List<Long> commitTimes) {
        Measure started = Measure.start();
        long events = runOnce(config, commitTimes);
        Rate rate = started.finish(events);
        RATES.put(measure, rate);
        results.put(measure, rate.describe(unit));
        System.out.println(measure + ": " + results.get(measure));
    }

    /** Runs a capture-only pipeline once to the source's current position, and records its {@link Measure}. */
    private static void timedCapture(Map<String, String> results, String measure, PipelineConfig config, String unit) {
        Measure started = Measure.start();
        long events;
        try (CapturePipeline capture = new CapturePipeline(config)) {
            capture.run(ChangeSource.RunMode.CATCH_UP);
            events = capture.eventsWritten();
        }
        results.put(measure, started.rate(events, unit));
        System.out.println(measure + ": " + results.get(measure));
    }

    /** Runs the pipeline once to the source's current position; returns the change events it committed. */
    static long runOnce(PipelineConfig config) {
        return runOnce(config, new ArrayList<>());
    }

    /** As {@link #runOnce(PipelineConfig)}, adding the commit time (ms) of each micro-batch with events to {@code commitTimes}. */
    static long runOnce(PipelineConfig config, List<Long> commitTimes) {
        long[] count = {0};
        try (Pipeline pipeline = Pipeline.open(config)) {
            pipeline.onCommit((events, at, commitTime) -> {
                count[0] += events.size();
                if (!events.isEmpty()) {
                    commitTimes.add(commitTime.toMillis());
                }
            });
            pipeline.run(ChangeSource.RunMode.CATCH_UP);
            pipeline.lake().close();
        }
        return count[0];
    }

    /**
     * Waits until no walsender holds the slot: PostgreSQL ends the previous run's walsender a moment
     * after its connection closes, and a run started before that waits 10 s in Debezium's retry
     * (error "replication slot ... is active for PID"), which would count as streaming time.
     */
    static void awaitSlotInactive(TestingPostgres postgres, String db, String slot) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        try (Connection c = postgres.connect(db);
             PreparedStatement active = c.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
            active.setString(1, slot);
            while (System.nanoTime() < deadline) {
                try (java.sql.ResultSet r = active.executeQuery()) {
                    if (!r.next() || !r.getBoolean(1)) {
                        return;
                    }
                }
                // Polling the catalog is the only way to see a walsender end.
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("Replication slot " + slot + " is still active after 30 s");
    }

    /** A measured run's count, wall seconds, this process's CPU seconds, and its JIT and GC seconds. */
    record Rate(long count, double seconds, double cpuSeconds, double jitSeconds, double gcSeconds) {
        double perSecond() {
            return count / seconds;
        }

        /** Rows or events per second of this process's CPU time (all threads). */
        double perCpuSecond() {
            return count / Math.max(1e-9, cpuSeconds);
        }

        String describe(String unit) {
            return String.format("%,d %s in %.1f s = %,.0f %s/s (%.1f µs CPU per %s, %,.0f %s per CPU-second; JIT compiling %.1f s, GC pauses %.1f s)", count, unit,
                    seconds, perSecond(), unit, cpuSeconds * 1e6 / Math.max(1, count), unit.substring(0, unit.length() - 1), perCpuSecond(), unit,
                    jitSeconds, gcSeconds);
        }
    }

    /** The freshness p99 (ms) of each freshness measure so far. */
    private static final Map<String, Long> FRESHNESS_P99 = new java.util.concurrent.ConcurrentHashMap<>();

    /** The rates of the runs measured so far, by measure. */
    private static final Map<String, Rate> RATES = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * One measured run: wall time, this process's CPU time (all threads, a measure less noisy than
     * wall time on a shared VM), and the JIT compilers' and the collector's time within it.
     */
    private record Measure(long startNanos, long startCpu, long startJit, long startGc) {
        static Measure start() {
            return new Measure(System.nanoTime(), cpuNanos(), jitMillis(), gcMillis());
        }

        /** {@code "1,000 rows in 2.0 s = 500 rows/s (40.0 µs CPU per row; JIT compiling 1.2 s, GC pauses 0.3 s)"}. */
        String rate(long count, String unit) {
            return finish(count).describe(unit);
        }

        /** The run's figures for {@code count} rows or events, now. */
        Rate finish(long count) {
            return new Rate(count, (System.nanoTime() - startNanos) / 1e9, (cpuNanos() - startCpu) / 1e9, (jitMillis() - startJit) / 1000.0,
                    (gcMillis() - startGc) / 1000.0);
        }

        private static long cpuNanos() {
            return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        }

        /** The compiler threads' accumulated time (wall time of compile tasks, summed over threads). */
        private static long jitMillis() {
            java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
            return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
        }

        private static long gcMillis() {
            long total = 0;
            for (java.lang.management.GarbageCollectorMXBean gc : java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
                total += Math.max(0, gc.getCollectionTime());
            }
            return total;
        }
    }

    /**
     * Freshness at a fixed rate: a pipeline runs continuously while {@code rate} events/s are written
     * for {@code seconds} (after 5 s of settling), and each event's source commit time is compared
     * with the moment its micro-batch became visible in silver.
     */
    private static void freshness(Map<String, String> results, String measure, PipelineConfig config, Workload workload, TestingPostgres postgres, String db,
                                  String slot, int rate, int seconds) throws Exception {
        System.out.printf("%s: %,d events/s for %d s ...%n", measure, rate, seconds);
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        List<Long> commitTimes = Collections.synchronizedList(new ArrayList<>());
        awaitSlotInactive(postgres, db, slot);
        Pipeline pipeline = Pipeline.open(config);
        Instant measureFrom = Instant.now().plusSeconds(5);
        pipeline.onCommit((events, visibleAt, commitTime) -> {
            boolean measured = false;
            for (ChangeEvent e : events) {
                if (e.commitTimestamp().isAfter(measureFrom)) {
                    latencies.add(Duration.between(e.commitTimestamp(), visibleAt).toMillis());
                    measured = true;
                }
            }
            if (measured) {
                commitTimes.add(commitTime.toMillis());
            }
        });
        BackgroundRun run = BackgroundRun.start(pipeline, ChangeSource.RunMode.CONTINUOUS);
        long written = 4L * workload.paced(rate / 4, Duration.ofSeconds(5 + seconds));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (pipeline.status().committedEvents() < written && System.nanoTime() < deadline && run.isRunning()) {
            run.await(Duration.ofMillis(50));
        }
        run.stop(Duration.ofSeconds(120));
        pipeline.lake().close();
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        FRESHNESS_P99.put(measure, sorted.isEmpty() ? -1L : percentile(sorted, 99));
        results.put(measure, sorted.isEmpty() ? "no events" : String.format("p50 %d ms, p99 %d ms, max %d ms over %,d events; commits %s",
                percentile(sorted, 50), percentile(sorted, 99), sorted.get(sorted.size() - 1), sorted.size(), percentiles(commitTimes, "micro-batches")));
        System.out.println(measure + ": " + results.get(measure));
    }

    /**
     * Freshness through Kafka: the capture into Kafka and the landing of its topics run side by side
     * (two pipelines in this process, as two machines would run them) while {@code rate} events/s are
     * written for {@code seconds} (after 5 s of settling); each event's source commit time is
     * compared with the moment the landing's micro-batch holding it became visible in silver.
     */
    private static void kafkaFreshness(Map<String, String> results, PipelineConfig capture, PipelineConfig landing, Workload workload, int rate,
                                       int seconds) throws Exception {
        String measure = "Kafka: freshness (commit -> Kafka -> visible in silver)";
        System.out.printf("%s: %,d events/s for %d s ...%n", measure, rate, seconds);
        List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
        Instant measureFrom = Instant.now().plusSeconds(5);
        Pipeline lake = Pipeline.open(landing);
        lake.onCommit((events, visibleAt, commitTime) -> {
            for (ChangeEvent e : events) {
                if (e.commitTimestamp().isAfter(measureFrom)) {
                    latencies.add(Duration.between(e.commitTimestamp(), visibleAt).toMillis());
                }
            }
        });
        BackgroundRun landingRun = BackgroundRun.start(lake, ChangeSource.RunMode.CONTINUOUS);
        CapturePipeline captureRun = new CapturePipeline(capture);
        Thread captureThread = new Thread(() -> captureRun.run(ChangeSource.RunMode.CONTINUOUS), "bench-capture");
        captureThread.start();
        try {
            long written = 4L * workload.paced(rate / 4, Duration.ofSeconds(5 + seconds));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (lake.status().committedEvents() < written && System.nanoTime() < deadline && landingRun.isRunning()) {
                landingRun.await(Duration.ofMillis(50));
            }
        } finally {
            captureRun.close();
            captureThread.join(Duration.ofSeconds(120).toMillis());
            landingRun.stop(Duration.ofSeconds(120));
            lake.lake().close();
        }
        List<Long> sorted = new ArrayList<>(latencies);
        Collections.sort(sorted);
        results.put(measure, sorted.isEmpty() ? "no events" : String.format("p50 %d ms, p99 %d ms, max %d ms over %,d events", percentile(sorted, 50),
                percentile(sorted, 99), sorted.get(sorted.size() - 1), sorted.size()));
        System.out.println(measure + ": " + results.get(measure));
    }

    /** {@code "p50 120 ms, p99 340 ms over 25 micro-batches"}. */
    private static String percentiles(List<Long> millis, String unit) {
        if (millis.isEmpty()) {
            return "none";
        }
        List<Long> sorted = new ArrayList<>(millis);
        Collections.sort(sorted);
        return String.format("p50 %d ms, p99 %d ms over %,d %s", percentile(sorted, 50), percentile(sorted, 99), sorted.size(), unit);
    }

    private static long percentile(List<Long> sorted, int p) {
        int index = (int) Math.ceil(p / 100.0 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    private static PipelineConfig config(TestingPostgres postgres, String db, Path dir, String slot, LakeConfig.HistoryLayer history, SnapshotConfig snapshot,
                                         CommitConfig commit) {
        return config("bench", postgres, db, new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED, history), slot, snapshot, commit);
    }

    private static PipelineConfig config(String name, TestingPostgres postgres, String db, LakeConfig lake, String slot, SnapshotConfig snapshot, CommitConfig commit) {
        return new PipelineConfig(name,
                new PostgresSourceConfig(postgres.host(), postgres.port(), db, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE, List.of(),
                        slot, slot, Duration.ofSeconds(1), Duration.ofSeconds(10)).withSnapshot(snapshot),
                lake,
                new ModelsConfig(Optional.empty(), Duration.ofSeconds(30)),
                commit, Map.of());
    }

    private static Map<String, String> options(String[] args) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String a : args) {
            if (!a.startsWith("--") || !a.contains("=")) {
                throw new IllegalArgumentException("Options look like --accounts=1000000, got '" + a + "'");
            }
            out.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
        }
        return out;
    }

    /** The pgbench schema and its TPC-B-like transaction. */
    static final class Workload {
        private final TestingPostgres postgres;
        private final String db;
        private int accounts;

        Workload(TestingPostgres postgres, String db) {
            this.postgres = postgres;
            this.db = db;
        }

        void create(int accounts) {
            this.accounts = accounts;
            int branches = Math.max(1, accounts / 100_000);
            postgres.execute(db,
                    "CREATE TABLE pgbench_branches (bid int PRIMARY KEY, bbalance int, filler char(88))",
                    "CREATE TABLE pgbench_tellers (tid int PRIMARY KEY, bid int, tbalance int, filler char(84))",
                    "CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))",
                    "CREATE TABLE pgbench_history (hid bigserial PRIMARY KEY, tid int, bid int, aid int, delta int, mtime timestamp, filler char(22))",
                    "INSERT INTO pgbench_branches SELECT g, 0, '' FROM generate_series(1, " + branches + ") g",
                    "INSERT INTO pgbench_tellers SELECT g, 1 + (g - 1) / 10, 0, '' FROM generate_series(1, " + branches * 10 + ") g",
                    "INSERT INTO pgbench_accounts SELECT g, 1 + (g - 1) / 100000, 0, '' FROM generate_series(1, " + accounts + ") g",
                    "ANALYZE");
        }

        /** {@code n} transactions written server-side as fast as PostgreSQL can commit them. */
        void transactions(int n) {
            int tellers = Math.max(1, accounts / 100_000) * 10;
            postgres.execute(db, "DO $$ DECLARE a int; t int; d int; BEGIN FOR i IN 1.." + n + " LOOP "
                    + "a := 1 + floor(random() * " + accounts + ")::int; t := 1 + floor(random() * " + tellers + ")::int; d := floor(random() * 10000)::int - 5000; "
                    + "UPDATE pgbench_accounts SET abalance = abalance + d WHERE aid = a; "
                    + "UPDATE pgbench_tellers SET tbalance = tbalance + d WHERE tid = t; "
                    + "UPDATE pgbench_branches SET bbalance = bbalance + d WHERE bid = 1 + (t - 1) / 10; "
                    + "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (t, 1 + (t - 1) / 10, a, d, now()); "
                    + "COMMIT; END LOOP; END $$");
        }

        /**
         * {@code perSecond} transactions a second, evenly spaced, for {@code duration}; returns how
         * many were committed. They commit with PostgreSQL's default {@code synchronous_commit = on}
         * (the test server's default is off, for loading speed): an asynchronous commit reaches the
         * WAL sender only when the WAL writer flushes, every {@code wal_writer_delay} (200 ms), which
         * a production server's commits do not wait for.
         */
        long paced(int perSecond, Duration duration) throws Exception {
            long committed = 0;
            Random random = new Random(1);
            int tellers = Math.max(1, accounts / 100_000) * 10;
            try (Connection c = postgres.connect(db);
                 java.sql.Statement settings = c.createStatement();
                 PreparedStatement a = c.prepareStatement("UPDATE pgbench_accounts SET abalance = abalance + ? WHERE aid = ?");
                 PreparedStatement t = c.prepareStatement("UPDATE pgbench_tellers SET tbalance = tbalance + ? WHERE tid = ?");
                 PreparedStatement b = c.prepareStatement("UPDATE pgbench_branches SET bbalance = bbalance + ? WHERE bid = ?");
                 PreparedStatement h = c.prepareStatement("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (?, ?, ?, ?, now())")) {
                settings.execute("SET synchronous_commit = on");
                c.setAutoCommit(false);
                long interval = 1_000_000_000L / Math.max(1, perSecond);
                long next = System.nanoTime();
                long end = next + duration.toNanos();
                while (System.nanoTime() < end) {
                    int aid = 1 + random.nextInt(accounts);
                    int tid = 1 + random.nextInt(tellers);
                    int bid = 1 + (tid - 1) / 10;
                    int delta = random.nextInt(10000) - 5000;
                    a.setInt(1, delta);
                    a.setInt(2, aid);
                    a.executeUpdate();
                    t.setInt(1, delta);
                    t.setInt(2, tid);
                    t.executeUpdate();
                    b.setInt(1, delta);
                    b.setInt(2, bid);
                    b.executeUpdate();
                    h.setInt(1, tid);
                    h.setInt(2, bid);
                    h.setInt(3, aid);
                    h.setInt(4, delta);
                    h.executeUpdate();
                    c.commit();
                    committed++;
                    next += interval;
                    long wait = next - System.nanoTime();
                    if (wait > 0) {
                        java.util.concurrent.locks.LockSupport.parkNanos(wait);
                    }
                }
            }
            return committed;
        }
    }

    static void deleteRecursively(Path dir) {
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (java.io.IOException | java.io.UncheckedIOException e) {
            System.err.println("Cannot remove " + dir + ": " + e.getMessage());
        }
    }
}
