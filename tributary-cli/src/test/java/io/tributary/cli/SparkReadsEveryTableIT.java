package io.tributary.cli;

import static io.tributary.cli.CliRun.tributary;
import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeTable;
import io.tributary.query.QueryEngine;
import io.tributary.query.QueryResult;
import io.tributary.testing.TestingPostgres;
import io.tributary.testing.TestingSpark;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, item 4: Apache Spark, an engine nobody here wrote, reads every bronze, silver, history
 * and gold table of a lake the real command line wrote from a real PostgreSQL, and gets the rows
 * Tributary's own {@code sql} answers (and, for silver, the rows PostgreSQL holds). The workload:
 * an initial snapshot, then streamed inserts, updates, deletes, primary-key changes (a single and
 * a composite key), several changes of one key in one transaction, a TRUNCATE followed by inserts,
 * a keyless {@code REPLICA IDENTITY FULL} table with duplicate rows, and an ADD COLUMN between
 * streamed changes; a gold model rebuilt in full and an incremental one. PostgreSQL runs in
 * America/New_York so time zones are exercised. Spark starts once ({@link TestingSpark}).
 */
class SparkReadsEveryTableIT {
    /** The name LakeCatalog gives the lake's Iceberg JDBC catalog, and Spark's catalog here. */
    private static final String CATALOG = "tributary";
    private static final String DB = "shop";
    private static final List<String> SOURCE_TABLES = List.of("customers", "orders", "order_lines", "events", "sessions");

    @TempDir
    static Path dir;
    private static TestingPostgres postgres;
    private static TestingSpark spark;
    private static Path warehouse;

