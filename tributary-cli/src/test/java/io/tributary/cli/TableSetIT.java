package io.tributary.cli;

import static io.tributary.cli.CliRun.tributary;
import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.spi.CrashPoint;
import io.tributary.testing.ChildJvm;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The configured table set: tables missing from the database are a startup error listing every
 * one; a table added to an existing pipeline is snapshotted on its own while the others stream,
 * then streamed, and one that cannot be snapshotted that way (no primary key) is refused.
 */
class TableSetIT {
    private static TestingPostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
        postgres.createDatabase("shop");
        postgres.execute("shop", "CREATE TABLE orders (id int PRIMARY KEY, customer text)", "INSERT INTO orders VALUES (1, 'ada'), (2, 'bob')",
                "CREATE TABLE products (id int PRIMARY KEY, name text)", "INSERT INTO products VALUES (10, 'tea'), (11, 'cup')");
    }

    @AfterAll
    static void stop() {
        postgres.dropInactiveSlots();
        postgres.close();
    }

    private Path config(String name, String tables) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                name: %s
                source: {host: 127.0.0.1, port: %d, database: shop, user: postgres, sslmode: disable, tables: [%s]}
                lake: {warehouse: ./%s-lake}
                commit: {interval: 200ms}
                """.formatted(name, postgres.port(), tables, name));
        return file;
    }

    @Test
    void everyMissingTableIsListed() throws Exception {
        CliRun r = tributary("run", "-c", config("missing", "public.orders, public.nothere, sales.alsonot").toString(), "--once");
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).contains("public.nothere", "sales.alsonot", "no such table").doesNotContain("public.orders,");
    }

    @Test
    void aTableAddedLaterIsSnapshottedThenStreamedWithoutDisturbingTheOthers() throws Exception {
        postgres.execute("shop", "CREATE TABLE accounts (id int PRIMARY KEY, owner text)", "INSERT INTO accounts SELECT g, 'owner ' || g FROM generate_series(1, 500) g",
                "CREATE TABLE ledger (id int PRIMARY KEY, note text)", "INSERT INTO ledger SELECT g, 'note ' || g FROM generate_series(1, 20000) g");
        Path first = config("added", "public.accounts");
        CliRun initial = tributary("run", "-c", first.toString(), "--once");
        assertThat(initial.exitCode()).as(initial.err()).isZero();
        long accountReads = Long.parseLong(scalar(first, "SELECT count(*) FROM bronze.accounts WHERE _op = 'r'"));
        assertThat(accountReads).isEqualTo(500);

        postgres.execute("shop", "UPDATE accounts SET owner = 'moved' WHERE id <= 10", "DELETE FROM ledger WHERE id % 97 = 0",
                "UPDATE ledger SET note = 'early' WHERE id % 89 = 0");
        Path grown = config("added", "public.accounts, public.ledger");
        // Changes to both tables while the added one is snapshotted: its chunks and the stream interleave.
        AtomicReference<Throwable> writeFailure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 1; i <= 200; i++) {
                postgres.execute("shop", "UPDATE ledger SET note = 'during " + i + "' WHERE id = " + (i * 83 % 20000 + 1),
                        "DELETE FROM ledger WHERE id = " + (i * 131 % 20000 + 1), "INSERT INTO ledger VALUES (" + (30000 + i) + ", 'new " + i + "')",
                        "UPDATE accounts SET owner = 'during " + i + "' WHERE id = " + (i % 500 + 1));
                }
            } catch (RuntimeException e) {
                writeFailure.set(e);
            }
        });
        writer.start();
        CliRun grew = tributary("run", "-c", grown.toString(), "--once");
        writer.join();
        assertThat(writeFailure.get()).isNull();
        assertThat(grew.exitCode()).as(grew.err()).isZero();
        // What the writer committed after the run's fence arrives with the next run.
        CliRun settled = tributary("run", "-c", grown.toString(), "--once");
        assertThat(settled.exitCode()).as(settled.err()).isZero();
        assertExact(grown, "accounts", "owner");
        assertExact(grown, "ledger", "note");
        assertThat(scalar(grown, "SELECT count(*) FROM bronze.accounts WHERE _op = 'r'")).as("accounts is not snapshotted again").isEqualTo(Long.toString(accountReads));
        for (String table : List.of("accounts", "ledger")) {
            assertThat(scalar(grown, "SELECT count(*) - count(DISTINCT _position) FROM bronze." + table)).as("positions of bronze." + table).isEqualTo("0");
        }

        String ledgerReads = scalar(grown, "SELECT count(*) FROM bronze.ledger WHERE _op = 'r'");
        assertThat(Long.parseLong(ledgerReads)).as("ledger was snapshotted").isGreaterThanOrEqualTo(19_000);

        postgres.execute("shop", "UPDATE ledger SET note = 'later' WHERE id % 7 = 0", "DELETE FROM ledger WHERE id % 11 = 0",
                "INSERT INTO ledger VALUES (40000, 'last')", "UPDATE accounts SET owner = 'later' WHERE id % 5 = 0");
        CliRun later = tributary("run", "-c", grown.toString(), "--once");
        assertThat(later.exitCode()).as(later.err()).isZero();
        assertExact(grown, "accounts", "owner");
        assertExact(grown, "ledger", "note");
        assertThat(scalar(grown, "SELECT count(*) FROM bronze.ledger WHERE _op = 'r'")).as("ledger, once captured, is not snapshotted again").isEqualTo(ledgerReads);
        assertThat(scalar(grown, "SELECT count(*) FROM bronze.accounts WHERE _op = 'r'")).isEqualTo(Long.toString(accountReads));
    }

    @Test
    void aCrashDuringTheAddedTablesSnapshotResumesIt() throws Exception {
        postgres.execute("shop", "CREATE TABLE items (id int PRIMARY KEY, label text)", "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 300) g",
                "CREATE TABLE journal (id int PRIMARY KEY, entry text)", "INSERT INTO journal SELECT g, 'entry ' || g FROM generate_series(1, 60000) g");
        Path first = config("journal", "public.items");
        assertThat(tributary("run", "-c", first.toString(), "--once").exitCode()).isZero();
        Path grown = config("journal", "public.items, public.journal");
        Files.writeString(grown, Files.readString(grown).replace("commit: {interval: 200ms}", "commit: {interval: 200ms, max-events: 2000}"));
        postgres.execute("shop", "UPDATE items SET label = 'before' WHERE id <= 20", "DELETE FROM journal WHERE id % 101 = 0");

        Path log = dir.resolve("crash.log");
        try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of("-D" + CrashPoint.PROPERTY + "=" + CrashPoint.TABLE_COMMITTED + "@6"),
                List.of("run", "-c", grown.toString(), "--once"), log)) {
            OptionalInt exit = run.waitFor(Duration.ofSeconds(120));
            assertThat(exit).as("log %s", log).isPresent();
            assertThat(exit.getAsInt()).as(Files.readString(log)).isEqualTo(CrashPoint.EXIT_CODE);
        }
        assertThat(Files.readString(log)).as("the crash came before the snapshot of journal finished").contains("Snapshotting added table(s) [public.journal]")
                .doesNotContain("Snapshot of public.journal finished");
        long partial = Long.parseLong(scalar(grown, "SELECT count(*) FROM silver.journal"));
        assertThat(partial).as("part of journal is in the lake").isPositive().isLessThan(Long.parseLong(postgres.queryOne("shop", "SELECT count(*) FROM journal")));

        postgres.execute("shop", "UPDATE journal SET entry = 'after crash' WHERE id % 13 = 0", "DELETE FROM journal WHERE id % 17 = 0",
                "INSERT INTO journal VALUES (70000, 'new')", "UPDATE items SET label = 'after crash' WHERE id % 3 = 0");
        CliRun resumed = tributary("run", "-c", grown.toString(), "--once");
        assertThat(resumed.exitCode()).as(resumed.err()).isZero();
        assertExact(grown, "items", "label");
        assertExact(grown, "journal", "entry");
        assertThat(scalar(grown, "SELECT count(*) FROM bronze.items WHERE _op = 'r'")).as("items is not snapshotted again").isEqualTo("300");
        for (String table : List.of("items", "journal")) {
            assertThat(scalar(grown, "SELECT count(*) - count(DISTINCT _position) FROM bronze." + table)).as("positions of bronze." + table).isEqualTo("0");
        }

        postgres.execute("shop", "UPDATE journal SET entry = 'later' WHERE id % 7 = 0", "UPDATE items SET label = 'later' WHERE id % 5 = 0");
        CliRun later = tributary("run", "-c", grown.toString(), "--once");
        assertThat(later.exitCode()).as(later.err()).isZero();
        assertExact(grown, "items", "label");
        assertExact(grown, "journal", "entry");
    }

    /**
     * Debezium's read-only incremental snapshot reads its next chunk when the stream shows a data
     * change past the chunk's high watermark, or a decoded commit whose transaction id equals the
     * watermark's {@code xmax} or is at or below its {@code xmin}. A transaction held open keeps
     * {@code xmin} below every later one, another database takes each next transaction id before a
     * heartbeat can, and another application's logical messages are decoded commits that are no
     * data change: the snapshot is left waiting, even after the old transaction ends. Capture restarts
     * and the snapshot ends.
     */
    @Test
    void anAddedTablesSnapshotLeftWaitingByOtherTransactionsEnds() throws Exception {
        postgres.execute("shop", "CREATE TABLE quiet (id int PRIMARY KEY, label text)", "INSERT INTO quiet VALUES (1, 'one')",
                "CREATE TABLE bulk (id int PRIMARY KEY, label text)", "INSERT INTO bulk SELECT g, 'row ' || g FROM generate_series(1, 40000) g");
        Path first = config("busy", "public.quiet");
        assertThat(tributary("run", "-c", first.toString(), "--once").exitCode()).isZero();
        Path grown = config("busy", "public.quiet, public.bulk");

        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean quietNow = new java.util.concurrent.atomic.AtomicBoolean();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread xids = repeating("other-database-transactions", "postgres", "SELECT pg_current_xact_id()", 5, stop, failure);
        Thread messages = repeating("another-application", "shop", "SELECT pg_logical_emit_message(true, 'another.application', 'tick')", 300, quietNow, failure);
        Path log = dir.resolve("busy.log");
        try (java.sql.Connection held = postgres.connect("postgres"); java.sql.Statement s = held.createStatement()) {
            held.setAutoCommit(false);
            s.execute("SELECT pg_current_xact_id()");
            xids.start();
            messages.start();
            try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", grown.toString(), "--once"), log)) {
                // Until the run reports the snapshot waiting; then the old transaction and the messages end.
                long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                while (!Files.readString(log).contains("has read no row") && run.isAlive() && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                quietNow.set(true);
                messages.join();
                held.commit();
                OptionalInt exit = run.waitFor(Duration.ofSeconds(180));
                assertThat(exit).as("the run ends; log %s:%n%s", log, Files.readString(log)).isPresent();
                assertThat(exit.getAsInt()).as(Files.readString(log)).isZero();
            } finally {
                stop.set(true);
                quietNow.set(true);
                xids.join();
                messages.join();
            }
        }
        assertThat(failure.get()).isNull();
        assertThat(Files.readString(log)).contains("Snapshot of public.bulk finished");
        assertExact(grown, "bulk", "label");
        assertExact(grown, "quiet", "label");
    }

    @Test
    void anAddedTableWithoutPrimaryKeyIsRefused() throws Exception {
        postgres.execute("shop", "CREATE TABLE notes (id int PRIMARY KEY, body text)", "INSERT INTO notes VALUES (1, 'a')",
                "CREATE TABLE loose (id int, body text)", "ALTER TABLE loose REPLICA IDENTITY FULL", "INSERT INTO loose VALUES (1, 'a')");
        Path first = config("loose", "public.notes");
        assertThat(tributary("run", "-c", first.toString(), "--once").exitCode()).isZero();

        CliRun refused = tributary("run", "-c", config("loose", "public.notes, public.loose").toString(), "--once");
        assertThat(refused.exitCode()).isEqualTo(3);
        assertThat(refused.err()).contains("Cannot capture public.loose", "no primary key", "tributary resnapshot");
    }

    /** A thread running {@code sql} on {@code database} every {@code pauseMillis} until {@code stop} is set; an error lands in {@code failure}. */
    private static Thread repeating(String name, String database, String sql, long pauseMillis, java.util.concurrent.atomic.AtomicBoolean stop,
            AtomicReference<Throwable> failure) {
        return new Thread(() -> {
            try (java.sql.Connection c = postgres.connect(database); java.sql.Statement s = c.createStatement()) {
                while (!stop.get()) {
                    s.execute(sql);
                    Thread.sleep(pauseMillis);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                failure.set(e);
            }
        }, name);
    }

    private static String scalar(Path config, String sql) {
        CliRun r = tributary("sql", "-c", config.toString(), "--format", "csv", sql);
        assertThat(r.exitCode()).as(r.err()).isZero();
        String[] lines = r.out().strip().split("\\R");
        return lines[lines.length - 1].strip();
    }

    /** silver.table holds exactly the source table: same count and the same checksum over every row. */
    private static void assertExact(Path config, String table, String column) {
        String source = postgres.queryOne("shop", "SELECT count(*) || ' ' || coalesce(md5(string_agg(id || ':' || coalesce(" + column + ", '-'), ',' ORDER BY id)), '') FROM " + table);
        String silver = scalar(config, "SELECT count(*) || ' ' || coalesce(md5(string_agg(id::varchar || ':' || coalesce(" + column + ", '-'), ',' ORDER BY id)), '') FROM silver." + table);
        assertThat(silver).as("silver." + table).isEqualTo(source);
    }
}
