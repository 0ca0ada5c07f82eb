package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.ReconnectConfig;
import io.tributary.config.SslMode;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ErrorCode;
import io.tributary.source.postgres.Lsn;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The source goes away mid-stream (PostgreSQL restarted fast or immediately, the walsender
 * terminated): a continuously running pipeline reconnects with backoff, commits what was delivered,
 * resumes from the lake, and the lake is exact afterwards. A source gone for longer than
 * {@code source.reconnect.max-elapsed} ends the run with SOURCE_UNREACHABLE, and status says
 * "reconnecting" while it retries.
 */
class SourceRestartIT {
    private static TestingPostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
    }

    @AfterAll
    static void stop() {
        postgres.close();
    }

    private PipelineConfig config(String name, ReconnectConfig reconnect) {
        postgres.createDatabase(name);
        postgres.execute(name, "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)",
                "INSERT INTO accounts SELECT g, 1000 FROM generate_series(1, 500) g");
        return new PipelineConfig(name,
                new PostgresSourceConfig(postgres.host(), postgres.port(), name, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                        List.of(new TableId("public", "accounts")), "tributary_" + name, "tributary_" + name, Duration.ofSeconds(1), Duration.ofSeconds(5),
                        reconnect),
                new LakeConfig(dir.resolve(name), LakeConfig.RawLayer.ENABLED), new ModelsConfig(Optional.empty(), Duration.ofSeconds(1)),
                new CommitConfig(Duration.ofMillis(200), 10_000), Map.of());
    }

    /** Single-row transactions, so the pipeline is mid-stream when the fault hits. */
    private static void transfers(String db, int first, int count) throws Exception {
        try (Connection c = postgres.connect(db); Statement s = c.createStatement()) {
            for (int i = first; i < first + count; i++) {
                s.execute("UPDATE accounts SET balance = balance + " + (i % 13 - 6) + " WHERE id = " + (1 + i % 500));
                if (i % 50 == 0) {
                    s.execute("INSERT INTO accounts VALUES (" + (1000 + i) + ", " + i + ")");
                }
            }
        }
    }

    private static Lsn currentWal() {
        return Lsn.parse(postgres.queryOne("postgres", "SELECT pg_current_wal_lsn()::text"));
    }

    private void survives(String name, Runnable fault) throws Exception {
        PipelineConfig config = config(name, new ReconnectConfig(Duration.ofSeconds(60), Duration.ofMillis(200), Duration.ofSeconds(2)));
        Pipeline pipeline = Pipeline.open(config);
        BackgroundRun run = BackgroundRun.start(pipeline, ChangeSource.RunMode.CONTINUOUS);
        try {
            await("the initial snapshot is committed", run, () -> pipeline.status().committedEvents() >= 500);
            transfers(name, 0, 1500);
            fault.run();
            transfers(name, 1500, 500);
            Lsn written = currentWal();
            // What the broken connection delivered is committed before the pipeline says it is
            // reconnecting: wait for both the position and the new connection's first delivery.
            await("the pipeline reconnected and committed what was written after the fault", run,
                    () -> !Lsn.of(pipeline.status().committedThrough()).isBefore(written) && pipeline.status().reconnecting().isEmpty());
        } finally {
            run.stop(Duration.ofSeconds(60));
            pipeline.lake().close();
        }
        assertLakeEqualsSource(config, name);
        postgres.execute("postgres", "SELECT pg_drop_replication_slot('tributary_" + name + "')");
    }

    private static void assertLakeEqualsSource(PipelineConfig config, String db) {
        List<String> source = postgres.query(db, "SELECT count(*)::text, sum(balance)::text, sum(hashtext(id || ':' || balance))::text FROM accounts").get(0);
        try (Lake lake = Lake.open(config.lake(), config.name(), t -> TableOptions.DEFAULT); QueryEngine q = QueryEngine.open(lake.tables())) {
            List<List<Object>> rows = q.query("SELECT id, balance FROM silver.accounts").rows();
            List<String> silver = postgres.checksumRows(db, "accounts", rows, "SELECT count(*)::text, sum(balance)::text, sum(hashtext(id || ':' || balance))::text FROM %s");
            assertThat(silver).isEqualTo(source);
            assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze.accounts").rows().get(0).get(0)).as("a position twice in bronze").isEqualTo(0L);
        }
    }

    @Test
    void fastRestart() throws Exception {
        survives("fast", () -> postgres.restart(TestingPostgres.ShutdownMode.FAST));
    }

    @Test
    void immediateRestart() throws Exception {
        survives("immediate", () -> postgres.restart(TestingPostgres.ShutdownMode.IMMEDIATE));
    }

    @Test
    void terminatedWalsender() throws Exception {
        // With a timeout, pg_terminate_backend waits until the walsender has exited (PostgreSQL 14+):
        // what is written next can only reach the lake through a new connection.
        survives("terminated", () -> assertThat(postgres.queryOne("postgres",
                "SELECT pg_terminate_backend(active_pid, 30000)::text FROM pg_replication_slots WHERE slot_name = 'tributary_terminated'")).isEqualTo("true"));
    }

    @Test
    void givesUpPastMaxElapsedAndSaysReconnectingMeanwhile() throws Exception {
        PipelineConfig config = config("gone", new ReconnectConfig(Duration.ofSeconds(4), Duration.ofMillis(200), Duration.ofSeconds(1)));
        Pipeline pipeline = Pipeline.open(config);
        BackgroundRun run = BackgroundRun.start(pipeline, ChangeSource.RunMode.CONTINUOUS);
        try {
            await("the initial snapshot is committed", run, () -> pipeline.status().committedEvents() >= 500);
            postgres.stop(TestingPostgres.ShutdownMode.FAST);
            await("status says reconnecting", run, () -> pipeline.status().reconnecting().map(r -> r.attempt() >= 2).orElse(false));
            assertThat(pipeline.status().reconnecting().get().lastError()).contains("127.0.0.1:" + postgres.port());
            // What `tributary status`, another process, reads.
            assertThat(ReconnectingFile.read(config.lake().stateOf(config.name()))).get().satisfies(r -> {
                assertThat(r.attempt()).isGreaterThanOrEqualTo(1);
                assertThat(r.lastError()).contains("127.0.0.1:" + postgres.port());
            });
            assertThat(run.await(Duration.ofSeconds(60))).as("the run gives up").isTrue();
        } finally {
            postgres.start();
            pipeline.lake().close();
        }
        assertThat(ReconnectingFile.read(config.lake().stateOf(config.name()))).as("cleared when the run ends").isEmpty();
        assertThat(run.failure()).get().isInstanceOfSatisfying(TributaryException.class, e -> {
            assertThat(e.errorCode()).isEqualTo(ErrorCode.SOURCE_UNREACHABLE);
            assertThat(e.errorCode().kind().exitCode()).isEqualTo(4);
            assertThat(e.getMessage()).contains("Cannot reconnect to PostgreSQL at 127.0.0.1:" + postgres.port(), "past source.reconnect.max-elapsed (4 s)",
                    "last error:");
        });
        postgres.dropInactiveSlots();
    }

    private static void await(String what, BackgroundRun run, BooleanSupplier condition) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
        while (!condition.getAsBoolean()) {
            assertThat(run.isRunning()).as("the pipeline ended while waiting until %s: %s", what, run.failure()).isTrue();
            assertThat(Instant.now()).as("waiting until %s", what).isBefore(deadline);
            run.await(Duration.ofMillis(100));
        }
    }
}