    @BeforeAll
    static void replicateAWorkloadThenStartSpark() throws Exception {
        postgres = new TestingPostgres(List.of("timezone=America/New_York"));
        postgres.createDatabase(DB);
        postgres.execute(DB,
                "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text, vip boolean, signed_up date, profile jsonb, external_id uuid)",
                "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(10,2), placed_at timestamptz, "
                        + "local_placed timestamp, ratio double precision, weight real, tags text[], receipt bytea)",
                "CREATE TABLE order_lines (order_id bigint, line int, item text, qty int, PRIMARY KEY (order_id, line))",
                "CREATE TABLE events (kind text, amount int, seen_at timestamptz)",
                "ALTER TABLE events REPLICA IDENTITY FULL",
                "CREATE TABLE sessions (id int PRIMARY KEY, token text)",
                "INSERT INTO customers SELECT g, 'customer ' || g, CASE WHEN g % 4 = 0 THEN NULL ELSE 'c' || g || '@example.com' END, g % 3 = 0, "
                        + "DATE '2024-02-27' + g, CASE WHEN g % 5 = 0 THEN NULL ELSE jsonb_build_object('tier', g % 3, 'tags', jsonb_build_array('a', g)) END, "
                        + "md5(g::text)::uuid FROM generate_series(1, 20) g",
                "INSERT INTO orders SELECT g, 1 + g % 20, CASE WHEN g % 9 = 0 THEN NULL ELSE round((g * 7.31)::numeric, 2) END, "
                        + "TIMESTAMPTZ '2026-03-08 01:30:00-05' + g * interval '17 minutes 0.123456 seconds', "
                        + "TIMESTAMP '2026-11-01 01:30:00' + g * interval '13 minutes', g / 7.0, (g * 0.25)::real, "
                        + "CASE WHEN g % 6 = 0 THEN NULL ELSE ARRAY['t' || g, NULL, 'x'] END, "
                        + "CASE WHEN g % 8 = 0 THEN NULL ELSE decode(lpad(to_hex(g), 4, '0'), 'hex') END FROM generate_series(1, 60) g",
                "INSERT INTO order_lines SELECT o, l, 'item ' || (o * l) % 11, l FROM generate_series(1, 15) o, generate_series(1, 3) l",
                "INSERT INTO events VALUES ('click', 1, TIMESTAMPTZ '2026-12-01 10:00:00Z'), ('click', 1, TIMESTAMPTZ '2026-12-01 10:00:00Z'), "
                        + "('click', 1, TIMESTAMPTZ '2026-12-01 10:00:00Z'), ('view', 2, NULL), ('view', 2, NULL), ('buy', NULL, TIMESTAMPTZ '2026-12-01 11:00:00Z')",
                "INSERT INTO sessions SELECT g, 'token ' || g FROM generate_series(1, 10) g");
        Path config = config();
        run(config);

        // Streamed: every kind of change, then a run that catches up.
        postgres.execute(DB,
                "INSERT INTO customers SELECT g, 'late ' || g, NULL, NULL, NULL, '{\"late\": true}', NULL FROM generate_series(21, 25) g",
                "UPDATE customers SET email = 'changed' || id || '@example.org', vip = NOT coalesce(vip, false) WHERE id % 3 = 0",
                "DELETE FROM customers WHERE id IN (2, 4)",
                "UPDATE customers SET id = 100 WHERE id = 5",
                "UPDATE orders SET amount = amount + 1.25, placed_at = placed_at + interval '1 hour', tags = ARRAY['updated'] WHERE id % 4 = 0",
                "DELETE FROM orders WHERE id % 10 = 0",
                "UPDATE orders SET id = 1000 WHERE id = 11",
                "DO $$ BEGIN UPDATE orders SET amount = 1.00 WHERE id = 1; UPDATE orders SET amount = 2.00 WHERE id = 1; "
                        + "DELETE FROM orders WHERE id = 2; INSERT INTO orders (id, customer_id, amount) VALUES (2, 3, 0.01); END $$",
                "UPDATE order_lines SET line = line + 10 WHERE order_id = 3",
                "DELETE FROM order_lines WHERE order_id = 4 AND line = 2",
                "DO $$ BEGIN TRUNCATE sessions; INSERT INTO sessions VALUES (1, 'after truncate'), (42, 'new'); END $$",
                "INSERT INTO sessions VALUES (43, 'later')",
                "INSERT INTO events VALUES ('view', 2, NULL), ('click', 5, TIMESTAMPTZ '2026-12-02 09:00:00+01')",
                "UPDATE events SET amount = 9 WHERE ctid = (SELECT ctid FROM events WHERE kind = 'click' AND amount = 1 LIMIT 1)",
                "DELETE FROM events WHERE ctid = (SELECT ctid FROM events WHERE kind = 'view' LIMIT 1)");
        run(config);

        // A schema change between streamed changes: rows before and after ADD COLUMN in one catch-up.
        postgres.execute(DB,
                "INSERT INTO orders (id, customer_id, amount, placed_at) VALUES (61, 7, 61.00, TIMESTAMPTZ '2026-12-05 23:59:59.999999+00')",
                "ALTER TABLE orders ADD COLUMN channel text",
                "INSERT INTO orders (id, customer_id, amount, channel) VALUES (62, 8, 62.00, 'web'), (63, 100, 63.00, NULL)",
                "UPDATE orders SET channel = 'store' WHERE id % 5 = 1",
                "DELETE FROM orders WHERE id = 7",
                "UPDATE customers SET name = 'renamed' WHERE id = 1");
        run(config);

        warehouse = dir.resolve("lake");
        spark = new TestingSpark("jdbc:sqlite:" + warehouse.resolve("catalog.db"), warehouse, CATALOG);
    }

    @AfterAll
    static void stop() {
        if (spark != null) {
            spark.close();
        }
        if (postgres != null) {
            postgres.dropInactiveSlots();
            postgres.close();
        }
    }

    private static Path config() throws Exception {
        Files.createDirectories(dir.resolve("models/gold"));
        Files.writeString(dir.resolve("models/gold/customer_totals.sql"), """
                SELECT c.id AS customer_id, c.name, count(o.id) AS orders, sum(o.amount) AS spent, max(o.placed_at) AS last_order
                FROM silver.customers c LEFT JOIN silver.orders o ON o.customer_id = c.id
                GROUP BY c.id, c.name
                """);
        Files.writeString(dir.resolve("models/gold/order_activity.sql"), """
                -- materialized: incremental
                -- unique_key: customer_id
                SELECT customer_id, count(*) AS orders, sum(amount) AS spent, max(placed_at) AS last_order
                FROM silver.orders
                WHERE NOT {{ is_incremental }} OR customer_id IN (SELECT customer_id FROM bronze.orders WHERE _position > {{ last_position }})
                GROUP BY customer_id
                """);
        Path file = dir.resolve("shop.yaml");
        Files.writeString(file, """
                name: shop
                source: {host: 127.0.0.1, port: %d, database: shop, user: postgres, sslmode: disable,
                         tables: [public.customers, public.orders, public.order_lines, public.events, public.sessions]}
                lake: {warehouse: ./lake}
                commit: {interval: 200ms}
                models: {path: ./models, interval: 1h}
                """.formatted(postgres.port()));
        return file;
    }

