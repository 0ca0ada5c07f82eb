package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.lake.Lake;
import io.tributary.lake.commit.CommittedState;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ErrorCode;
import io.tributary.source.postgres.Lsn;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data edge cases of PostgreSQL CDC, each against one real PostgreSQL server whose time zone is
 * not UTC: unchanged TOASTed values, primary-key updates, TRUNCATE, values at the edges of their
 * types, and an event that cannot be converted. Each test has its own database, slot and lake.
 */
class DataEdgeCasesIT {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static TestingPostgres postgres;

    @TempDir
    Path dir;

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

    /** The test's database; dropping it drops the publication the pipeline created in it. */
    private String database;

    @AfterEach
    void dropSlotAndPublication() {
        postgres.dropInactiveSlots();
        if (database != null) {
            postgres.execute("postgres", "DROP DATABASE " + database + " WITH (FORCE)");
        }
    }

    /** Item 15: TRUNCATE of two tables in one statement, with inserts after it in the same transaction. */
    @Test
    void truncateEmptiesSilverAndIsRecordedInBronze() {
        String db = database();
        postgres.execute(db,
                "CREATE TABLE a (id int PRIMARY KEY, v text)",
                "CREATE TABLE b (id int PRIMARY KEY, v text)",
                "INSERT INTO a SELECT g, 'a' || g FROM generate_series(1, 5) g",
                "INSERT INTO b SELECT g, 'b' || g FROM generate_series(1, 5) g");
        PipelineConfig config = config(db, "a", "b");
        run(config);
        postgres.execute(db,
                "INSERT INTO a VALUES (6, 'a6')",
                "BEGIN",
                "TRUNCATE a, b",
                "INSERT INTO a VALUES (10, 'after')",
                "INSERT INTO b VALUES (20, 'after'), (21, 'after')",
                "COMMIT",
                "BEGIN",
                "TRUNCATE b",
                "COMMIT");
        run(config);
        assertThat(lake(config, "SELECT id, v FROM silver.a ORDER BY id")).containsExactly(List.of(10, "after"));
        assertThat(lake(config, "SELECT count(*) FROM silver.b")).containsExactly(List.of(0L));
        assertThat(lake(config, "SELECT _op, count(*) FROM bronze.a GROUP BY _op ORDER BY _op"))
                .containsExactly(List.of("c", 2L), List.of("r", 5L), List.of("t", 1L));
        assertThat(lake(config, "SELECT _op, count(*) FROM bronze.b GROUP BY _op ORDER BY _op"))
                .containsExactly(List.of("c", 2L), List.of("r", 5L), List.of("t", 2L));
        // The truncate comes before the inserts of its own transaction.
        assertThat(lake(config, "SELECT _op, id FROM bronze.a WHERE _position > (SELECT max(_position) FROM bronze.a WHERE id = 6) ORDER BY _position"))
                .containsExactly(java.util.Arrays.asList("t", null), List.of("c", 10));
        assertThat(lake(config, "SELECT count(DISTINCT _tx_id) FROM bronze.a WHERE _op = 't' OR id = 10")).containsExactly(List.of(1L));
    }

    /** Item 13: the old key leaves silver, the new one appears; bronze keeps both. */
    @Test
    void primaryKeyUpdateMovesTheRow() {
        String db = database();
        postgres.execute(db,
                "CREATE TABLE t (id int PRIMARY KEY, v text)",
                "INSERT INTO t VALUES (1, 'one'), (2, 'two'), (3, 'three')");
        PipelineConfig config = config(db, "t");
        run(config);
        postgres.execute(db,
                "UPDATE t SET id = 20 WHERE id = 2",
                // In one micro-batch: a new row moved twice, and a move onto a key deleted before.
                "INSERT INTO t VALUES (4, 'four')",
                "UPDATE t SET id = 40 WHERE id = 4",
                "UPDATE t SET id = 41, v = 'four!' WHERE id = 40",
                "DELETE FROM t WHERE id = 1",
                "UPDATE t SET id = 1 WHERE id = 3");
        run(config);
        assertThat(lake(config, "SELECT id, v FROM silver.t ORDER BY id")).isEqualTo(source(db, "SELECT id, v FROM t ORDER BY id"));
        assertThat(lake(config, "SELECT id, v FROM silver.t ORDER BY id"))
                .containsExactly(List.of(1, "three"), List.of(20, "two"), List.of(41, "four!"));
        // Debezium turns a key change into a delete of the old key and a create of the new one.
        assertThat(lake(config, "SELECT _op, id FROM bronze.t WHERE _op <> 'r' ORDER BY _position")).containsExactly(
                List.of("d", 2), List.of("c", 20),
                List.of("c", 4), List.of("d", 4), List.of("c", 40), List.of("d", 40), List.of("c", 41),
                List.of("d", 1), List.of("d", 3), List.of("c", 1));
    }

