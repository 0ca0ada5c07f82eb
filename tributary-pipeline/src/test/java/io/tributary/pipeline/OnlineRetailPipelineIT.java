package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.TableId;
import io.tributary.testing.TestingPostgres;
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
 */
class OnlineRetailPipelineIT {
    private static final Path DATA = Path.of(System.getProperty("tributary.shared.data", "../../shared/data"), "online-retail", "by-day");
    private static TestingPostgres postgres;
    private static final String DB = "retail";

    @TempDir
    static Path lakeDir;

    @BeforeAll
    static void load() throws Exception {
        postgres = new TestingPostgres();
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
        postgres.close();
    }

    private static PipelineConfig config(Path models) {
        return new PipelineConfig("retail",
                new PostgresSourceConfig(postgres.host(), postgres.port(), DB, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                        List.of(new TableId("public", "invoices"), new TableId("public", "invoice_lines")), "tributary_retail", "tributary_retail",
                        Duration.ofSeconds(1), Duration.ofSeconds(5)),
                new LakeConfig(lakeDir.resolve("lake"), LakeConfig.RawLayer.ENABLED),
                new ModelsConfig(Optional.of(models), Duration.ofSeconds(1)),
                new CommitConfig(Duration.ofMillis(500), 50_000), Map.of());
    }

    private static final String GOLD = "SELECT country, count(DISTINCT i.invoice_no) AS invoices, sum(l.quantity * l.unit_price) AS revenue "
            + "FROM %s.invoices i JOIN %s.invoice_lines l ON l.invoice_no = i.invoice_no WHERE NOT i.cancelled GROUP BY country";

    @Test
    void silverEqualsSourceThroughChangesAndRestarts() throws Exception {
        Path models = lakeDir.resolve("models");
        Files.createDirectories(models.resolve("gold"));
        Files.writeString(models.resolve("gold/revenue_by_country.sql"), GOLD.formatted("silver", "silver"));

        runOnce(models);
        assertLakeEqualsSource(models);

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
        runOnce(models);
        assertLakeEqualsSource(models);

        // A run with nothing new changes nothing and writes no duplicate.
        runOnce(models);
        assertLakeEqualsSource(models);
        try (Lake lake = Lake.open(config(models).lake(), "retail", t -> io.tributary.config.TableOptions.DEFAULT);
             QueryEngine q = QueryEngine.open(lake.tables())) {
            assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze.invoice_lines").rows().get(0).get(0)).isEqualTo(0L);
            // The deleted lines, plus the primary-key update, which Debezium delivers as a delete and a create.
            assertThat(q.query("SELECT count(*) FROM bronze.invoice_lines WHERE _op = 'd'").rows().get(0).get(0)).isEqualTo(deletedLines + 1);
        }
        assertThat(Files.list(lakeDir.resolve("lake/raw/invoice_lines")).count()).isGreaterThan(0);
    }

    private static void runOnce(Path models) {
        try (Pipeline pipeline = Pipeline.open(config(models))) {
            pipeline.run(ChangeSource.RunMode.CATCH_UP);
            pipeline.lake().close();
        }
    }

    private static void assertLakeEqualsSource(Path models) throws IOException {
        String invoices = "SELECT count(*), coalesce(sum(hashtext(invoice_no || '|' || invoice_date::text || '|' || coalesce(customer_id::text, '') || '|' || country || '|' || cancelled::text)::bigint), 0) FROM %s";
        String lines = "SELECT count(*), coalesce(sum(hashtext(invoice_no || '|' || line_no::text || '|' || stock_code || '|' || coalesce(description, '') || '|' || quantity::text || '|' || unit_price::text)::bigint), 0) FROM %s";
        List<String> pgInvoices = postgres.query(DB, invoices.formatted("invoices")).get(0);
        List<String> pgLines = postgres.query(DB, lines.formatted("invoice_lines")).get(0);
        List<List<String>> pgGold = postgres.query(DB, GOLD.formatted("public", "public") + " ORDER BY country");
        try (Lake lake = Lake.open(config(models).lake(), "retail", t -> io.tributary.config.TableOptions.DEFAULT);
             QueryEngine q = QueryEngine.open(lake.tables())) {
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
