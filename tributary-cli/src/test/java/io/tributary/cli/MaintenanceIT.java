package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.commit.CommittedState;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.maintenance.Maintenance;
import io.tributary.lake.scan.LakeTable;
import io.tributary.query.QueryEngine;
import io.tributary.spi.SourcePosition;
import io.tributary.testing.SeededWorkload;
import io.tributary.testing.TestingPostgres;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Table maintenance on lakes written by a real pipeline ({@code tributary run} as its own process)
 * from a seeded workload of inserts, updates and deletes: {@code tributary maintain} compacts silver
 * and bronze, expires snapshots and removes old orphans without changing any table's content or the
 * position a restart resumes from; and maintenance running beside a committing pipeline (the
 * pipeline's own schedule and {@code maintain} from another process, in a loop) never fails a
 * commit of the writer, and the lake ends equal to the source.
 */
class MaintenanceIT {
    private static final String ACCOUNTS = "SELECT count(*)::text, coalesce(sum(hashtext(id::text || '|' || owner || '|' || balance::text || '|' || version::text "
            + "|| '|' || coalesce(note, '<null>'))::bigint), 0)::text FROM %s";
    private static final String LEDGER = "SELECT count(*)::text, coalesce(sum(hashtext(id::text || '|' || account_id::text || '|' || amount::text || '|' "
            + "|| coalesce(memo, '<null>'))::bigint), 0)::text FROM %s";

    private static TestingPostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPostgres() {
        postgres = new TestingPostgres();
    }

    @AfterAll
    static void stopPostgres() {
        postgres.close();
    }

    @Test
    void maintainCompactsExpiresAndRemovesOrphansKeepingEveryTable() throws Exception {
        String db = postgres.createDatabase("maint_once");
        Path config = config(db, "once", """
                maintenance: {enabled: false, snapshot-retention: 1s, min-snapshots: 3, min-small-files: 5, min-delete-files: 5}
                """);
        Path log = dir.resolve("run.log");
        int accounts = Integer.getInteger("tributary.maintenance.accounts", 100_000);
        int batches = Integer.getInteger("tributary.maintenance.batches", 250);
        try (SeededWorkload workload = new SeededWorkload(postgres, db, 7)) {
            workload.create(accounts);
            workload.start(400);
            Process run = start(config, log);
            try {
                long deadline = System.nanoTime() + Duration.ofMinutes(6).toNanos();
                while (commits(log) < batches && run.isAlive() && System.nanoTime() < deadline) {
                    run.waitFor(500, TimeUnit.MILLISECONDS);
                }
                assertThat(commits(log)).as(Files.readString(log)).isGreaterThanOrEqualTo(40);
            } finally {
                stop(run, log);
            }
        }
        assertThat(Main.execute("run", "-c", config.toString(), "--once")).isZero();

        Path warehouse = dir.resolve("lake");
        Map<String, Integer> snapshotsBefore = new HashMap<>();
        LakeTable silverBefore;
        Map<String, List<String>> bronzeFilesBefore = new HashMap<>();
        List<Object> bronzeBefore;
        SourcePosition silverPosition;
        CommittedState stateBefore;
        try (Lake lake = open(warehouse)) {
            silverBefore = table(lake, "silver.accounts");
            for (String bronze : List.of("bronze.accounts", "bronze.ledger")) {
                bronzeFilesBefore.put(bronze, table(lake, bronze).dataFiles().stream().map(LakeTable.DataFileRef::path).toList());
            }
            for (LakeTable t : lake.tables()) {
                snapshotsBefore.put(t.qualifiedName(), count(lake.load(t.layer(), t.name()).orElseThrow().snapshots()));
            }
            silverPosition = SnapshotPositions.committed(lake.load(Layer.SILVER, "accounts").orElseThrow()).orElseThrow();
            stateBefore = lake.committedState().orElseThrow();
            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                bronzeBefore = bronzeChecksum(q);
            }
        }
        assertThat(silverBefore.dataFiles()).hasSizeGreaterThan(20);
        assertThat(silverBefore.deleteFiles()).hasSizeGreaterThan(20);
        Path silverData = warehouse.resolve("silver/accounts/data");
        Path oldOrphan = Files.writeString(silverData.resolve("00000-0-left-by-a-failed-write.parquet"), "not a table file");
        Files.setLastModifiedTime(oldOrphan, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        Path oldManifest = Files.writeString(warehouse.resolve("silver/accounts/metadata/left-by-a-failed-commit-m0.avro"), "not a manifest");
        Files.setLastModifiedTime(oldManifest, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
        Path fresh = Files.writeString(silverData.resolve("00000-0-being-written.parquet"), "a commit in progress");

        CliRun dry = CliRun.tributary("maintain", "-c", config.toString(), "--dry-run");
        assertThat(dry.exitCode()).as(dry.err()).isZero();
        assertThat(dry.out()).containsPattern("silver\\.accounts .* would compact");
        assertThat(oldOrphan).exists();

        long start = System.nanoTime();
        CliRun maintain = CliRun.tributary("maintain", "-c", config.toString());
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        System.out.printf("MaintenanceIT: %d accounts, %d micro-batches; tributary maintain took %d ms:%n%s%n", accounts, commits(log), took.toMillis(), maintain.out());
        assertThat(maintain.exitCode()).as(maintain.err()).isZero();
        // Delete files counted are all live ones, also those scan planning prunes for every data file.
        assertThat(maintain.out()).containsPattern("silver\\.accounts +" + silverBefore.dataFiles().size() + " -> 1 +\\d+ -> 0 +compacted");
        assertThat(oldOrphan).doesNotExist();
        assertThat(oldManifest).doesNotExist();
        assertThat(fresh).exists();

        try (Lake lake = open(warehouse)) {
            LakeTable silver = table(lake, "silver.accounts");
            assertThat(silver.dataFiles()).hasSize(1);
            assertThat(silver.deleteFiles()).isEmpty();
            assertThat(table(lake, "silver.ledger").dataFiles()).hasSize(1);
            assertThat(table(lake, "silver.ledger").deleteFiles()).isEmpty();
            assertThat(table(lake, "silver.accounts_history").deleteFiles()).as("position deletes of the history compacted away").isEmpty();
            for (String bronze : List.of("bronze.accounts", "bronze.ledger")) {
                // One compacted file per day of commit; files of the initial snapshot's reads stay as written
                // (a restarted snapshot replaces them by a row filter).
                List<String> after = table(lake, bronze).dataFiles().stream().map(LakeTable.DataFileRef::path).toList();
                assertThat(after.stream().filter(p -> p.contains("-compaction-"))).as("compacted files of %s", bronze).hasSizeBetween(1, 2);
                assertThat(after.stream().filter(p -> !p.contains("-compaction-")).toList()).as("files of %s kept as written", bronze)
                        .isSubsetOf(bronzeFilesBefore.get(bronze));
                assertThat(after.size()).as("data files of %s", bronze).isLessThan(bronzeFilesBefore.get(bronze).size() / 5);
            }
            Table silverTable = lake.load(Layer.SILVER, "accounts").orElseThrow();
            assertThat(silverTable.currentSnapshot().summary()).containsEntry(Maintenance.MAINTENANCE, "compaction")
                    .doesNotContainKey(SnapshotPositions.POSITION);
            assertThat(SnapshotPositions.committed(silverTable)).as("the resume position survives compaction and expiry").contains(silverPosition);
            assertThat(lake.committedState()).contains(stateBefore);
            for (LakeTable t : lake.tables()) {
                int now = count(lake.load(t.layer(), t.name()).orElseThrow().snapshots());
                assertThat(now).as("snapshots of %s", t.qualifiedName()).isLessThanOrEqualTo(Math.min(4, snapshotsBefore.get(t.qualifiedName())));
            }
            assertThat(count(silverTable.snapshots())).as("old snapshots expired").isLessThan(snapshotsBefore.get("silver.accounts")).isGreaterThanOrEqualTo(2);
            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(bronzeChecksum(q)).as("bronze count and checksum").isEqualTo(bronzeBefore);
                assertSilverEqualsSource(q, db);
            }
        }

        // A restart resumes exactly where the lake is, and applies more changes on the compacted files.
        long changes = Long.parseLong(postgres.queryOne(db, "SELECT (count(*) FILTER (WHERE id % 13 = 0) + count(*) FILTER (WHERE id % 17 = 0))::text FROM accounts"));
        postgres.execute(db, "UPDATE accounts SET balance = balance + 1, version = version + 1 WHERE id % 13 = 0",
                "DELETE FROM accounts WHERE id % 17 = 0",
                "INSERT INTO ledger (account_id, amount, memo) SELECT id, 1.00, 'after maintenance' FROM accounts WHERE id % 19 = 0");
        assertThat(Main.execute("run", "-c", config.toString(), "--once")).isZero();
        try (Lake lake = open(warehouse); QueryEngine q = QueryEngine.open(lake.tables())) {
            assertSilverEqualsSource(q, db);
            assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze.accounts").rows().get(0).get(0)).isEqualTo(0L);
            assertThat(((Number) q.query("SELECT count(*) FROM bronze.accounts").rows().get(0).get(0)).longValue())
                    .as("bronze gained exactly the new changes").isEqualTo(((Number) bronzeBefore.get(0)).longValue() + changes);
        }
    }

    @Test
    void maintenanceBesideARunningPipelineNeverFailsItsCommits() throws Exception {
        String db = postgres.createDatabase("maint_live");
        Path config = config(db, "live", """
                maintenance: {interval: 3s, snapshot-retention: 2s, min-snapshots: 3, min-small-files: 4, min-delete-files: 4}
                """);
        Path log = dir.resolve("run.log");
        int runs = 0;
        int compacted = 0;
        try (SeededWorkload workload = new SeededWorkload(postgres, db, 11)) {
            workload.create(20_000);
            workload.start(300);
            Process run = start(config, log);
            try {
                long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
                while (commits(log) < 5 && run.isAlive() && System.nanoTime() < deadline) {
                    run.waitFor(200, TimeUnit.MILLISECONDS);
                }
                // Another process maintains the same lake in a loop while the pipeline commits.
                long until = System.nanoTime() + Duration.ofSeconds(Integer.getInteger("tributary.maintenance.seconds", 45)).toNanos();
                long latest = System.nanoTime() + Duration.ofMinutes(4).toNanos();
                while ((System.nanoTime() < until || runs < 3) && run.isAlive() && System.nanoTime() < latest) {
                    CliRun maintain = CliRun.tributary("maintain", "-c", config.toString());
                    assertThat(maintain.exitCode()).as(maintain.err() + maintain.out()).isZero();
                    runs++;
                    compacted += (int) maintain.out().lines().filter(l -> l.contains(" compacted ")).count();
                }
                assertThat(run.isAlive()).as(Files.readString(log)).isTrue();
            } finally {
                stop(run, log);
            }
        }
        String output = Files.readString(log);
        System.out.printf("MaintenanceIT: %d maintain runs beside the pipeline, %d table compactions; the pipeline's own: %d runs, %d compactions%n", runs,
                compacted, output.lines().filter(l -> l.contains("Maintained ")).count(), output.lines().filter(l -> l.contains("Compacted ")).count());
        assertThat(runs).isGreaterThanOrEqualTo(3);
        assertThat(compacted).as("compactions by maintain beside the pipeline").isPositive();
        assertThat(output).as("the pipeline's own maintenance ran").contains("Maintained ");
        // Iceberg retries a writer's commit that a maintenance commit got ahead of ("Retrying task after failure"); none may fail for good.
        assertThat(output).doesNotContainPattern("Cannot commit \\S+ at position").doesNotContain("Cannot confirm the commit")
                .doesNotContain("Cannot record the watermark").doesNotContain("no longer owns");

        assertThat(Main.execute("run", "-c", config.toString(), "--once")).isZero();
        try (Lake lake = open(dir.resolve("lake")); QueryEngine q = QueryEngine.open(lake.tables())) {
            assertSilverEqualsSource(q, db);
            for (String table : List.of("accounts", "ledger")) {
                assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze." + table).rows().get(0).get(0))
                        .as("positions written twice in bronze.%s", table).isEqualTo(0L);
            }
        }
    }

    /**
     * The pipeline of these tests, with the history layer (on by default): maintenance compacts and
     * expires the history tables beside silver and bronze while the writer finds open versions in
     * its index.
     */
    private Path config(String db, String name, String maintenance) throws Exception {
        Path config = dir.resolve("pipeline.yaml");
        Files.writeString(config, """
                name: %s
                source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                lake: {warehouse: ./lake, raw: false}
                commit: {interval: 200ms, max-events: 5000}
                """.formatted(name, postgres.port(), db) + maintenance);
        return config;
    }

    private static Process start(Path config, Path log) throws Exception {
        return new ProcessBuilder(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "run", "-c", config.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    /** SIGTERM: the pipeline commits what it has and exits 0. */
    private static void stop(Process run, Path log) throws Exception {
        if (!run.isAlive()) {
            assertThat(run.exitValue()).as(Files.readString(log)).isZero();
            return;
        }
        run.destroy();
        assertThat(run.waitFor(120, TimeUnit.SECONDS)).as("exited: %s", log).isTrue();
        assertThat(run.exitValue()).as(Files.readString(log)).isZero();
    }

    private static long commits(Path log) throws java.io.IOException {
        return Files.readAllLines(log).stream().filter(l -> l.contains("Committed")).count();
    }

    private static Lake open(Path warehouse) {
        return Lake.open(new LakeConfig(warehouse, LakeConfig.RawLayer.DISABLED), "x", t -> TableOptions.DEFAULT);
    }

    private static LakeTable table(Lake lake, String name) {
        return lake.tables().stream().filter(t -> t.qualifiedName().equals(name)).findFirst().orElseThrow(() -> new AssertionError("no table " + name));
    }

    private static int count(Iterable<?> items) {
        int n = 0;
        for (Object ignored : items) {
            n++;
        }
        return n;
    }

    private static List<Object> bronzeChecksum(QueryEngine q) {
        return q.query("SELECT count(*), sum(hash(_position, _op, id, owner, balance, version, note)) FROM bronze.accounts").rows().get(0);
    }

    private static void assertSilverEqualsSource(QueryEngine q, String db) {
        assertThat(postgres.checksumRows(db, "accounts", q.query("SELECT id, owner, balance, version, note FROM silver.accounts").rows(), ACCOUNTS))
                .as("silver.accounts vs source").isEqualTo(postgres.query(db, ACCOUNTS.formatted("accounts")).get(0));
        assertThat(postgres.checksumRows(db, "ledger", q.query("SELECT id, account_id, amount, memo FROM silver.ledger").rows(), LEDGER))
                .as("silver.ledger vs source").isEqualTo(postgres.query(db, LEDGER.formatted("ledger")).get(0));
        // The history's current versions are silver, and every key has exactly one open version.
        assertThat(q.query("SELECT count(*), sum(hash(id, owner, balance, version, note)) FROM silver.accounts_history WHERE _is_current").rows())
                .as("current versions of silver.accounts_history").isEqualTo(q.query("SELECT count(*), sum(hash(id, owner, balance, version, note)) FROM silver.accounts").rows());
        assertThat(q.query("SELECT count(*) FROM (SELECT id FROM silver.accounts_history WHERE _valid_to IS NULL GROUP BY id HAVING count(*) <> 1)").rows().get(0).get(0))
                .as("keys of silver.accounts_history without exactly one open version").isEqualTo(0L);
    }
}