    /**
     * Item 12: an UPDATE that leaves a TOASTed value unchanged sends no value for it under REPLICA
     * IDENTITY DEFAULT (and none in the new image under FULL); silver and bronze must carry the
     * previous value, taken from the before image, an earlier event of the batch, or bronze.
     */
    @Test
    void unchangedToastedValuesCarryThePreviousValue() {
        String db = database();
        List<String> tables = List.of("toast_default", "toast_full");
        for (String table : tables) {
            postgres.execute(db,
                    "CREATE TABLE " + table + " (id int PRIMARY KEY, n int, t text, j jsonb, b bytea, a text[])",
                    // Stored out of line and uncompressed: random content over 8 kB is really TOASTed.
                    "ALTER TABLE " + table + " ALTER COLUMN t SET STORAGE EXTERNAL, ALTER COLUMN j SET STORAGE EXTERNAL, "
                            + "ALTER COLUMN b SET STORAGE EXTERNAL, ALTER COLUMN a SET STORAGE EXTERNAL",
                    "INSERT INTO " + table + " SELECT g, 0, " + toastValues() + " FROM generate_series(1, 3) g");
        }
        postgres.execute(db, "ALTER TABLE toast_full REPLICA IDENTITY FULL");
        for (String table : tables) {
            // 3 rows x 4 values of 12.8 kB (text, jsonb), 6.4 kB (bytea), 12.8 kB (array): all in the TOAST table.
            assertThat(Long.parseLong(postgres.queryOne(db, "SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = '" + table + "'")))
                    .as("TOAST table of %s", table).isGreaterThan(3 * 40_000L);
        }
        PipelineConfig config = config(db, "toast_default", "toast_full");
        run(config);
        for (String table : tables) {
            postgres.execute(db,
                    // The previous image is only in the lake (DEFAULT) or in the before image (FULL).
                    "UPDATE " + table + " SET n = 1 WHERE id = 1",
                    // The previous image is an earlier event of the same micro-batch.
                    "INSERT INTO " + table + " SELECT 4, 0, " + toastValues(),
                    "UPDATE " + table + " SET n = 1 WHERE id = 4",
                    "UPDATE " + table + " SET n = 2 WHERE id = 4",
                    // One TOASTed value changes, the others do not.
                    "UPDATE " + table + " SET t = (SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 400)) WHERE id = 2",
                    // A key change: the new key's image lacks the unchanged values.
                    "UPDATE " + table + " SET id = 30 WHERE id = 3");
        }
        run(config);
        postgres.execute(db, "UPDATE toast_default SET n = 3 WHERE id = 30", "UPDATE toast_full SET n = 3 WHERE id = 30");
        run(config);
        for (String table : tables) {
            List<List<String>> expected = postgres.query(db, "SELECT id::text, n::text, md5(t), md5(j::text), md5(encode(b, 'hex')), md5(array_to_string(a, '|')) FROM "
                    + table + " x ORDER BY x.id");
            assertThat(expected).hasSize(4);
            String columns = "CAST(id AS VARCHAR), CAST(n AS VARCHAR), md5(t), md5(j), md5(lower(hex(b))), md5(array_to_string(a, '|'))";
            assertThat(lake(config, "SELECT " + columns + " FROM silver." + table + " x ORDER BY x.id")).as("silver.%s", table).isEqualTo(expected);
            assertThat(lake(config, "SELECT " + columns + " FROM (SELECT * FROM bronze." + table + " "
                    + "QUALIFY row_number() OVER (PARTITION BY id ORDER BY _position DESC) = 1) x WHERE _op <> 'd' ORDER BY x.id"))
                    .as("bronze.%s", table).isEqualTo(expected);
            assertThat(lake(config, "SELECT count(*) FROM bronze." + table + " WHERE _op <> 'd' AND (t IS NULL OR j IS NULL OR b IS NULL OR a IS NULL "
                    + "OR strpos(t, 'unavailable') > 0 OR strpos(j, 'unavailable') > 0 OR octet_length(b) < 1000 OR len(a) <> 2)"))
                    .as("bronze.%s versions without every value", table).containsExactly(List.of(0L));
        }
    }