    private static void run(Path config) {
        CliRun run = tributary("run", "-c", config.toString(), "--once");
        assertThat(run.exitCode()).as(run.err()).isZero();
    }

    @Test
    void sparkReadsEveryTableAsTributaryAnswersIt() {
        SortedSet<String> tables = tributaryTables();
        assertThat(sparkTables()).as("the tables Spark finds in the catalog").containsExactlyInAnyOrderElementsOf(tables);
        for (String source : SOURCE_TABLES) {
            assertThat(tables).contains("bronze." + source, "silver." + source, "silver." + source + "_history");
        }
        assertThat(tables).contains("gold.customer_totals", "gold.order_activity");

        SoftAssertions softly = new SoftAssertions();
        try (Lake lake = openLake(); QueryEngine engine = QueryEngine.open(lake.consistentView().tables())) {
            for (String table : tables) {
                TestingSpark.Result bySpark = spark.query("SELECT * FROM " + table);
                QueryResult byTributary = engine.query("SELECT * FROM " + table);
                softly.assertThat(bySpark.columns()).as("columns of %s", table).containsExactlyElementsOf(byTributary.columns());
                if (!bySpark.columns().equals(byTributary.columns())) {
                    continue;
                }
                softly.assertThat(bySpark.rows()).as("rows of %s", table).isNotEmpty();
                List<List<Object>> tributaryRows = byTributary.rows().stream().map(row -> normalized(bySpark.types(), row)).toList();
                softly.assertThat(bySpark.rows().stream().map(row -> normalized(bySpark.types(), row)).toList())
                        .as("Spark's rows of %s against Tributary's sql answer", table)
                        .containsExactlyInAnyOrderElementsOf(tributaryRows);
            }
        }
        softly.assertAll();
    }

    @Test
    void sparkReadsSilverAsPostgresHoldsIt() throws SQLException {
        SoftAssertions softly = new SoftAssertions();
        for (String source : SOURCE_TABLES) {
            List<String> columns = postgresColumns(source);
            TestingSpark.Result bySpark = spark.query("SELECT " + String.join(", ", columns) + " FROM silver." + source);
            List<List<Object>> byPostgres = postgresRows(source, columns, bySpark.types());
            softly.assertThat(byPostgres).as("PostgreSQL's rows of %s", source).isNotEmpty();
            softly.assertThat(bySpark.rows().stream().map(row -> normalized(bySpark.types(), row)).toList())
                    .as("Spark's rows of silver.%s against PostgreSQL's", source)
                    .containsExactlyInAnyOrderElementsOf(byPostgres);
        }
        softly.assertAll();
    }

    /**
     * Equality deletes are what Snowflake refuses and DuckDB's Iceberg reader mishandles: no live
     * snapshot of any table may reference one (Iceberg spec, "Delete Formats": content 2).
     */
    @Test
    void noTableHoldsAnEqualityDelete() {
        SoftAssertions softly = new SoftAssertions();
        List<String> tables = sparkTables();
        assertThat(tables).isNotEmpty();
        for (String table : tables) {
            List<List<Object>> equalityDeletes = spark.query("SELECT content, file_path FROM " + table + ".all_delete_files").rows().stream()
                    .filter(file -> "2".equals(file.get(0)))
                    .toList();
            softly.assertThat(equalityDeletes).as("equality delete files (content 2) of %s", table).isEmpty();
        }
        softly.assertAll();
    }

