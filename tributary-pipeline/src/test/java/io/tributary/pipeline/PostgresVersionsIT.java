package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SnapshotConfig;
import io.tributary.config.SslMode;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.layout.Layer;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The source on the oldest PostgreSQL major it supports for every feature (13: read-only
 * incremental snapshots need {@code pg_current_snapshot()}) and on the newest the zonky binaries
 * offer (the class path's), running continuously: a resumable initial snapshot in chunks, a
 * blocking one of a keyless table, then streamed inserts, updates, deletes, a primary-key change
 * and a TRUNCATE, each table's silver compared with PostgreSQL's rows and the history's current
 * versions with silver. On 13, {@code run --once} is refused up front: its fence is a logical
 * decoding message, which pgoutput sends from 14 on (before, the run waited for ever).
 */
class PostgresVersionsIT {
    private static final int CLASS_PATH_BINARIES = 0;
    private static final String ACCOUNTS_CHECKSUM = "SELECT count(*)::text, sum(hashtext(id || '|' || owner || '|' || balance || '|' || "
            + "coalesce(array_to_string(tags, ','), '<null>') || '|' || coalesce(opened::text, '<null>')))::text FROM %s";
    private static final String LINES_CHECKSUM = "SELECT count(*)::text, sum(hashtext(sku || '|' || qty))::text FROM %s";

    @TempDir
    Path dir;

    @ParameterizedTest(name = "PostgreSQL {0} (0: the newest, on the class path)")
    @ValueSource(ints = {13, CLASS_PATH_BINARIES})
    void snapshotsAndStreamsEveryChangeIntoTheLake(int major) throws InterruptedException {
        try (TestingPostgres postgres = major == CLASS_PATH_BINARIES ? new TestingPostgres() : TestingPostgres.ofMajorVersion(major)) {
            if (major != CLASS_PATH_BINARIES) {
                assertThat(postgres.majorVersion()).isEqualTo(major);
            } else {
                assertThat(postgres.majorVersion()).isGreaterThanOrEqualTo(18);
            }
            String db = postgres.createDatabase("versions");
            postgres.execute(db,
                    "CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) NOT NULL, tags text[], opened timestamptz)",
                    "INSERT INTO accounts SELECT g, 'owner ' || g, g * 1.25, ARRAY['t' || (g % 7)], timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute' "
                            + "FROM generate_series(1, 3000) g",
                    "ANALYZE accounts",
                    "CREATE TABLE lines (sku text NOT NULL, qty int NOT NULL)",
                    "ALTER TABLE lines REPLICA IDENTITY FULL",
                    "INSERT INTO lines SELECT 'sku' || (g % 10), g % 3 FROM generate_series(1, 200) g");
            List<TableId> tables = List.of(new TableId("public", "accounts"), new TableId("public", "lines"));
            // accounts (3,000 rows, above 1,000) is read by the resumable snapshot in chunks of 500;
            // the keyless lines by the blocking one.
            PipelineConfig config = new PipelineConfig("versions",
                    new PostgresSourceConfig(postgres.host(), postgres.port(), db, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE, tables,
                            "tributary_versions", "tributary_versions", Duration.ofSeconds(1), Duration.ofSeconds(5)).withSnapshot(new SnapshotConfig(500, 1_000)),
                    new LakeConfig(dir, LakeConfig.RawLayer.ENABLED), new ModelsConfig(Optional.empty(), Duration.ofSeconds(1)),
                    new CommitConfig(Duration.ofMillis(200), 1000), Map.of());
            if (major == 13) {
                assertThatThrownBy(() -> runOnce(config)).isInstanceOfSatisfying(TributaryException.class, e -> {
                    assertThat(e.errorCode()).isEqualTo(ErrorCode.SOURCE_MISCONFIGURED);
                    assertThat(e.getMessage()).startsWith("Cannot catch up with ").contains("PostgreSQL 14", "Run without --once");
                });
            }
            Pipeline pipeline = Pipeline.open(config);
            BackgroundRun run = BackgroundRun.start(pipeline, ChangeSource.RunMode.CONTINUOUS);
            awaitSilverEqualsSource(postgres, db, config, run);

            postgres.execute(db,
                    "UPDATE accounts SET balance = balance + 1, tags = NULL WHERE id % 10 = 0",
                    "DELETE FROM accounts WHERE id % 25 = 1",
                    "INSERT INTO accounts SELECT g, 'late ' || g, 0, '{}', NULL FROM generate_series(3001, 3100) g",
                    "UPDATE accounts SET id = 10000 WHERE id = 2",
                    "BEGIN; UPDATE accounts SET owner = 'twice' WHERE id = 3; UPDATE accounts SET owner = 'thrice' WHERE id = 3; COMMIT",
                    "DELETE FROM lines WHERE ctid IN (SELECT ctid FROM lines WHERE sku = 'sku1' LIMIT 3)",
                    "UPDATE lines SET qty = qty + 10 WHERE sku = 'sku2'",
                    "TRUNCATE lines",
                    "INSERT INTO lines VALUES ('sku9', 1), ('sku9', 1), ('sku8', 2)");
            awaitSilverEqualsSource(postgres, db, config, run);
            run.stop(Duration.ofSeconds(60));
            assertThat(run.failure()).isEmpty();
            pipeline.close();
        }
    }

    /** Polls until silver holds the source's rows (at the lake's consistent position), then checks the history against silver. */
    private static void awaitSilverEqualsSource(TestingPostgres postgres, String db, PipelineConfig config, BackgroundRun run) {
        List<String> accounts = postgres.query(db, ACCOUNTS_CHECKSUM.formatted("accounts")).get(0);
        List<String> lines = postgres.query(db, LINES_CHECKSUM.formatted("lines")).get(0);
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        List<String> lakeAccounts;
        List<String> lakeLines;
        do {
            assertThat(run.isRunning()).as("the pipeline runs (failure: %s)", run.failure()).isTrue();
            try (Lake lake = Lake.open(config.lake(), config.name(), t -> TableOptions.DEFAULT); QueryEngine q = QueryEngine.open(lake.tables())) {
                lakeAccounts = has(lake, "accounts")
                        ? postgres.checksumRows(db, "accounts", q.query("SELECT id, owner, balance, tags, opened FROM silver.accounts").rows(), ACCOUNTS_CHECKSUM)
                        : List.of();
                lakeLines = has(lake, "lines")
                        ? postgres.checksumRows(db, "lines", q.query("SELECT sku, qty FROM silver.lines").rows(), LINES_CHECKSUM)
                        : List.of();
            }
        } while ((!lakeAccounts.equals(accounts) || !lakeLines.equals(lines)) && System.nanoTime() < deadline);
        assertThat(lakeAccounts).as("silver.accounts").isEqualTo(accounts);
        assertThat(lakeLines).as("silver.lines").isEqualTo(lines);
        try (Lake lake = Lake.open(config.lake(), config.name(), t -> TableOptions.DEFAULT); QueryEngine q = QueryEngine.open(lake.tables())) {
            String currentVersions = "SELECT id, owner, balance, _position FROM silver.accounts_history WHERE _is_current EXCEPT ALL "
                    + "SELECT id, owner, balance, _position FROM silver.accounts";
            assertThat(q.query(currentVersions).rows()).as("current history versions not in silver").isEmpty();
            assertThat(q.query("SELECT count(*) FROM silver.accounts_history WHERE _is_current").rows().get(0).get(0))
                    .isEqualTo(q.query("SELECT count(*) FROM silver.accounts").rows().get(0).get(0));
        }
    }

    private static boolean has(Lake lake, String silverTable) {
        return lake.tables().stream().anyMatch(t -> t.layer() == Layer.SILVER && t.name().equals(silverTable));
    }

    private static void runOnce(PipelineConfig config) {
        try (Pipeline pipeline = Pipeline.open(config)) {
            pipeline.run(ChangeSource.RunMode.CATCH_UP);
            pipeline.lake().close();
        }
    }
}
