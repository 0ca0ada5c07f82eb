package io.tributary.cli;

import static io.tributary.cli.CliRun.tributary;
import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.testing.ChildJvm;
import io.tributary.testing.TestingPostgres;
import io.tributary.testing.TestingS3;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, item 7: the S3 store goes away in the middle of a commit. Stopped and back within the
 * retries, the run carries on and the lake equals the source. Stopped for good, the run fails
 * (exit 4) without acknowledging the source past what the lake holds; once the store is back, the
 * next run lands every change exactly once; the uploads of the failed attempt are orphans, and
 * maintenance removes them.
 */
class ObjectStorageFaultsIT {
    private static final String DB = "shop";
    private static final Pattern ORPHANS = Pattern.compile("(\\d+)\\s+[\\d.]+s$");

    @TempDir
    static Path dir;
    private static TestingPostgres postgres;
    private static TestingS3 s3;
    private static Path config;

    @BeforeAll
    static void start() throws Exception {
        postgres = new TestingPostgres();
        postgres.createDatabase(DB);
        postgres.createDatabase("lake_catalog");
        postgres.execute(DB, "CREATE TABLE items (id int PRIMARY KEY, qty int NOT NULL, note text)",
                "INSERT INTO items SELECT g, g % 7, 'item ' || g FROM generate_series(1, 1000) g");
        s3 = TestingS3.start(dir.resolve("s3"));
        s3.createBucket("lake");
        Files.writeString(dir.resolve("s3-secret.txt"), TestingS3.SECRET_ACCESS_KEY);
        config = dir.resolve("shop.yaml");
        Files.writeString(config, """
                name: shop
                source: {host: 127.0.0.1, port: %d, database: shop, user: postgres, sslmode: disable, tables: [public.items]}
                lake:
                  warehouse: s3://lake/shop
                  s3: {endpoint: '%s', path-style-access: true, access-key-id: %s, secret-access-key: '${file:s3-secret.txt}'}
                  catalog: {type: jdbc, uri: 'jdbc:postgresql://127.0.0.1:%d/lake_catalog', user: postgres}
                commit: {interval: 200ms, max-events: 50000}
                maintenance: {enabled: false, orphan-age: 1s}
                """.formatted(postgres.port(), s3.endpoint(), TestingS3.ACCESS_KEY_ID, postgres.port()));
        CliRun first = tributary("run", "-c", config.toString(), "--once");
        assertThat(first.exitCode()).as(first.err()).isZero();
    }

    @AfterAll
    static void stop() {
        if (s3 != null) {
            s3.close();
        }
        if (postgres != null) {
            postgres.dropInactiveSlots();
            postgres.close();
        }
    }

    @Test
    void aStoreThatGoesAwayMidCommitLosesNothing() throws Exception {
        // Back within the retries: the run carries on.
        postgres.execute(DB, "INSERT INTO items SELECT g, g % 7, repeat('x', 200) || g FROM generate_series(1001, 150000) g");
        Outcome carriedOn = runStoppingTheStoreMidCommit(2, "carried-on.log");
        assertThat(carriedOn.exitCode()).as(carriedOn.log()).isZero();
        assertLakeEqualsSource();

        // Gone for good: the run fails, and the source is not acknowledged past the lake. The UPDATE
        // (75,000 events) spans two micro-batches of at most 50,000, and the store stops while the
        // run writes its first, so neither transaction can be whole in the lake: the slot may move
        // only over WAL without captured changes (the catalog's own commits in this cluster), never
        // into the UPDATE.
        String beforeChanges = postgres.queryOne(DB, "SELECT pg_current_wal_lsn()");
        postgres.execute(DB, "UPDATE items SET qty = qty + 100, note = note || ' changed' WHERE id % 2 = 0",
                "DELETE FROM items WHERE id % 5 = 0");
        Outcome failed = runStoppingTheStoreMidCommit(-1, "failed.log");
        assertThat(failed.exitCode()).as(failed.log()).isEqualTo(4);
        assertThat(failed.log()).contains("error: Cannot");
        assertThat(postgres.queryOne(DB, "SELECT confirmed_flush_lsn <= '" + beforeChanges + "'::pg_lsn FROM pg_replication_slots WHERE slot_name = 'tributary_shop'"))
                .as("the slot's confirmed position after a failed commit is before the changes the lake lacks").isEqualTo("t");

        s3.start();
        CliRun recovered = tributary("run", "-c", config.toString(), "--once");
        assertThat(recovered.exitCode()).as(recovered.err()).isZero();
        assertLakeEqualsSource();

        // The uploads of the failed attempt are orphans once older than orphan-age (1 s): maintenance
        // removes them, and then there are none.
        long oldEnough = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (orphans(tributary("maintain", "-c", config.toString(), "--dry-run").out()) == 0 && System.nanoTime() < oldEnough) {
            Thread.onSpinWait();
        }
        CliRun maintained = tributary("maintain", "-c", config.toString());
        assertThat(maintained.exitCode()).as(maintained.err()).isZero();
        assertThat(orphans(maintained.out())).as(maintained.out()).isPositive();
        CliRun again = tributary("maintain", "-c", config.toString(), "--dry-run");
        assertThat(orphans(again.out())).as(again.out()).isZero();
        assertLakeEqualsSource();
    }