    private static Lake openLake() {
        return Lake.open(new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED), "shop", t -> TableOptions.DEFAULT);
    }

    /** The qualified name of every table of the bronze, silver and gold namespaces, as Tributary's sql sees them. */
    private static SortedSet<String> tributaryTables() {
        try (Lake lake = openLake()) {
            SortedSet<String> out = new TreeSet<>();
            for (LakeTable t : lake.consistentView().tables()) {
                out.add(t.layer().namespace() + "." + t.name());
            }
            return out;
        }
    }

    private static List<String> sparkTables() {
        List<String> out = new ArrayList<>();
        for (Layer layer : Layer.values()) {
            for (List<Object> row : spark.query("SHOW TABLES IN " + layer.namespace()).rows()) {
                out.add(row.get(0) + "." + row.get(1));
            }
        }
        return out;
    }

    private static List<String> postgresColumns(String table) {
        return postgres.query(DB, "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '" + table
                + "' ORDER BY ordinal_position").stream().map(row -> row.get(0)).toList();
    }

    /** The table's rows as PostgreSQL holds them, each value read as the Java type of its Spark type. */
    private static List<List<Object>> postgresRows(String table, List<String> columns, List<String> types) throws SQLException {
        List<List<Object>> rows = new ArrayList<>();
        try (Connection c = postgres.connect(DB); Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT " + String.join(", ", columns) + " FROM " + table)) {
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                for (int i = 0; i < columns.size(); i++) {
                    String type = types.get(i);
                    Object value = switch (type) {
                        case "timestamp" -> rs.getObject(i + 1, OffsetDateTime.class);
                        case "timestamp_ntz" -> rs.getObject(i + 1, LocalDateTime.class);
                        case "date" -> rs.getObject(i + 1, LocalDate.class);
                        case "binary" -> rs.getBytes(i + 1);
                        default -> type.startsWith("array<") ? rs.getArray(i + 1) : rs.getObject(i + 1);
                    };
                    row.add(normalized(type, value));
                }
                rows.add(row);
            }
        }
        return rows;
    }

    private static List<Object> normalized(List<String> types, List<Object> row) {
        List<Object> out = new ArrayList<>(row.size());
        for (int i = 0; i < row.size(); i++) {
            out.add(normalized(types.get(i), row.get(i)));
        }
        return out;
    }

    /**
     * One value in one form whichever engine read it, by the column's Spark type: a timestamp with
     * zone as a UTC instant, a decimal without trailing zeros, binary as hex, an array as a list of
     * such values, a number as the Java number of its width; null stays null.
     */
    static Object normalized(String type, Object value) {
        if (value == null) {
            return null;
        }
        try {
            if (type.startsWith("array<")) {
                String element = type.substring("array<".length(), type.length() - 1);
                List<?> elements = value instanceof Array array ? Arrays.asList((Object[]) array.getArray()) : (List<?>) value;
                List<Object> out = new ArrayList<>();
                elements.forEach(e -> out.add(normalized(element, e)));
                return out;
            }
            if (type.startsWith("decimal(")) {
                BigDecimal d = value instanceof BigDecimal b ? b : new BigDecimal(value.toString());
                return d.signum() == 0 ? "0" : d.stripTrailingZeros().toPlainString();
            }
            return switch (type) {
                case "timestamp" -> instant(value).toString();
                case "timestamp_ntz" -> (value instanceof Timestamp t ? t.toLocalDateTime() : value instanceof LocalDateTime l ? l : LocalDateTime.parse(value.toString())).toString();
                case "date" -> (value instanceof java.sql.Date d ? d.toLocalDate() : value instanceof LocalDate l ? l : LocalDate.parse(value.toString())).toString();
                case "binary" -> value instanceof byte[] b ? HexFormat.of().formatHex(b) : value.toString();
                case "tinyint", "smallint", "int", "bigint" -> Long.toString(Long.parseLong(value.toString()));
                case "double" -> Double.toString(value instanceof Number n ? n.doubleValue() : Double.parseDouble(value.toString()));
                case "float" -> Float.toString(value instanceof Number n ? n.floatValue() : Float.parseFloat(value.toString()));
                case "boolean" -> Boolean.toString(value instanceof Boolean b ? b : parseBoolean(value.toString()));
                default -> value.toString();
            };
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot read a value of type " + type + ": " + e.getMessage(), e);
        }
    }

    private static boolean parseBoolean(String text) {
        return switch (text) {
            case "true", "t" -> true;
            case "false", "f" -> false;
            default -> throw new IllegalArgumentException("Not a boolean: " + text);
        };
    }

    private static Instant instant(Object value) {
        if (value instanceof Instant i) {
            return i;
        }
        if (value instanceof OffsetDateTime o) {
            return o.toInstant();
        }
        if (value instanceof ZonedDateTime z) {
            return z.toInstant();
        }
        if (value instanceof String s) {
            return OffsetDateTime.parse(s).toInstant();
        }
        throw new IllegalArgumentException("Cannot read " + value.getClass().getName() + " " + value + " as an instant");
    }
}
