package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.lake.Lake;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.layout.Layer;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import io.tributary.testing.TestingPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code silver.<table>_history} against a real PostgreSQL: a workload of inserts, updates, deletes,
 * re-inserts, primary-key changes, a truncate and several changes of one key per transaction, over
 * several pipeline runs (versions closed within one micro-batch, across micro-batches of one process
 * and across processes). After each source transaction the test copies the tables into snapshot
 * tables in PostgreSQL; the history's versions valid at that instant must equal them.
 */
class HistoryIT {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static final String AS_OF = "_valid_from <= CAST(? AS TIMESTAMPTZ) AND (_valid_to IS NULL OR _valid_to > CAST(? AS TIMESTAMPTZ)) AND NOT _is_deleted";
    private static TestingPostgres postgres;

    @TempDir
    Path dir;

    private String database;

    @BeforeAll
    static void startPostgres() {
        postgres = new TestingPostgres(List.of("timezone=America/New_York"));
    }

    @AfterAll
    static void stopPostgres() {
        if (postgres != null) {
            postgres.close();
        }
    }

    @AfterEach
    void dropSlotAndPublication() {
        postgres.dropInactiveSlots();
        if (database != null) {
            postgres.execute("postgres", "DROP DATABASE " + database + " WITH (FORCE)");
        }
    }