    /** How a {@code tributary run} process ended: its exit code and what it printed. */
    private record Outcome(int exitCode, String log) {
    }

    /**
     * Runs the pipeline once in a process of its own (as a scheduler or a service manager would: a
     * restart after its exit takes its lease over at once) and stops the store as soon as a new data
     * file of the run lands in it, starting it again {@code downSeconds} later (never, when negative).
     */
    private static Outcome runStoppingTheStoreMidCommit(int downSeconds, String logName) throws Exception {
        Set<String> before = new HashSet<>(s3.keys("lake", "shop/"));
        Path log = dir.resolve(logName);
        try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", config.toString(), "--once"), log)) {
            return awaitStoppingTheStore(run, before, downSeconds, log);
        }
    }

    private static Outcome awaitStoppingTheStore(ChildJvm run, Set<String> before, int downSeconds, Path log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        boolean stopped = false;
        while (run.isAlive() && System.nanoTime() < deadline) {
            List<String> now = s3.keys("lake", "shop/");
            if (now.stream().anyMatch(k -> k.contains("/data/") && k.endsWith(".parquet") && !before.contains(k))) {
                s3.stop();
                stopped = true;
                break;
            }
            Thread.sleep(10);
        }
        assertThat(stopped).as("the store was stopped while the run wrote its files: %s", Files.readString(log)).isTrue();
        if (downSeconds >= 0) {
            Thread.sleep(downSeconds * 1000L);
            s3.start();
        }
        java.util.OptionalInt code = run.waitFor(java.time.Duration.ofMinutes(5));
        assertThat(code).as("the run ended").isPresent();
        return new Outcome(code.getAsInt(), Files.readString(log));
    }

    private static long orphans(String maintainOutput) {
        long sum = 0;
        for (String line : maintainOutput.lines().skip(1).toList()) {
            Matcher m = ORPHANS.matcher(line.strip());
            if (m.find()) {
                sum += Long.parseLong(m.group(1));
            }
        }
        return sum;
    }

    private static void assertLakeEqualsSource() {
        String source = postgres.queryOne(DB, "SELECT count(*) || '|' || sum(qty) || '|' || sum(length(note))::text FROM items");
        CliRun silver = tributary("sql", "-c", config.toString(), "--format", "csv",
                "SELECT count(*) || '|' || sum(qty) || '|' || sum(length(note)) FROM silver.items");
        assertThat(silver.exitCode()).as(silver.err()).isZero();
        assertThat(silver.out().strip()).endsWith(source);
        CliRun duplicates = tributary("sql", "-c", config.toString(), "--format", "csv", "SELECT count(*) - count(DISTINCT _position) FROM bronze.items");
        assertThat(duplicates.out().strip()).endsWith("\n0");
    }
}