    private static final String EDGE_COLUMNS = "id, n_free, n_wide, n_fixed, m, r, d, ts, tstz, dt, ia, ia2, ta, jb, e, dnum, dtext, u, by, tx";

    /** Item 17: values at the edges of their types, read by the initial snapshot and by streaming. */
    @Test
    void edgeValuesRoundTrip() {
        String db = database();
        postgres.execute(db,
                "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
                "CREATE DOMAIN positive_amount AS numeric(12,3) CHECK (VALUE > 0)",
                "CREATE DOMAIN short_code AS text CHECK (length(VALUE) <= 8)",
                "CREATE TABLE v (id int PRIMARY KEY, n_free numeric, n_wide numeric(50,10), n_fixed numeric(10,2), m money, r real, d double precision, "
                        + "ts timestamp, tstz timestamptz, dt date, ia int[], ia2 int[][], ta text[], jb jsonb, e mood, dnum positive_amount, dtext short_code, "
                        + "u uuid, by bytea, tx text)");
        String[] rows = {
                "'123456789012345678901234567890123456789012.123456789012', '1234567890123456789012345678901234567890.0123456789', 12345678.99, "
                        + "'-1234567.89', 1.5, 2.5, '2024-03-10 02:30:00.123456', '2024-03-10 01:59:59.999999-05', '2024-02-29', "
                        + "'{1,NULL,3}', '{{1,2},{3,4}}', '{\"a\",NULL,\"b c\"}', '{\"k\": [1, 2.5, \"x\"], \"n\": null}', 'happy', 123456789.125, 'abc', "
                        + "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\\x00ff10', '😀 𠜎 漢字 é'",
                "'NaN', 'NaN', 'NaN', '0.01', 'NaN', 'NaN', '2024-11-03 01:30:00.5', '2024-03-10 03:00:00.000001-04', '0001-01-01', "
                        + "'{}', NULL, '{}', '[]', 'sad', 0.001, '', '00000000-0000-0000-0000-000000000000', '\\x', ''",
                "'Infinity', NULL, NULL, 0, 'Infinity', 'Infinity', 'infinity', 'infinity', 'infinity', NULL, NULL, NULL, 'null', NULL, NULL, NULL, NULL, NULL, NULL",
                "'-Infinity', NULL, NULL, NULL, '-Infinity', '-Infinity', '-infinity', '-infinity', '-infinity', NULL, NULL, NULL, '{}', NULL, NULL, NULL, NULL, NULL, NULL",
                "'0.000000000000000000000000000000000000000001', NULL, NULL, NULL, NULL, NULL, '2024-11-03 01:30:00.5', '2024-11-03 01:30:00.5-05', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"};
        for (int i = 0; i < rows.length; i++) {
            postgres.execute(db, "INSERT INTO v (" + EDGE_COLUMNS + ") VALUES (" + (i + 1) + ", " + rows[i] + ")");
        }
        PipelineConfig config = config(db, "v");
        run(config);
        for (int i = 0; i < rows.length; i++) {
            postgres.execute(db, "INSERT INTO v (" + EDGE_COLUMNS + ") VALUES (" + (i + 11) + ", " + rows[i] + ")");
        }
        // money at its limits is exact when streamed (the initial snapshot reads money as a double).
        postgres.execute(db, "INSERT INTO v (id, m) VALUES (21, '-92233720368547758.08'), (22, '92233720368547758.07')");
        run(config);
        String text = java.util.Arrays.stream(EDGE_COLUMNS.split(", ")).map(c -> "CAST(\"" + c + "\" AS VARCHAR)").collect(java.util.stream.Collectors.joining(", "));
        List<List<Object>> snapshot = lake(config, "SELECT " + text + " FROM silver.v WHERE id < 10 ORDER BY id");
        List<List<Object>> streamed = lake(config, "SELECT " + text.replace("CAST(\"id\" AS VARCHAR)", "CAST(id - 10 AS VARCHAR)") + " FROM silver.v WHERE id BETWEEN 10 AND 20 ORDER BY id");
        assertThat(streamed).as("streamed rows equal the initial snapshot's").isEqualTo(snapshot);
        List<Object> none = java.util.Collections.nCopies(20, null);
        assertThat(snapshot).containsExactly(
                List.of("1", "123456789012345678901234567890123456789012.123456789012", "1234567890123456789012345678901234567890.0123456789", "12345678.99",
                        "-1234567.89", "1.5", "2.5", "2024-03-10 02:30:00.123456", "2024-03-10 06:59:59.999999+00", "2024-02-29", "[1, NULL, 3]",
                        // Documented limit: Debezium (2.7 and 3.6.1 alike) delivers the elements of a multi-dimensional array as nulls.
                        "[NULL, NULL]",
                        "[a, NULL, b c]", "{\"k\": [1, 2.5, \"x\"], \"n\": null}", "happy", "123456789.125", "abc", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                        "\\x00\\xFF\\x10", "😀 𠜎 漢字 é"),
                // numeric without precision or over 38 digits keeps NaN and ±Infinity as text; documented form: NaN in a
                // numeric(p,s) of at most 38 digits (an Iceberg decimal) arrives as null.
                with(none, "2", "NaN", "NaN", null, "0.01", "nan", "nan", "2024-11-03 01:30:00.5", "2024-03-10 07:00:00.000001+00", "0001-01-01", "[]", null, "[]",
                        "[]", "sad", "0.001", "", "00000000-0000-0000-0000-000000000000", "", ""),
                // Documented form: ±infinity of date, timestamp and timestamptz become DuckDB's ±infinity (the extreme values of each type).
                with(none, "3", "Infinity", null, null, "0.00", "inf", "inf", "infinity", "infinity", "infinity", null, null, null, "null"),
                with(none, "4", "-Infinity", null, null, null, "-inf", "-inf", "-infinity", "-infinity", "-infinity", null, null, null, "{}"),
                with(none, "5", "0.000000000000000000000000000000000000000001", null, null, null, null, null, "2024-11-03 01:30:00.5", "2024-11-03 06:30:00.5+00"));
        assertThat(lake(config, "SELECT CAST(m AS VARCHAR) FROM silver.v WHERE id > 20 ORDER BY id"))
                .containsExactly(List.of("-92233720368547758.08"), List.of("92233720368547758.07"));
        // The source agrees: timestamptz in UTC, across both DST changes of America/New_York.
        assertThat(postgres.query(db, "SELECT to_char(tstz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), ts::text, m::numeric::text FROM v WHERE id IN (1, 2, 5) ORDER BY id"))
                .containsExactly(List.of("2024-03-10 06:59:59.999999", "2024-03-10 02:30:00.123456", "-1234567.89"),
                        List.of("2024-03-10 07:00:00.000001", "2024-11-03 01:30:00.5", "0.01"),
                        java.util.Arrays.asList("2024-11-03 06:30:00.500000", "2024-11-03 01:30:00.5", null));
        assertThat(lake(config, "SELECT count(*) FROM bronze.v")).containsExactly(List.of(12L));
    }