    @Test
    void historyHoldsEveryVersionAndMatchesTheSourceAtEveryInstant() {
        String db = database();
        postgres.execute(db,
                "CREATE TABLE accounts (id int PRIMARY KEY, owner text, balance int)",
                "CREATE TABLE lines (order_id int, line int, item text, qty int, PRIMARY KEY (order_id, line))",
                "CREATE TABLE notes (body text)",
                "ALTER TABLE notes REPLICA IDENTITY FULL",
                "INSERT INTO accounts SELECT g, 'owner' || g, g * 100 FROM generate_series(1, 8) g",
                "INSERT INTO lines VALUES (1, 1, 'apple', 1), (1, 2, 'pear', 2), (2, 1, 'fig', 3)",
                "INSERT INTO notes VALUES ('hello'), ('hello')");
        PipelineConfig wide = config(db, 100_000);
        // Micro-batches of a few events: versions are closed across micro-batches of one process.
        PipelineConfig narrow = config(db, 3);
        long started = System.nanoTime();
        run(wide);
        List<String> instants = new ArrayList<>();
        record(db, instants);
        step(db, instants, "INSERT INTO accounts VALUES (9, 'owner9', 900)", "UPDATE accounts SET balance = balance + 1 WHERE id = 1",
                "DELETE FROM accounts WHERE id = 2");
        step(db, instants, "UPDATE accounts SET balance = 301 WHERE id = 3", "UPDATE accounts SET balance = 302 WHERE id = 3",
                "DELETE FROM accounts WHERE id = 4", "INSERT INTO accounts VALUES (4, 'again', 4)", "INSERT INTO lines VALUES (3, 1, 'kiwi', 1)",
                "INSERT INTO notes VALUES ('hello')");
        step(db, instants, "INSERT INTO accounts VALUES (2, 'back', 2)", "UPDATE accounts SET id = 10 WHERE id = 5", "UPDATE lines SET qty = qty + 1 WHERE order_id = 1");
        run(wide);
        step(db, instants, "TRUNCATE lines");
        step(db, instants, "INSERT INTO lines VALUES (1, 1, 'apple', 7), (5, 1, 'plum', 1)", "UPDATE accounts SET owner = 'six' WHERE id = 6",
                "DELETE FROM accounts WHERE id = 3", "DELETE FROM notes WHERE ctid = (SELECT min(ctid) FROM notes)");
        step(db, instants, "UPDATE accounts SET balance = 1 WHERE id = 1", "UPDATE lines SET item = 'green apple' WHERE order_id = 1 AND line = 1",
                "UPDATE notes SET body = 'bye' WHERE ctid = (SELECT max(ctid) FROM notes)");
        run(narrow);
        step(db, instants, "UPDATE accounts SET balance = 2 WHERE id = 1", "UPDATE accounts SET balance = 3 WHERE id = 1",
                "UPDATE accounts SET id = 11, balance = 4 WHERE id = 1", "DELETE FROM lines WHERE order_id = 5", "INSERT INTO notes VALUES ('x'), ('x')");
        step(db, instants, "UPDATE accounts SET balance = balance * 2", "INSERT INTO accounts VALUES (1, 'reborn', 1)", "DELETE FROM notes WHERE body = 'bye'");
        step(db, instants, "TRUNCATE notes", "INSERT INTO notes VALUES ('after')");
        run(narrow);
        System.out.printf("HistoryIT: 4 pipeline runs in %d ms%n", Duration.ofNanos(System.nanoTime() - started).toMillis());

        try (Lake lake = Lake.open(wide.lake(), wide.name(), wide::optionsFor); QueryEngine q = QueryEngine.open(lake.tables())) {
            // Chosen keys, version by version: op, current, tombstone, a column, zero-length. A delete
            // carries only the key (REPLICA IDENTITY DEFAULT); its tombstone holds the row's last values.
            String versions = "SELECT _op, _is_current, _is_deleted, balance, _valid_from = _valid_to FROM silver.accounts_history WHERE id = %d"
                    + " ORDER BY _valid_from, _position";
            assertThat(q.query(versions.formatted(1)).rows()).containsExactly(
                    row("r", false, false, 100, false), row("u", false, false, 101, false), row("u", false, false, 1, false),
                    row("u", false, false, 2, true), row("u", false, false, 3, true), row("d", false, true, 3, false), row("c", true, false, 1, null));
            assertThat(q.query(versions.formatted(2)).rows()).containsExactly(
                    row("r", false, false, 200, false), row("d", false, true, 200, false), row("c", false, false, 2, false), row("u", true, false, 4, null));
            assertThat(q.query(versions.formatted(3)).rows()).containsExactly(
                    row("r", false, false, 300, false), row("u", false, false, 301, true), row("u", false, false, 302, false), row("d", false, true, 302, null));
            assertThat(q.query(versions.formatted(4)).rows()).containsExactly(
                    row("r", false, false, 400, false), row("d", false, true, 400, true), row("c", false, false, 4, false), row("u", true, false, 8, null));
            // A primary-key change: the source sends a delete of the old key and an insert of the new one.
            assertThat(q.query(versions.formatted(5)).rows()).containsExactly(row("r", false, false, 500, false), row("d", false, true, 500, null));
            assertThat(q.query(versions.formatted(10)).rows()).containsExactly(row("c", false, false, 500, false), row("u", true, false, 1000, null));
            String lineVersions = "SELECT _op, _is_current, _is_deleted, item, qty FROM silver.lines_history WHERE order_id = %d AND line = 1"
                    + " ORDER BY _valid_from, _position";
            assertThat(q.query(lineVersions.formatted(1)).rows()).containsExactly(
                    row("r", false, false, "apple", 1), row("u", false, false, "apple", 2), row("t", false, true, "apple", 2),
                    row("c", false, false, "apple", 7), row("u", true, false, "green apple", 7));
            assertThat(q.query(lineVersions.formatted(3)).rows()).containsExactly(row("c", false, false, "kiwi", 1), row("t", false, true, "kiwi", 1));
            assertThat(q.query(lineVersions.formatted(5)).rows()).containsExactly(row("c", false, false, "plum", 1), row("d", false, true, "plum", 1));
            // The truncate tombstoned every key that was current, once, at its commit time.
            assertThat(q.query("SELECT order_id, line FROM silver.lines_history WHERE _op = 't' ORDER BY 1, 2").rows())
                    .containsExactly(row(1, 1), row(1, 2), row(2, 1), row(3, 1));

            assertInvariants(q, "accounts", "id", "id, owner, balance");
            assertInvariants(q, "lines", "order_id, line", "order_id, line, item, qty");
            // A table without a key: each row instance is a version, closed by a delete, an update or a truncate.
            assertThat(q.query("SELECT body, _op, _valid_to IS NULL FROM silver.notes_history ORDER BY _position").rows()).containsExactly(
                    row("hello", "r", false), row("hello", "r", false), row("hello", "c", false), row("bye", "u", false),
                    row("x", "c", false), row("x", "c", false), row("after", "c", true));
            assertThat(q.query("SELECT body FROM silver.notes_history WHERE _is_current ORDER BY 1").rows())
                    .isEqualTo(q.query("SELECT body FROM silver.notes ORDER BY 1").rows()).isEqualTo(source(db, "SELECT body FROM notes ORDER BY 1"));
            assertThat(q.query("SELECT count(*) FROM silver.notes_history WHERE _is_deleted OR _is_current <> (_valid_to IS NULL)").rows()).containsExactly(row(0L));

            // Time travel: at every recorded instant, the versions valid then are the source's rows then.
            assertThat(instants).hasSize(10);
            for (int i = 0; i < instants.size(); i++) {
                String at = instants.get(i);
                assertThat(asOf(q, "SELECT id, owner, balance FROM silver.accounts_history WHERE " + AS_OF + " ORDER BY id", at))
                        .as("accounts at T%d = %s", i, at).isEqualTo(source(db, "SELECT id, owner, balance FROM snap" + i + "_accounts ORDER BY id"));
                assertThat(asOf(q, "SELECT order_id, line, item, qty FROM silver.lines_history WHERE " + AS_OF + " ORDER BY 1, 2", at))
                        .as("lines at T%d = %s", i, at).isEqualTo(source(db, "SELECT order_id, line, item, qty FROM snap" + i + "_lines ORDER BY 1, 2"));
                assertThat(asOf(q, "SELECT body FROM silver.notes_history WHERE " + AS_OF + " ORDER BY 1", at))
                        .as("notes at T%d = %s", i, at).isEqualTo(source(db, "SELECT body FROM snap" + i + "_notes ORDER BY 1"));
                // The same through the engine `sql --as-of` uses: silver as of T, every table of one query together.
                java.time.Instant instant = java.time.Instant.parse(at.replace(' ', 'T').replace("+00", "Z"));
                try (QueryEngine asOf = QueryEngine.openAsOf(lake.consistentView().tables(), instant)) {
                    assertThat(asOf.query("SELECT id, owner, balance FROM silver.accounts ORDER BY id").rows())
                            .as("sql --as-of accounts at T%d", i).isEqualTo(source(db, "SELECT id, owner, balance FROM snap" + i + "_accounts ORDER BY id"));
                    assertThat(asOf.query("SELECT order_id, line, item, qty FROM silver.lines ORDER BY 1, 2").rows())
                            .as("sql --as-of lines at T%d", i).isEqualTo(source(db, "SELECT order_id, line, item, qty FROM snap" + i + "_lines ORDER BY 1, 2"));
                    assertThat(asOf.query("SELECT body FROM silver.notes ORDER BY 1").rows())
                            .as("sql --as-of notes at T%d", i).isEqualTo(source(db, "SELECT body FROM snap" + i + "_notes ORDER BY 1"));
                    // One query over two tables, and the as-of macro gold models use.
                    assertThat(asOf.query("SELECT (SELECT count(*) FROM silver.accounts)::int, (SELECT count(*) FROM silver.lines)::int,"
                            + " (SELECT count(*) FROM silver.accounts_as_of(TIMESTAMPTZ '" + at + "'))::int").rows())
                            .isEqualTo(source(db, "SELECT (SELECT count(*) FROM snap" + i + "_accounts), (SELECT count(*) FROM snap" + i + "_lines),"
                                    + " (SELECT count(*) FROM snap" + i + "_accounts)"));
                }
            }
            // Before the initial snapshot read them, the tables had no rows in the lake's history.
            assertThat(asOf(q, "SELECT id FROM silver.accounts_history WHERE " + AS_OF, "2000-01-01 00:00:00+00")).isEmpty();

            // Iceberg's own generic reader sees the same history and the same silver as DuckDB.
            Table history = lake.load(Layer.SILVER, "accounts_history").orElseThrow();
            List<List<Object>> iceberg = new ArrayList<>();
            for (Record r : read(history, Expressions.alwaysTrue())) {
                iceberg.add(row(r.getField("id"), r.getField("owner"), r.getField("balance"), instant(r.getField("_valid_from")), instant(r.getField("_valid_to")),
                        r.getField("_is_current"), r.getField("_is_deleted"), r.getField("_op"), r.getField("_position"), r.getField("_tx_id")));
            }
            List<List<Object>> duck = new ArrayList<>();
            for (List<Object> r : q.query("SELECT id, owner, balance, _valid_from, _valid_to, _is_current, _is_deleted, _op, _position, _tx_id"
                    + " FROM silver.accounts_history").rows()) {
                List<Object> converted = new ArrayList<>(r);
                converted.set(3, instant(r.get(3)));
                converted.set(4, instant(r.get(4)));
                duck.add(converted);
            }
            assertThat(iceberg).hasSizeGreaterThan(20).containsExactlyInAnyOrderElementsOf(duck);
            List<List<Object>> current = new ArrayList<>();
            for (Record r : read(history, Expressions.equal("_is_current", true))) {
                current.add(row(r.getField("id"), r.getField("owner"), r.getField("balance")));
            }
            List<List<Object>> silver = new ArrayList<>();
            for (Record r : read(lake.load(Layer.SILVER, "accounts").orElseThrow(), Expressions.alwaysTrue())) {
                silver.add(row(r.getField("id"), r.getField("owner"), r.getField("balance")));
            }
            assertThat(current).containsExactlyInAnyOrderElementsOf(silver).containsExactlyInAnyOrderElementsOf(q.query("SELECT id, owner, balance FROM silver.accounts").rows());
            // As of an instant with an Iceberg filter, as a reader without SQL would ask.
            String at = instants.get(3);
            OffsetDateTime t = OffsetDateTime.parse(at.replace(' ', 'T').replace("+00", "Z"));
            List<List<Object>> asOf = new ArrayList<>();
            for (Record r : read(history, Expressions.and(Expressions.lessThanOrEqual("_valid_from", java.time.temporal.ChronoUnit.MICROS.between(java.time.Instant.EPOCH, t.toInstant())), Expressions.equal("_is_deleted", false)))) {
                OffsetDateTime to = (OffsetDateTime) r.getField("_valid_to");
                if (to == null || to.isAfter(t)) {
                    asOf.add(row(r.getField("id"), r.getField("owner"), r.getField("balance")));
                }
            }
            assertThat(asOf).containsExactlyInAnyOrderElementsOf(source(db, "SELECT id, owner, balance FROM snap3_accounts"));
        }

        // A new initial snapshot is requested (tributary resnapshot). The last micro-batch before it
        // holds updates only: bronze's restart of an initial snapshot cannot yet remove earlier reads
        // from a data file that mixes them with other operations (see the README's limits).
        step(db, instants, "UPDATE accounts SET balance = balance + 0 WHERE id = 8", "UPDATE lines SET qty = qty WHERE order_id = 1", "UPDATE notes SET body = body");
        run(wide);
        try (Lake lake = Lake.open(wide.lake(), wide.name(), wide::optionsFor)) {
            assertThat(lake.requestInitialSnapshot()).isTrue();
        }

        // Rows changed and deleted before the new snapshot: the history ends in the source's state.
        postgres.dropInactiveSlots();
        step(db, instants, "DELETE FROM accounts WHERE id = 6", "UPDATE accounts SET owner = 'resnapshot' WHERE id = 7", "DELETE FROM lines WHERE order_id = 2");
        run(wide);
        try (Lake lake = Lake.open(wide.lake(), wide.name(), wide::optionsFor); QueryEngine q = QueryEngine.open(lake.tables())) {
            assertInvariants(q, "accounts", "id", "id, owner, balance");
            assertInvariants(q, "lines", "order_id, line", "order_id, line, item, qty");
            assertThat(q.query("SELECT id, owner, balance FROM silver.accounts_history WHERE _is_current ORDER BY id").rows())
                    .isEqualTo(source(db, "SELECT id, owner, balance FROM accounts ORDER BY id"));
            assertThat(q.query("SELECT DISTINCT _op FROM silver.accounts_history WHERE _is_current").rows()).containsExactly(row("r"));
            assertThat(q.query("SELECT _is_deleted, _valid_to IS NULL FROM silver.accounts_history WHERE id = 6 ORDER BY _valid_from DESC, _position DESC LIMIT 1").rows())
                    .containsExactly(row(true, true));
            for (int i = 0; i < instants.size(); i++) {
                String at = instants.get(i);
                assertThat(asOf(q, "SELECT id, owner, balance FROM silver.accounts_history WHERE " + AS_OF + " ORDER BY id", at))
                        .as("accounts at T%d = %s after the new snapshot", i, at).isEqualTo(
                                i < instants.size() - 1 ? source(db, "SELECT id, owner, balance FROM snap" + i + "_accounts ORDER BY id")
                                        // The last instant is before the new snapshot read the change.
                                        : source(db, "SELECT id, owner, balance FROM snap" + (i - 1) + "_accounts ORDER BY id"));
            }
        }
    }

