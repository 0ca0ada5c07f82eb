package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.testing.SeededWorkload;
import io.tributary.testing.TestingPostgres;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tributary run} as its own process: SIGTERM mid-stream commits what it has and exits 0, also
 * mid-batch under a heavy workload within a bounded time, and a restart resumes exactly.
 */
class SigtermIT {
    @TempDir
    Path dir;

    @Test
    void sigtermStopsCleanlyAndRestartResumes() throws Exception {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("term");
            postgres.execute(db, "CREATE TABLE events (id bigint PRIMARY KEY, payload text)",
                    "INSERT INTO events SELECT g, 'p' || g FROM generate_series(1, 5000) g");
            Path config = dir.resolve("pipeline.yaml");
            Files.writeString(config, """
                    name: term
                    source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                    lake: {warehouse: ./lake}
                    commit: {interval: 300ms}
                    """.formatted(postgres.port(), db));
            Path log = dir.resolve("run.log");
            Process run = new ProcessBuilder(java(), "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "-c", config.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            int next = 5001;
            while (!Files.readString(log).contains("Committed") && System.nanoTime() < deadline && run.isAlive()) {
                postgres.execute(db, "INSERT INTO events VALUES (" + next++ + ", 'live')");
            }
            for (int i = 0; i < 200; i++) {
                postgres.execute(db, "INSERT INTO events VALUES (" + next++ + ", 'live')");
            }
            assertThat(run.isAlive()).as(Files.readString(log)).isTrue();
            run.destroy();
            assertThat(run.waitFor(60, TimeUnit.SECONDS)).as("exited within 60 s").isTrue();
            assertThat(run.exitValue()).as(Files.readString(log)).isZero();

            postgres.execute(db, "UPDATE events SET payload = 'changed' WHERE id % 7 = 0", "DELETE FROM events WHERE id % 11 = 0");
            assertThat(Main.execute("run", "-c", config.toString(), "--once")).isZero();
            StringWriterResult count = sql(config, "SELECT count(*), count(*) FILTER (WHERE payload = 'changed') FROM silver.events");
            List<String> expected = postgres.query(db, "SELECT count(*)::text, count(*) FILTER (WHERE payload = 'changed')::text FROM events").get(0);
            assertThat(count.out().trim()).isEqualTo("count_star(),count_star() FILTER (WHERE (payload = 'changed'))\n" + expected.get(0) + "," + expected.get(1));
            StringWriterResult duplicates = sql(config, "SELECT count(*) - count(DISTINCT _position) AS duplicates FROM bronze.events");
            assertThat(duplicates.out().trim()).isEqualTo("duplicates\n0");
        }
    }

    /**
     * SIGTERM while micro-batches are being written under a continuous, heavy workload (the commit
     * thread is busy nearly all the time): the batch in flight and the buffered events commit, the
     * process exits 0 within {@link #STOP_BOUND}, and a {@code run --once} makes the lake equal the source.
     */
    @Test
    void sigtermMidBatchUnderHeavyLoadExitsWithinBound() throws Exception {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("heavy");
            Path config = dir.resolve("heavy.yaml");
            Files.writeString(config, """
                    name: heavy
                    source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                    lake: {warehouse: ./heavy-lake}
                    commit: {interval: 200ms, max-events: 20000}
                    """.formatted(postgres.port(), db));
            Path log = dir.resolve("heavy.log");
            Duration stopped;
            try (SeededWorkload workload = new SeededWorkload(postgres, db, 3)) {
                workload.create(20_000);
                workload.start(100_000);
                Process run = new ProcessBuilder(java(), "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "-c", config.toString())
                        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
                try {
                    // Streaming under load: several commits of change events after the initial snapshot.
                    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                    while (commits(log) < 5 && run.isAlive() && System.nanoTime() < deadline) {
                        run.waitFor(100, TimeUnit.MILLISECONDS);
                    }
                    assertThat(commits(log)).as(Files.readString(log)).isGreaterThanOrEqualTo(5);
                    long start = System.nanoTime();
                    run.destroy();
                    assertThat(run.waitFor(STOP_BOUND.toSeconds(), TimeUnit.SECONDS)).as("exited within %s: %s", STOP_BOUND, log).isTrue();
                    stopped = Duration.ofNanos(System.nanoTime() - start);
                    assertThat(run.exitValue()).as(Files.readString(log)).isZero();
                } finally {
                    run.destroyForcibly();
                }
                System.out.printf("SigtermIT: stopped in %d ms under a workload of %d transactions so far%n", stopped.toMillis(), workload.committedTransactions());
            }
            String output = Files.readString(log);
            String afterSignal = output.substring(output.indexOf("Received SIGTERM"));
            assertThat(afterSignal).as("the batch being written and the buffered events committed after the signal").contains("Committed");
            assertThat(output).doesNotContain("error: ");

            assertThat(Main.execute("run", "-c", config.toString(), "--once")).isZero();
            String accounts = "SELECT count(*)::text, coalesce(sum(hashtext(id::text || '|' || owner || '|' || balance::text || '|' || version::text || '|' || coalesce(note, '<null>'))::bigint), 0)::text FROM %s";
            String ledger = "SELECT count(*)::text, coalesce(sum(hashtext(id::text || '|' || account_id::text || '|' || amount::text || '|' || coalesce(memo, '<null>'))::bigint), 0)::text FROM %s";
            try (Lake lake = Lake.open(new LakeConfig(dir.resolve("heavy-lake"), LakeConfig.RawLayer.ENABLED), "heavy", t -> TableOptions.DEFAULT);
                 QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(postgres.checksumRows(db, "accounts", q.query("SELECT id, owner, balance, version, note FROM silver.accounts").rows(), accounts))
                        .isEqualTo(postgres.query(db, accounts.formatted("accounts")).get(0));
                assertThat(postgres.checksumRows(db, "ledger", q.query("SELECT id, account_id, amount, memo FROM silver.ledger").rows(), ledger))
                        .isEqualTo(postgres.query(db, ledger.formatted("ledger")).get(0));
                for (String table : List.of("accounts", "ledger")) {
                    assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze." + table).rows()).as("bronze.%s", table)
                            .containsExactly(List.of(0L));
                }
            }
            postgres.dropInactiveSlots();
            postgres.execute(db, "DROP PUBLICATION tributary_heavy");
        }
    }