    /**
     * Item 14: a table without a primary key is keyed by the whole row under REPLICA IDENTITY FULL
     * (identical rows counted exactly), or by the replica identity index under USING INDEX.
     */
    @Test
    void tablesWithoutPrimaryKeyAreKeyedByTheirReplicaIdentity() {
        String db = database();
        postgres.execute(db,
                "CREATE TABLE dup (a int, b text, f double precision)",
                "ALTER TABLE dup REPLICA IDENTITY FULL",
                "CREATE TABLE by_index (code text NOT NULL, region int NOT NULL, v text)",
                "CREATE UNIQUE INDEX by_index_key ON by_index (region, code)",
                "ALTER TABLE by_index REPLICA IDENTITY USING INDEX by_index_key",
                "INSERT INTO dup VALUES (1, 'x', 0.5), (1, 'x', 0.5), (1, 'x', 0.5), (2, 'y', 'NaN'), (3, NULL, NULL), (3, NULL, NULL)",
                "INSERT INTO by_index VALUES ('a', 1, 'one'), ('b', 1, 'two'), ('a', 2, 'three')");
        PipelineConfig config = config(db, "dup", "by_index");
        run(config);
        assertSameRows(db, config);
        postgres.execute(db,
                "INSERT INTO dup VALUES (1, 'x', 0.5), (2, 'y', 'NaN')",
                // One of several identical rows deleted, and one updated.
                "DELETE FROM dup WHERE ctid IN (SELECT ctid FROM dup WHERE a = 1 LIMIT 1)",
                "UPDATE dup SET b = 'z' WHERE ctid IN (SELECT ctid FROM dup WHERE a = 3 LIMIT 1)",
                "BEGIN",
                "DELETE FROM dup WHERE ctid IN (SELECT ctid FROM dup WHERE a = 2 LIMIT 1)",
                "INSERT INTO dup VALUES (4, 'w', 1.5), (4, 'w', 1.5)",
                "COMMIT",
                "UPDATE by_index SET v = 'one!' WHERE region = 1 AND code = 'a'",
                "UPDATE by_index SET code = 'c' WHERE region = 1 AND code = 'b'",
                "DELETE FROM by_index WHERE region = 2");
        run(config);
        assertSameRows(db, config);
        // Counted from silver in a later micro-batch: every copy but one of a row goes, then all of them.
        postgres.execute(db, "DELETE FROM dup WHERE ctid IN (SELECT ctid FROM dup WHERE a = 1 LIMIT 2)", "INSERT INTO dup VALUES (3, NULL, NULL)");
        run(config);
        assertSameRows(db, config);
        postgres.execute(db, "DELETE FROM dup WHERE a = 1", "UPDATE dup SET f = 2.5 WHERE a = 4");
        run(config);
        assertSameRows(db, config);
        assertThat(lake(config, "SELECT count(*) FROM silver.dup")).containsExactly(List.of(6L));
        assertThat(lake(config, "SELECT code, region, v FROM silver.by_index ORDER BY region, code"))
                .containsExactly(List.of("a", 1, "one!"), List.of("c", 1, "two"));
    }