    /**
     * Regression: under REPLICA IDENTITY DEFAULT a delete carries only the key, and Debezium fills the
     * NOT NULL columns it does not carry with 0, '' and 1970-01-01; those reached bronze and the
     * history tombstone as if they were the deleted row's values.
     */
    @Test
    void aDeleteUnderReplicaIdentityDefaultIsNullBeyondTheKeyInBronzeAndItsTombstoneHoldsTheLastValues() {
        String db = database();
        postgres.execute(db, "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL, ordered_on date NOT NULL)",
                "CREATE TABLE kept (id int PRIMARY KEY, qty int NOT NULL)", "ALTER TABLE kept REPLICA IDENTITY FULL",
                "INSERT INTO orders VALUES (1, 7, 'paid', '2026-11-20'), (2, 8, 'new', '2026-11-21')", "INSERT INTO kept VALUES (1, 0), (2, 5)");
        PipelineConfig config = config(db, 100_000, "orders", "kept");
        run(config);
        postgres.execute(db, "UPDATE orders SET status = 'shipped' WHERE id = 1", "DELETE FROM orders WHERE id = 1", "DELETE FROM kept");
        run(config);
        try (Lake lake = Lake.open(config.lake(), config.name(), config::optionsFor); QueryEngine q = QueryEngine.open(lake.tables())) {
            assertThat(q.query("SELECT id, customer_id, status, ordered_on FROM bronze.orders WHERE _op = 'd'").rows())
                    .containsExactly(row(1, null, null, null));
            assertThat(q.query("SELECT id, customer_id, status, ordered_on::varchar FROM silver.orders_history WHERE _is_deleted").rows())
                    .containsExactly(row(1, 7, "shipped", "2026-11-20"));
            // REPLICA IDENTITY FULL: the delete carries the whole row, a real 0 included.
            assertThat(q.query("SELECT id, qty FROM bronze.kept WHERE _op = 'd' ORDER BY id").rows()).containsExactly(row(1, 0), row(2, 5));
            assertThat(q.query("SELECT id, qty FROM silver.kept_history WHERE _is_deleted ORDER BY id").rows()).containsExactly(row(1, 0), row(2, 5));
        }
    }

