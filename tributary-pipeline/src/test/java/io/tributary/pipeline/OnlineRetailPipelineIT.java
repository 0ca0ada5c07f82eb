package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.CatalogConfig;
import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.S3Config;
import io.tributary.config.Secret;
import io.tributary.config.SslMode;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.TableId;
import io.tributary.testing.TestingPostgres;
import io.tributary.testing.TestingS3;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * End to end on real data: 30 days of the UCI Online Retail transactions loaded into PostgreSQL as
 * invoices and invoice lines, replicated, then changed (cancellations, price updates, late
 * inserts), with a restart in between. Silver must equal the source by count and an
 * order-independent checksum of all columns; a gold model must equal the same SQL on PostgreSQL.
 * Runs on a local warehouse with its embedded catalog, and on an S3 warehouse (S3Proxy) with a
 * JDBC catalog in a PostgreSQL database.
 */
class OnlineRetailPipelineIT {
    private static final Path DATA = Path.of(System.getProperty("tributary.shared.data", "../../shared/data"), "online-retail", "by-day");
    private static TestingPostgres postgres;
    private static TestingS3 s3;

    @TempDir
    static Path lakeDir;

    /** One run's source database, lake and pipeline name. */
    private record Setup(String db, LakeConfig lake, String name) {
    }

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
        s3 = TestingS3.start(lakeDir.resolve("s3"));
    }

    static void load(String DB) throws Exception {
        postgres.createDatabase(DB);
        postgres.execute(DB,
                "CREATE TABLE staging (invoice_no text, stock_code text, description text, quantity int, invoice_date timestamp, unit_price numeric(10,3), customer_id text, country text)",
                "CREATE TABLE invoices (invoice_no text PRIMARY KEY, invoice_date timestamp NOT NULL, customer_id integer, country text NOT NULL, cancelled boolean NOT NULL)",
                "CREATE TABLE invoice_lines (invoice_no text NOT NULL, line_no integer NOT NULL, stock_code text NOT NULL, description text, quantity integer NOT NULL, "
                        + "unit_price numeric(10,3) NOT NULL, PRIMARY KEY (invoice_no, line_no))");
        List<Path> days;
        try (Stream<Path> files = Files.list(DATA)) {
            days = files.filter(p -> p.toString().endsWith(".csv")).sorted().limit(30).toList();
        }
        assertThat(days).hasSize(30);
        try (Connection c = postgres.connect(DB)) {
            CopyManager copy = new CopyManager(c.unwrap(BaseConnection.class));
            for (Path day : days) {
                try (var in = Files.newBufferedReader(day)) {
                    copy.copyIn("COPY staging FROM STDIN WITH (FORMAT csv, HEADER true)", in);
                }
            }
        }
        postgres.execute(DB,
                "INSERT INTO invoices SELECT invoice_no, min(invoice_date), min(nullif(customer_id, '')::numeric)::int, min(country), invoice_no LIKE 'C%' FROM staging GROUP BY invoice_no",
                "INSERT INTO invoice_lines SELECT invoice_no, row_number() OVER (PARTITION BY invoice_no ORDER BY stock_code, quantity, unit_price, description), "
                        + "stock_code, description, quantity, unit_price FROM staging");
    }

    @AfterAll
    static void stop() {
        s3.close();
        postgres.close();
    }

    private static PipelineConfig config(Setup setup, Path models) {
        return new PipelineConfig(setup.name(),
                new PostgresSourceConfig(postgres.host(), postgres.port(), setup.db(), TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                        List.of(new TableId("public", "invoices"), new TableId("public", "invoice_lines")), "tributary_" + setup.name(), "tributary_" + setup.name(),
                        Duration.ofSeconds(1), Duration.ofSeconds(5)),
                setup.lake(),
                new ModelsConfig(Optional.of(models), Duration.ofSeconds(1)),
                new CommitConfig(Duration.ofMillis(500), 50_000), Map.of());
    }

    private static final String GOLD = "SELECT country, count(DISTINCT i.invoice_no) AS invoices, sum(l.quantity * l.unit_price) AS revenue "
            + "FROM %s.invoices i JOIN %s.invoice_lines l ON l.invoice_no = i.invoice_no WHERE NOT i.cancelled GROUP BY country";

    @Test
    void silverEqualsSourceThroughChangesAndRestarts() throws Exception {
        load("retail");
        Setup setup = new Setup("retail", new LakeConfig(lakeDir.resolve("lake"), LakeConfig.RawLayer.ENABLED), "retail");
        run(setup, lakeDir.resolve("models"));
        assertThat(Files.list(lakeDir.resolve("lake/raw/invoice_lines")).count()).isGreaterThan(0);
    }

    @Test
    void onObjectStorageWithPostgresCatalog() throws Exception {
        load("retail_s3");
        postgres.createDatabase("lake_catalog");
        s3.createBucket("lake");
        LakeConfig lake = new LakeConfig("s3://lake/retail", new S3Config(Optional.of(s3.endpoint()), Optional.of("us-east-1"), true,
                Optional.of(TestingS3.ACCESS_KEY_ID), Optional.of(new Secret(TestingS3.SECRET_ACCESS_KEY, "${env:AWS_SECRET_ACCESS_KEY}")), S3Config.DEFAULT_CACHE_SIZE),
                CatalogConfig.jdbc(postgres.jdbcUrl("lake_catalog"), TestingPostgres.USER, Optional.empty()),
                LakeConfig.RawLayer.ENABLED, LakeConfig.HistoryLayer.ENABLED, lakeDir.resolve("s3-state"));
        run(new Setup("retail_s3", lake, "retail_s3"), lakeDir.resolve("models-s3"));
        assertThat(s3.keys("lake", "retail/raw/invoice_lines/")).isNotEmpty();
        assertThat(s3.keys("lake", "retail/silver/invoice_lines/data/")).isNotEmpty();
        // Every table is in the shared catalog, and nothing of the lake is on local disk but rebuildable state.
        assertThat(postgres.queryOne("lake_catalog", "SELECT count(*) FROM iceberg_tables WHERE table_namespace = 'silver'")).isEqualTo("4");
        assertThat(postgres.queryOne("lake_catalog", "SELECT count(*) FROM iceberg_tables WHERE metadata_location NOT LIKE 's3://lake/retail/%'")).isEqualTo("0");
    }

    private static void run(Setup setup, Path models) throws Exception {
        String DB = setup.db();
        Files.createDirectories(models.resolve("gold"));
        Files.writeString(models.resolve("gold/revenue_by_country.sql"), GOLD.formatted("silver", "silver"));

        runOnce(setup, models);
        assertLakeEqualsSource(setup, models);

        long deletedLines = Long.parseLong(postgres.queryOne(DB, "SELECT count(*) FROM invoice_lines WHERE invoice_no IN "
                + "(SELECT invoice_no FROM invoices WHERE NOT cancelled ORDER BY invoice_no LIMIT 20)"));
        // Cancellations delete some lines and negate others, prices change, late invoices arrive.
        postgres.execute(DB,
                "UPDATE invoices SET cancelled = true WHERE invoice_no IN (SELECT invoice_no FROM invoices WHERE NOT cancelled ORDER BY invoice_no LIMIT 40)",
                "DELETE FROM invoice_lines WHERE invoice_no IN (SELECT invoice_no FROM invoices WHERE cancelled ORDER BY invoice_no LIMIT 20)",
                "UPDATE invoice_lines SET quantity = -quantity WHERE invoice_no IN (SELECT invoice_no FROM invoices WHERE cancelled ORDER BY invoice_no DESC LIMIT 20)",
                "UPDATE invoice_lines SET unit_price = unit_price * 1.1 WHERE stock_code IN ('85123A', '22423', '47566')",
                "INSERT INTO invoices VALUES ('L900001', now()::timestamp, 17850, 'United Kingdom', false)",
                "INSERT INTO invoice_lines VALUES ('L900001', 1, '85123A', 'WHITE HANGING HEART T-LIGHT HOLDER ', 6, 2.55), ('L900001', 2, '71053', 'WHITE METAL LANTERN', 6, 3.39)",
                "UPDATE invoice_lines SET line_no = line_no + 1000 WHERE invoice_no = 'L900001' AND line_no = 2");
        runOnce(setup, models);
        assertLakeEqualsSource(setup, models);

        // A run with nothing new changes nothing and writes no duplicate.
        runOnce(setup, models);
        assertLakeEqualsSource(setup, models);
        try (Lake lake = Lake.open(setup.lake(), setup.name(), t -> io.tributary.config.TableOptions.DEFAULT);
             QueryEngine q = QueryEngine.open(lake.tables())) {
            assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze.invoice_lines").rows().get(0).get(0)).isEqualTo(0L);
            // The deleted lines, plus the primary-key update, which Debezium delivers as a delete and a create.
            assertThat(q.query("SELECT count(*) FROM bronze.invoice_lines WHERE _op = 'd'").rows().get(0).get(0)).isEqualTo(deletedLines + 1);
        }
    }

    private static void runOnce(Setup setup, Path models) {
        try (Pipeline pipeline = Pipeline.open(config(setup, models))) {
            pipeline.run(ChangeSource.RunMode.CATCH_UP);
            pipeline.lake().close();
        }
    }

    private static void assertLakeEqualsSource(Setup setup, Path models) throws IOException {
        String DB = setup.db();
        String invoices = "SELECT count(*), coalesce(sum(hashtext(invoice_no || '|' || invoice_date::text || '|' || coalesce(customer_id::text, '') || '|' || country || '|' || cancelled::text)::bigint), 0) FROM %s";
        String lines = "SELECT count(*), coalesce(sum(hashtext(invoice_no || '|' || line_no::text || '|' || stock_code || '|' || coalesce(description, '') || '|' || quantity::text || '|' || unit_price::text)::bigint), 0) FROM %s";
        List<String> pgInvoices = postgres.query(DB, invoices.formatted("invoices")).get(0);
        List<String> pgLines = postgres.query(DB, lines.formatted("invoice_lines")).get(0);
        List<List<String>> pgGold = postgres.query(DB, GOLD.formatted("public", "public") + " ORDER BY country");
        try (Lake lake = Lake.open(setup.lake(), setup.name(), t -> io.tributary.config.TableOptions.DEFAULT);
             QueryEngine q = QueryEngine.open(lake.consistentView().tables())) {
            // The same checksum computed in PostgreSQL over rows read back from silver.
            List<List<Object>> silverInvoices = q.query("SELECT invoice_no, invoice_date, customer_id, country, cancelled FROM silver.invoices").rows();
            List<List<Object>> silverLines = q.query("SELECT invoice_no, line_no, stock_code, description, quantity, unit_price FROM silver.invoice_lines").rows();
            assertThat(postgres.checksumRows(DB, "invoices", silverInvoices, invoices)).isEqualTo(pgInvoices);
            assertThat(postgres.checksumRows(DB, "invoice_lines", silverLines, lines)).isEqualTo(pgLines);
            List<List<Object>> gold = q.query("SELECT country, invoices, revenue FROM gold.revenue_by_country ORDER BY country").rows();
            assertThat(gold).hasSameSizeAs(pgGold);
            for (int i = 0; i < gold.size(); i++) {
                assertThat(gold.get(i).get(0)).isEqualTo(pgGold.get(i).get(0));
                assertThat(gold.get(i).get(1).toString()).isEqualTo(pgGold.get(i).get(1));
                assertThat(new java.math.BigDecimal(gold.get(i).get(2).toString())).isEqualByComparingTo(pgGold.get(i).get(2));
            }
        }
    }
}