    private void assertSameRows(String db, PipelineConfig config) {
        assertThat(lake(config, "SELECT CAST(a AS VARCHAR), b, CAST(f AS VARCHAR), CAST(count(*) AS VARCHAR) FROM silver.dup GROUP BY ALL ORDER BY ALL"))
                .as("silver.dup, copies counted")
                .isEqualTo(postgres.query(db, "SELECT a::text, b, CASE WHEN f = 'NaN' THEN 'nan' ELSE f::text END, count(*)::text FROM dup "
                        + "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3").stream().map(r -> (List<Object>) new ArrayList<Object>(r)).toList());
        assertThat(lake(config, "SELECT code, CAST(region AS VARCHAR), v FROM silver.by_index ORDER BY ALL"))
                .isEqualTo(postgres.query(db, "SELECT code, region::text, v FROM by_index ORDER BY 1, 2, 3").stream().map(r -> (List<Object>) new ArrayList<Object>(r)).toList());
    }

    /** Item 14: without a usable replica identity, capture refuses to start, naming every such table and the fix. */
    @Test
    void tablesWithoutUsableReplicaIdentityAreRefused() {
        String db = database();
        postgres.execute(db,
                "CREATE TABLE fine (id int PRIMARY KEY)",
                "CREATE TABLE no_key (a int)",
                "CREATE TABLE nothing (id int PRIMARY KEY)",
                "ALTER TABLE nothing REPLICA IDENTITY NOTHING");
        PipelineConfig config = config(db, "fine", "no_key", "nothing");
        TributaryException e = catchFailure(config);
        assertThat(e.errorCode()).isEqualTo(ErrorCode.NO_PRIMARY_KEY);
        assertThat(e.getMessage()).isEqualTo("Cannot capture public.no_key, public.nothing in database " + db
                + ": no primary key and no usable replica identity, so updates and deletes cannot name the row they change. Add a primary key, or run "
                + "ALTER TABLE \"public\".\"no_key\" REPLICA IDENTITY FULL; ALTER TABLE \"public\".\"nothing\" REPLICA IDENTITY FULL; "
                + "(or REPLICA IDENTITY USING INDEX on a unique index of NOT NULL columns), or leave the table out of source.tables");
        assertThat(postgres.queryOne(db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'tributary_" + db + "'")).isEqualTo("0");
    }

    /**
     * Item 19: a column of a type Tributary cannot map (point), added while streaming, stops the
     * pipeline at the first event that carries it, naming the table, position and column but not
     * the value; neither the lake's watermark nor the slot moves past it, and a restart stops the same way.
     */
    @Test
    void unconvertibleEventStopsThePipelineWithoutSkippingIt() {
        String db = database();
        postgres.execute(db, "CREATE TABLE t (id int PRIMARY KEY, v text)", "INSERT INTO t VALUES (1, 'one')");
        PipelineConfig config = config(db, "t");
        run(config);
        postgres.execute(db, "INSERT INTO t VALUES (2, 'two')");
        Lsn beforeBadEvent = Lsn.parse(postgres.queryOne(db, "SELECT pg_current_wal_lsn()::text"));
        postgres.execute(db,
                "ALTER TABLE t ADD COLUMN p point",
                "INSERT INTO t VALUES (3, 'three', point(12.5, 34.25))",
                "INSERT INTO t VALUES (4, 'four', NULL)");

        TributaryException first = catchFailure(config);
        assertThat(first.errorCode()).isEqualTo(ErrorCode.CONVERSION_FAILED);
        assertThat(first.errorCode().kind().exitCode()).isEqualTo(4);
        assertThat(first.getMessage())
                .startsWith("Cannot convert the change event of public.t at position ")
                .contains("Cannot map column p of public.t: PostgreSQL type 'point'")
                .doesNotContain("12.5").doesNotContain("34.25");
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("at position ([0-9A-F]+/[0-9A-F]+)#(\\d+)").matcher(first.getMessage());
        assertThat(m.find()).isTrue();
        Lsn failedAt = Lsn.parse(m.group(1));
        assertThat(failedAt).isGreaterThan(beforeBadEvent);

        // Nothing at or after the event is acknowledged or committed.
        assertThat(Lsn.of(committedState(config).orElseThrow().watermark())).isLessThan(failedAt);
        Lsn confirmed = Lsn.parse(postgres.queryOne(db, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'tributary_" + db + "'"));
        assertThat(confirmed).isLessThan(failedAt);
        assertThat(lake(config, "SELECT count(*) FROM silver.t WHERE id >= 3")).containsExactly(List.of(0L));

        // A restart stops at the same event, again.
        TributaryException second = catchFailure(config);
        assertThat(second.errorCode()).isEqualTo(ErrorCode.CONVERSION_FAILED);
        assertThat(second.getMessage()).isEqualTo(first.getMessage());
        assertThat(Lsn.of(committedState(config).orElseThrow().watermark())).isLessThan(failedAt);
        assertThat(lake(config, "SELECT count(*) FROM silver.t WHERE id >= 3")).containsExactly(List.of(0L));
    }

    private static TributaryException catchFailure(PipelineConfig config) {
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> run(config));
        assertThat(thrown).isInstanceOf(TributaryException.class);
        return (TributaryException) thrown;
    }

    /** {@code values} over the first elements of {@code row}. */
    private static List<Object> with(List<Object> row, Object... values) {
        List<Object> out = new ArrayList<>(row);
        for (int i = 0; i < values.length; i++) {
            out.set(i, values[i]);
        }
        return out;
    }

    private static String toastValues() {
        String random = "(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 400))";
        return random + ", jsonb_build_object('k', " + random + "), decode(" + random + ", 'hex'), ARRAY[" + random + ", 'x']";
    }

    // ---------------------------------------------------------------------------------------------

    private String database() {
        database = postgres.createDatabase("edge" + DATABASES.incrementAndGet());
        return database;
    }

    private PipelineConfig config(String db, String... tables) {
        List<TableId> ids = java.util.Arrays.stream(tables).map(TableId::parse).toList();
        return new PipelineConfig(db,
                new PostgresSourceConfig(postgres.host(), postgres.port(), db, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                        ids, "tributary_" + db, "tributary_" + db, Duration.ofSeconds(1), Duration.ofSeconds(5)),
                new LakeConfig(dir.resolve(db), LakeConfig.RawLayer.ENABLED), new ModelsConfig(Optional.empty(), Duration.ofSeconds(1)),
                new CommitConfig(Duration.ofMillis(200), 100_000), Map.of());
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

    private static List<List<Object>> lake(PipelineConfig config, String sql) {
        try (Lake lake = Lake.open(config.lake(), config.name(), config::optionsFor); QueryEngine q = QueryEngine.open(lake.tables())) {
            return q.query(sql).rows();
        }
    }

    private static Optional<CommittedState> committedState(PipelineConfig config) {
        try (Lake lake = Lake.open(config.lake(), config.name(), config::optionsFor)) {
            return lake.committedState();
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