    /**
     * Regression: a stop waited for the gold build in progress and built gold again in full (about
     * 24 s in the demo), and logged an ERROR with a stack trace for the replication connection it had
     * ended itself. Now SIGTERM cancels the build, gold keeps its previous state, and the log (with
     * the logging configuration users get) has no ERROR.
     */
    @Test
    void sigtermDuringAGoldBuildCancelsItAndStopsQuicklyWithoutAnError() throws Exception {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("goldstop");
            postgres.execute(db, "CREATE TABLE events (id bigint PRIMARY KEY, payload text)",
                    "INSERT INTO events SELECT g, 'p' || g FROM generate_series(1, 5000) g");
            Path models = Files.createDirectories(dir.resolve("models/gold"));
            Files.writeString(models.resolve("summary.sql"), "SELECT count(*) AS n FROM silver.events\n");
            Path config = dir.resolve("goldstop.yaml");
            Files.writeString(config, """
                    name: goldstop
                    source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                    lake: {warehouse: ./goldstop-lake}
                    models: ./models
                    commit: {interval: 300ms}
                    """.formatted(postgres.port(), db));
            assertThat(Main.execute("run", "-c", config.toString(), "--once")).isZero();
            assertThat(sql(config, "SELECT n FROM gold.summary").out().trim()).isEqualTo("n\n5000");
            // The same model, now taking minutes: the build after the first commit is still running at the signal.
            Files.writeString(models.resolve("summary.sql"),
                    "SELECT count(*) AS n FROM silver.events e, range(1000000000) r WHERE (e.id * r.range) % 1000003 = 17\n");

            Path log = dir.resolve("goldstop.log");
            Path logging = Path.of("target", "classes", "logback.xml").toAbsolutePath();
            Process run = new ProcessBuilder(java(), "-Dlogback.configurationFile=" + logging, "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "run", "-c", config.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            Duration stopped;
            try {
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                int next = 5001;
                while (!Files.readString(log).contains("Committed") && System.nanoTime() < deadline && run.isAlive()) {
                    postgres.execute(db, "INSERT INTO events VALUES (" + next++ + ", 'live')");
                }
                assertThat(run.isAlive()).as(Files.readString(log)).isTrue();
                assertThat(Files.readString(log)).contains("Committed");
                long start = System.nanoTime();
                run.destroy();
                assertThat(run.waitFor(GOLD_STOP_BOUND.toSeconds(), TimeUnit.SECONDS)).as("exited within %s: %s", GOLD_STOP_BOUND, Files.readString(log))
                        .isTrue();
                stopped = Duration.ofNanos(System.nanoTime() - start);
            } finally {
                run.destroyForcibly();
            }
            String output = Files.readString(log);
            System.out.printf("SigtermIT: stopped in %d ms during a gold build%n", stopped.toMillis());
            assertThat(run.exitValue()).as(output).isZero();
            assertThat(output.lines().filter(l -> l.contains(" ERROR ") || l.startsWith("\tat "))).as(output).isEmpty();
            assertThat(output).doesNotContain("Built gold.summary");
            assertThat(sql(config, "SELECT n FROM gold.summary").out().trim()).as("gold keeps its previous state").isEqualTo("n\n5000");
            postgres.dropInactiveSlots();
            postgres.execute(db, "DROP PUBLICATION tributary_goldstop");
        }
    }

    /** A stop during a gold build: the build is cancelled, not awaited. */
    private static final Duration GOLD_STOP_BOUND = Duration.ofSeconds(10);

    /**
     * The stop bound: capture waits for the handler's current call (at most one micro-batch commit),
     * Debezium's engine is given 30 s to stop, then the buffered events (at most commit.max-events)
     * commit. Measured: a few seconds.
     */
    private static final Duration STOP_BOUND = Duration.ofSeconds(30);

    private static long commits(Path log) throws java.io.IOException {
        return Files.readAllLines(log).stream().filter(l -> l.contains("Committed")).count();
    }

    record StringWriterResult(int code, String out) {
    }

    private static StringWriterResult sql(Path config, String query) {
        java.io.StringWriter out = new java.io.StringWriter();
        int code = Main.execute(new java.io.PrintWriter(out, true), new java.io.PrintWriter(new java.io.StringWriter(), true),
                "sql", "-c", config.toString(), "--format", "csv", query);
        return new StringWriterResult(code, out.toString().replace("\r", ""));
    }

    private static String java() {
        return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    }
}
