package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.TableId;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stops a continuously running pipeline while a workload writes, several times, restarts it, and
 * checks that the lake equals the source and no bronze event was written twice.
 */
class StopMidStreamIT {
    @TempDir
    Path dir;

    @Test
    void restartsResumeExactly() throws Exception {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("stream");
            postgres.execute(db, "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL, note text)",
                    "INSERT INTO accounts SELECT g, 1000, 'n' || g FROM generate_series(1, 2000) g");
            PipelineConfig config = new PipelineConfig("stream",
                    new PostgresSourceConfig(postgres.host(), postgres.port(), db, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                            List.of(new TableId("public", "accounts")), "tributary_stream", "tributary_stream", Duration.ofMillis(500), Duration.ofSeconds(5)),
                    new LakeConfig(dir, LakeConfig.RawLayer.ENABLED), new ModelsConfig(Optional.empty(), Duration.ofSeconds(1)),
                    new CommitConfig(Duration.ofMillis(300), 10_000), Map.of());

            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicReference<Exception> workloadFailure = new AtomicReference<>();
            Thread workload = new Thread(() -> {
                Random random = new Random(42);
                int next = 2001;
                try (Connection c = postgres.connect(db);
                     PreparedStatement transfer = c.prepareStatement("UPDATE accounts SET balance = balance + ? WHERE id = ?");
                     PreparedStatement open = c.prepareStatement("INSERT INTO accounts VALUES (?, 0, 'new')");
                     PreparedStatement close = c.prepareStatement("DELETE FROM accounts WHERE id = ?")) {
                    c.setAutoCommit(false);
                    while (writing.get()) {
                        int from = 1 + random.nextInt(2000);
                        int to = 1 + random.nextInt(2000);
                        transfer.setLong(1, -7);
                        transfer.setInt(2, from);
                        transfer.executeUpdate();
                        transfer.setLong(1, 7);
                        transfer.setInt(2, to);
                        transfer.executeUpdate();
                        if (random.nextInt(10) == 0) {
                            open.setInt(1, next++);
                            open.executeUpdate();
                        }
                        if (random.nextInt(20) == 0) {
                            close.setInt(1, 1 + random.nextInt(next - 1));
                            close.executeUpdate();
                        }
                        c.commit();
                    }
                } catch (Exception e) {
                    workloadFailure.set(e);
                }
            });
            workload.start();
            for (int round = 0; round < 4; round++) {
                Pipeline pipeline = Pipeline.open(config);
                BackgroundRun run = BackgroundRun.start(pipeline, ChangeSource.RunMode.CONTINUOUS);
                assertThat(run.await(Duration.ofMillis(1500 + round * 700L))).as("the pipeline ended on its own: %s", run.failure()).isFalse();
                run.stop(Duration.ofSeconds(60));
                pipeline.lake().close();
            }
            writing.set(false);
            workload.join();
            assertThat(workloadFailure.get()).isNull();
            try (Pipeline pipeline = Pipeline.open(config)) {
                pipeline.run(ChangeSource.RunMode.CATCH_UP);
                pipeline.lake().close();
            }

            List<String> source = postgres.query(db, "SELECT count(*)::text, sum(balance)::text, sum(hashtext(id || ':' || balance || ':' || note))::text FROM accounts").get(0);
            try (Lake lake = Lake.open(config.lake(), config.name(), t -> TableOptions.DEFAULT); QueryEngine q = QueryEngine.open(lake.tables())) {
                List<Object> silver = q.query("SELECT count(*), sum(balance) FROM silver.accounts").rows().get(0);
                assertThat(silver.get(0).toString()).isEqualTo(source.get(0));
                assertThat(silver.get(1).toString()).isEqualTo(source.get(1));
                List<List<Object>> rows = q.query("SELECT id, balance, note FROM silver.accounts").rows();
                postgres.execute(db, "CREATE TABLE lake_accounts (id int, balance bigint, note text)");
                try (Connection c = postgres.connect(db); PreparedStatement ps = c.prepareStatement("INSERT INTO lake_accounts VALUES (?, ?, ?)")) {
                    for (List<Object> r : rows) {
                        ps.setObject(1, r.get(0));
                        ps.setObject(2, r.get(1));
                        ps.setObject(3, r.get(2));
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                assertThat(postgres.queryOne(db, "SELECT sum(hashtext(id || ':' || balance || ':' || note))::text FROM lake_accounts")).isEqualTo(source.get(2));
                assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze.accounts").rows().get(0).get(0)).isEqualTo(0L);
                // Every transaction is whole in bronze: its events are indexes 0..n-1 of one commit LSN, no gap.
                assertThat(q.query("SELECT count(*) FROM (SELECT split_part(_position, '-', 1) AS commit_lsn, count(*) AS n, "
                        + "max(CAST(split_part(_position, '-', 2) AS BIGINT)) AS last FROM bronze.accounts WHERE _op <> 'r' GROUP BY 1 HAVING last <> n - 1)")
                        .rows().get(0).get(0)).isEqualTo(0L);
                assertThat(q.query("SELECT count(DISTINCT split_part(_position, '-', 1)) FROM bronze.accounts WHERE _op = 'u'").rows().get(0).get(0))
                        .isEqualTo(q.query("SELECT count(DISTINCT _tx_id) FROM bronze.accounts WHERE _op = 'u'").rows().get(0).get(0));
            }
        }
    }
}