    @Test
    void aTableNamedLikeAnotherTablesHistoryIsRefusedAtStart() {
        String db = database();
        postgres.execute(db, "CREATE TABLE orders (id int PRIMARY KEY)", "CREATE TABLE orders_history (id int PRIMARY KEY)");
        PipelineConfig config = config(db, 100, "orders", "orders_history");
        assertThatThrownBy(() -> run(config))
                .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_CONFIG))
                .hasMessageContaining("public.orders").hasMessageContaining("public.orders_history").hasMessageContaining("lake.history: disabled");
    }

    /**
     * Per key: versions ordered by (_valid_from, _position) chain without gap or overlap and only the
     * last is open; at most one is current; _is_current is "open and not a tombstone"; no position
     * twice; the current versions are silver; every change in bronze is exactly one version.
     */
    private static void assertInvariants(QueryEngine q, String table, String key, String columns) {
        String history = "silver." + table + "_history";
        assertThat(q.query("SELECT " + key + ", _position FROM (SELECT *, lead(_valid_from) OVER w AS next_from, row_number() OVER w AS n, count(*) OVER (PARTITION BY "
                + key + ") AS versions FROM " + history + " WINDOW w AS (PARTITION BY " + key + " ORDER BY _valid_from, _position))"
                + " WHERE (n < versions AND (_valid_to IS NULL OR _valid_to <> next_from)) OR (n = versions AND _valid_to IS NOT NULL) OR _valid_to < _valid_from").rows())
                .as("gaps, overlaps or open versions before the last in %s", history).isEmpty();
        assertThat(q.query("SELECT " + key + " FROM " + history + " WHERE _is_current GROUP BY ALL HAVING count(*) > 1").rows()).as("several current versions").isEmpty();
        assertThat(q.query("SELECT count(*) FROM " + history + " WHERE _is_current <> (_valid_to IS NULL AND NOT _is_deleted)").rows()).containsExactly(row(0L));
        assertThat(q.query("SELECT " + key + ", _position FROM " + history + " GROUP BY ALL HAVING count(*) > 1").rows()).as("a position twice for a key").isEmpty();
        List<List<Object>> current = q.query("SELECT " + columns + " FROM " + history + " WHERE _is_current ORDER BY ALL").rows();
        assertThat(current).isNotEmpty().isEqualTo(q.query("SELECT " + columns + " FROM silver." + table + " ORDER BY ALL").rows());
        String bronze = "SELECT _op, _position, " + key + " FROM bronze." + table + " WHERE _op <> 't'";
        String versions = "SELECT _op, _position, " + key + " FROM " + history + " WHERE _op <> 't'";
        assertThat(q.query(bronze + " EXCEPT ALL " + versions).rows()).as("changes without a version").isEmpty();
        assertThat(q.query(versions + " EXCEPT ALL " + bronze).rows()).as("versions without a change").isEmpty();
        // A truncate's tombstones, or a new initial snapshot's, which start at its first read.
        assertThat(q.query("SELECT DISTINCT _position FROM " + history + " WHERE _op = 't' EXCEPT SELECT _position FROM bronze." + table
                + " WHERE _op IN ('t', 'r')").rows()).as("tombstones of a truncate that bronze does not hold").isEmpty();
    }

    /** Runs the statements in one transaction, then records the instant after its commit. */
    private static void step(String db, List<String> instants, String... statements) {
        List<String> sql = new ArrayList<>();
        sql.add("BEGIN");
        sql.addAll(List.of(statements));
        sql.add("COMMIT");
        postgres.execute(db, sql.toArray(String[]::new));
        record(db, instants);
    }

    /**
     * Records the instant now (UTC, microseconds) and copies the tables as they are into snapshot
     * tables of that instant. Commit times are in milliseconds: short pauses around the instant keep
     * the commits before and after it in other milliseconds.
     */
    private static void record(String db, List<String> instants) {
        pause();
        String at = postgres.queryOne(db, "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') || '+00'");
        int i = instants.size();
        postgres.execute(db, "CREATE TABLE snap" + i + "_accounts AS SELECT * FROM accounts", "CREATE TABLE snap" + i + "_lines AS SELECT * FROM lines",
                "CREATE TABLE snap" + i + "_notes AS SELECT * FROM notes");
        instants.add(at);
        pause();
    }

    private static void pause() {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static List<List<Object>> asOf(QueryEngine q, String sql, String at) {
        return q.query(sql.replace("?", "'" + at + "'")).rows();
    }

    private static List<Record> read(Table table, org.apache.iceberg.expressions.Expression filter) {
        try (CloseableIterable<Record> rows = LiveRows.of(table, filter)) {
            List<Record> out = new ArrayList<>();
            for (Record r : rows) {
                out.add(r.copy());
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Object instant(Object value) {
        if (value instanceof OffsetDateTime t) {
            return t.toInstant();
        }
        if (value instanceof java.sql.Timestamp t) {
            return t.toInstant();
        }
        if (value instanceof java.time.LocalDateTime t) {
            return t.toInstant(ZoneOffset.UTC);
        }
        return value;
    }

    private static List<Object> row(Object... values) {
        return Arrays.asList(values);
    }

    private String database() {
        database = postgres.createDatabase("history_" + DATABASES.incrementAndGet());
        return database;
    }

    private PipelineConfig config(String db, int maxEvents, String... tables) {
        List<String> names = tables.length == 0 ? List.of("accounts", "lines", "notes") : List.of(tables);
        List<TableId> ids = names.stream().map(TableId::parse).toList();
        return new PipelineConfig(db,
                new PostgresSourceConfig(postgres.host(), postgres.port(), db, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                        ids, "tributary_" + db, "tributary_" + db, Duration.ofSeconds(1), Duration.ofSeconds(5)),
                new LakeConfig(dir.resolve(db), LakeConfig.RawLayer.DISABLED), new ModelsConfig(Optional.empty(), Duration.ofSeconds(1)),
                new CommitConfig(Duration.ofMillis(200), maxEvents), Map.of());
    }

    private static void run(PipelineConfig config) {
        try (Pipeline pipeline = Pipeline.open(config)) {
            try {
                pipeline.run(ChangeSource.RunMode.CATCH_UP);
            } finally {
                pipeline.lake().close();
            }
        }
    }

    /** Source rows with integers as Integer and everything else as text, to compare with lake rows. */
    private static List<List<Object>> source(String db, String sql) {
        List<List<Object>> out = new ArrayList<>();
        for (List<String> row : postgres.query(db, sql)) {
            List<Object> converted = new ArrayList<>();
            for (String v : row) {
                converted.add(v != null && v.matches("-?\\d{1,9}") ? (Object) Integer.valueOf(v) : v);
            }
            out.add(converted);
        }
        return out;
    }
}
