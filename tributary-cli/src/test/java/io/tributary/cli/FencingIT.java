package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.commit.StateTable;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ErrorCode;
import io.tributary.testing.ChildJvm;
import io.tributary.testing.TestingPostgres;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One pipeline per lake and per replication slot: a second {@code run} on a lake whose owner is alive
 * is refused naming the owner, a second lake reading the same slot is refused naming the slot and the
 * server process, an idle owner keeps renewing its lease, and after the owner is SIGKILLed a restart takes the lake over (next epoch) and
 * catches up exactly.
 */
class FencingIT {
    @TempDir
    Path dir;

    @Test
    void secondPipelineIsRefusedAndAKilledOwnerIsTakenOver() throws Exception {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("fence");
            postgres.execute(db, "CREATE TABLE events (id bigint PRIMARY KEY, payload text)",
                    "INSERT INTO events SELECT g, 'p' || g FROM generate_series(1, 1000) g");
            Path config = writeConfig("pipeline.yaml", "./lake", postgres.port(), db);
            Path log = dir.resolve("owner.log");
            try (ChildJvm owner = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", config.toString()), log)) {
                long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (!Files.readString(log).contains("Committed") && owner.isAlive() && System.nanoTime() < deadline) {
                    postgres.execute(db, "SELECT 1");
                }
                assertThat(Files.readString(log)).as("the owner committed").contains("Committed");

                // Idle (no change in the source), the owner still renews its lease every few seconds.
                try (LakeCatalog catalog = LakeCatalog.open(dir.resolve("lake"))) {
                    String renewed = catalog.currentSummary(StateTable.ID).get("tributary.lease.renewed-at");
                    long idle = System.nanoTime() + Lake.LEASE_RENEWAL.multipliedBy(2).toNanos();
                    while (renewed.equals(catalog.currentSummary(StateTable.ID).get("tributary.lease.renewed-at")) && System.nanoTime() < idle) {
                        owner.waitFor(Duration.ofMillis(200));
                    }
                    assertThat(catalog.currentSummary(StateTable.ID).get("tributary.lease.renewed-at")).as("renewed while idle").isNotEqualTo(renewed);
                }

                Result second = run(config, "--once");
                assertThat(second.code()).as(second.err()).isEqualTo(ErrorCode.PIPELINE_FENCED.kind().exitCode()).isEqualTo(3);
                assertThat(second.err()).startsWith("error: Cannot start pipeline fence: the lake in ")
                        .contains("is held by owner ").contains("pid " + owner.pid() + ", epoch 1").contains("Stop that pipeline first");

                Path otherLake = writeConfig("other.yaml", "./other-lake", postgres.port(), db);
                Result sameSlot = run(otherLake, "--once");
                String activePid = postgres.queryOne(db, "SELECT active_pid::text FROM pg_replication_slots WHERE slot_name = 'tributary_fence'");
                assertThat(sameSlot.code()).as(sameSlot.err()).isEqualTo(3);
                assertThat(sameSlot.err()).contains("Cannot start streaming from replication slot tributary_fence: it is in use by server process " + activePid);

                assertThat(owner.isAlive()).as("the refused pipelines left the owner running: %s", log).isTrue();
                owner.kill();
            }
            // What the driver may have done before the kill: confirm a keepalive position past the
            // lake's watermark, over WAL that holds no change of the publication (other databases wrote).
            String elsewhere = postgres.createDatabase("elsewhere");
            postgres.execute(elsewhere, "CREATE TABLE noise (x int)", "INSERT INTO noise SELECT generate_series(1, 10000)");
            long released = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while ("true".equals(postgres.queryOne(db, "SELECT active::text FROM pg_replication_slots WHERE slot_name = 'tributary_fence'"))
                    && System.nanoTime() < released) {
                postgres.execute(db, "SELECT pg_stat_clear_snapshot()");
            }
            postgres.execute(db, "SELECT pg_replication_slot_advance('tributary_fence', pg_current_wal_lsn())");
            postgres.execute(db, "UPDATE events SET payload = 'after kill' WHERE id % 3 = 0", "INSERT INTO events VALUES (1001, 'new')");

            // The owner died without releasing its lease: on the same host its dead process frees it at
            // once, and the slot standing ahead of the lake is taken for the driver's keepalive confirmation.
            Result restart = run(config, "--once");
            assertThat(restart.code()).as(restart.err()).isZero();
            try (Lake lake = Lake.open(new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED), "fence", t -> TableOptions.DEFAULT);
                 QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(lake.catalog().currentSummary(StateTable.ID)).containsEntry("tributary.lease.epoch", "2")
                        .containsEntry("tributary.lease.released", "true");
                assertThat(q.query("SELECT count(*), count(*) FILTER (WHERE payload = 'after kill') FROM silver.events").rows())
                        .containsExactly(List.of(1001L, 333L));
                assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze.events").rows()).containsExactly(List.of(0L));
            }
            postgres.dropInactiveSlots();
            postgres.execute(db, "DROP PUBLICATION tributary_fence");
        }
    }

    private Path writeConfig(String name, String warehouse, int port, String db) throws Exception {
        Path config = dir.resolve(name);
        Files.writeString(config, """
                name: fence
                source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                lake: {warehouse: %s}
                commit: {interval: 300ms}
                """.formatted(port, db, warehouse));
        return config;
    }

    record Result(int code, String err) {
    }

    private static Result run(Path config, String... extra) {
        StringWriter err = new StringWriter();
        String[] args = new String[3 + extra.length];
        args[0] = "run";
        args[1] = "-c";
        args[2] = config.toString();
        System.arraycopy(extra, 0, args, 3, extra.length);
        int code = Main.execute(new PrintWriter(new StringWriter(), true), new PrintWriter(err, true), args);
        return new Result(code, err.toString());
    }
}
