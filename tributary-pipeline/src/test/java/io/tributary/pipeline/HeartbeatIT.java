package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.spi.ChangeSource;
import io.tributary.source.postgres.Lsn;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Captured tables stay idle while another database of the cluster writes tens of MB of WAL: the
 * slot's {@code confirmed_flush_lsn} and {@code restart_lsn} must keep moving, so the WAL
 * PostgreSQL retains for the slot stays bounded, and the lake's watermark must move with them
 * (heartbeats committed as watermark-only updates), so that a restart, even one that follows a
 * stop while the other database writes, resumes instead of reporting a slot gap.
 */
class HeartbeatIT {
    private static final long MB = 1024 * 1024;

    @TempDir
    Path dir;

    @Test
    void idleTablesDoNotPinTheWal() throws Exception {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String quiet = postgres.createDatabase("quiet");
            String busy = postgres.createDatabase("busy");
            postgres.execute(quiet, "CREATE TABLE items (id int PRIMARY KEY, label text)", "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 10) g");
            // Stored uncompressed, so the WAL grows by what is written.
            postgres.execute(busy, "CREATE TABLE filler (id bigserial PRIMARY KEY, payload text)", "ALTER TABLE filler ALTER payload SET STORAGE PLAIN");
            PipelineConfig config = new PipelineConfig("quiet",
                    new PostgresSourceConfig(postgres.host(), postgres.port(), quiet, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                            List.of(new TableId("public", "items")), "tributary_quiet", "tributary_quiet", Duration.ofSeconds(1), Duration.ofSeconds(5)),
                    new LakeConfig(dir, LakeConfig.RawLayer.ENABLED), new ModelsConfig(Optional.empty(), Duration.ofSeconds(1)),
                    new CommitConfig(Duration.ofMillis(200), 10_000), Map.of());

            Pipeline pipeline = Pipeline.open(config);
            BackgroundRun run = BackgroundRun.start(pipeline, ChangeSource.RunMode.CONTINUOUS);
            try {
                await("the initial snapshot is committed", run, () -> pipeline.status().committedEvents() == 10);
                SourcePosition snapshotWatermark = pipeline.status().committedThrough();

                Lsn before = currentWal(postgres);
                for (int round = 0; round < 20; round++) {
                    postgres.execute(busy, "INSERT INTO filler (payload) SELECT repeat(md5(g::text), 56) FROM generate_series(1, 1500) g");
                }
                Lsn after = currentWal(postgres);
                assertThat(before.bytesUntil(after)).as("WAL written by the other database").isGreaterThan(40 * MB);

                await("the slot is confirmed past the other database's writes and retains less than 16 MB", run, () -> {
                    List<String> slot = postgres.query("postgres", "SELECT confirmed_flush_lsn::text, (pg_current_wal_lsn() - restart_lsn)::bigint::text "
                            + "FROM pg_replication_slots WHERE slot_name = 'tributary_quiet'").get(0);
                    return !Lsn.parse(slot.get(0)).isBefore(after) && Long.parseLong(slot.get(1)) < 16 * MB;
                });
                assertThat(pipeline.status().committedEvents()).as("no change event of the idle tables").isEqualTo(10);
                assertThat(Lsn.of(pipeline.status().committedThrough())).as("the lake's watermark moved with the slot")
                        .isGreaterThanOrEqualTo(after);
                assertThat(pipeline.status().committedThrough()).isGreaterThan(snapshotWatermark);

                // Stopped while the other database writes: the slot may be no further than the lake.
                for (int round = 0; round < 5; round++) {
                    postgres.execute(busy, "INSERT INTO filler (payload) SELECT repeat(md5(g::text), 56) FROM generate_series(1, 1500) g");
                }
            } finally {
                run.stop(Duration.ofSeconds(60));
                pipeline.lake().close();
            }

            // The slot was never confirmed past the lake: the pipeline resumes, and a change streams in.
            postgres.execute(quiet, "UPDATE items SET label = 'changed' WHERE id = 1");
            try (Pipeline again = Pipeline.open(config)) {
                again.run(ChangeSource.RunMode.CATCH_UP);
                assertThat(again.status().committedEvents()).isEqualTo(1);
                again.lake().close();
            }
            postgres.dropInactiveSlots();
        }
    }

    private static Lsn currentWal(TestingPostgres postgres) {
        return Lsn.parse(postgres.queryOne("postgres", "SELECT pg_current_wal_lsn()::text"));
    }

    private static void await(String what, BackgroundRun run, BooleanSupplier condition) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
        while (!condition.getAsBoolean()) {
            assertThat(run.isRunning()).as("the pipeline ended: %s", run.failure()).isTrue();
            assertThat(Instant.now()).as("waiting until %s", what).isBefore(deadline);
            run.await(Duration.ofMillis(200));
        }
    }
}
