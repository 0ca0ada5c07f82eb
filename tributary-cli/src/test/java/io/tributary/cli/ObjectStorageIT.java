package io.tributary.cli;

import static io.tributary.cli.CliRun.tributary;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.ConfigLoader;
import io.tributary.config.PipelineConfig;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.RestCatalogService;
import io.tributary.server.CatalogServer;
import io.tributary.testing.TestingPostgres;
import io.tributary.testing.TestingS3;
import io.tributary.testing.TestingSpark;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.Schema;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NotAuthorizedException;
import org.apache.iceberg.rest.RESTCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16: a lake on S3-compatible object storage (S3Proxy) behind a JDBC catalog in PostgreSQL,
 * written and read by the real command line: {@code run}, {@code sql} (DuckDB over local copies of
 * the data files), {@code sql --as-of}, {@code history}. Then the lake served over the Iceberg REST
 * protocol ({@link CatalogServer}, what {@code tributary catalog serve} runs): Spark reads a
 * silver table through it from S3; the token and the read-only mode hold against Iceberg's own
 * REST client. Last, a pipeline that writes through a REST catalog.
 */
class ObjectStorageIT {
    private static final String DB = "shop";
    private static final String TOKEN = "serve-token-42";

    @TempDir
    static Path dir;
    private static TestingPostgres postgres;
    private static TestingS3 s3;
    private static Path config;
    private static Instant betweenRuns;
    private static String firstRunOrders;

    @BeforeAll
    static void replicateToObjectStorage() throws Exception {
        postgres = new TestingPostgres();
        postgres.createDatabase(DB);
        postgres.createDatabase("lake_catalog");
        postgres.execute(DB,
                "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, tier int)",
                "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(10,2))",
                "INSERT INTO customers SELECT g, 'customer ' || g, g % 3 FROM generate_series(1, 200) g",
                "INSERT INTO orders SELECT g, 1 + g % 200, g * 1.25 FROM generate_series(1, 1000) g");
        s3 = TestingS3.start(dir.resolve("s3"));
        s3.createBucket("lake");
        Files.writeString(dir.resolve("s3-secret.txt"), TestingS3.SECRET_ACCESS_KEY);
        Files.createDirectories(dir.resolve("models/gold"));
        Files.writeString(dir.resolve("models/gold/revenue_by_tier.sql"),
                "SELECT c.tier, count(*) AS orders, sum(o.amount) AS revenue FROM silver.orders o JOIN silver.customers c ON c.id = o.customer_id GROUP BY c.tier\n");
        config = writeConfig("shop.yaml", "s3://lake/shop", "{type: jdbc, uri: 'jdbc:postgresql://127.0.0.1:" + postgres.port() + "/lake_catalog', user: postgres}");
        run(config);
        firstRunOrders = postgres.queryOne(DB, "SELECT count(*) || '|' || sum(amount) FROM orders");
        // After every commit of the first run and before every change below (PostgreSQL reads the same clock).
        betweenRuns = Instant.now();
        postgres.execute(DB,
                "UPDATE customers SET tier = 9 WHERE id <= 10",
                "DELETE FROM orders WHERE id % 10 = 0",
                "INSERT INTO orders SELECT g, 1 + g % 200, 2.50 FROM generate_series(1001, 1100) g");
        run(config);
    }

    private static Path writeConfig(String name, String warehouse, String catalog) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, """
                name: shop
                source: {host: 127.0.0.1, port: %d, database: shop, user: postgres, sslmode: disable,
                         tables: [public.customers, public.orders], slot: tributary_%s}
                lake:
                  warehouse: %s
                  s3: {endpoint: '%s', region: us-east-1, path-style-access: true, access-key-id: %s, secret-access-key: '${file:s3-secret.txt}'}
                  catalog: %s
                state-dir: ./state-%s
                commit: {interval: 200ms}
                models: {path: ./models, interval: 1h}
                """.formatted(postgres.port(), name.replace(".yaml", "").replace('-', '_'), warehouse, s3.endpoint(), TestingS3.ACCESS_KEY_ID,
                catalog, name.replace(".yaml", "")));
        return file;
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

    private static void run(Path file) {
        CliRun run = tributary("run", "-c", file.toString(), "--once");
        assertThat(run.exitCode()).as(run.err()).isZero();
    }

    private static String sql(Path file, String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("sql", "-c", file.toString(), "--format", "csv"));
        all.addAll(List.of(args));
        CliRun run = tributary(all.toArray(String[]::new));
        assertThat(run.exitCode()).as(run.err()).isZero();
        return run.out().strip();
    }

    @Test
    void theLakeLivesOnObjectStorageAndQueriesReadIt() {
        assertThat(s3.keys("lake", "shop/silver/orders/data/")).isNotEmpty();
        assertThat(s3.keys("lake", "shop/silver/orders/metadata/")).anyMatch(k -> k.endsWith(".metadata.json"));
        assertThat(s3.keys("lake", "shop/raw/orders/")).isNotEmpty();
        assertThat(postgres.queryOne("lake_catalog", "SELECT count(*) FROM iceberg_tables WHERE metadata_location LIKE 's3://lake/shop/%'"))
                .isEqualTo(postgres.queryOne("lake_catalog", "SELECT count(*) FROM iceberg_tables"));

        String source = postgres.queryOne(DB, "SELECT count(*) || '|' || sum(amount) FROM orders");
        assertThat(sql(config, "SELECT count(*) || '|' || sum(amount) FROM silver.orders")).endsWith(source);
        assertThat(sql(config, "SELECT count(*) FROM silver.customers WHERE tier = 9")).endsWith("10");
        String gold = postgres.queryOne(DB, "SELECT sum(o.amount) FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.tier = 9");
        assertThat(sql(config, "SELECT revenue FROM gold.revenue_by_tier WHERE tier = 9")).endsWith(gold);
        // query-reads: auto: DuckDB reads S3 itself when its httpfs extension is installed, else the
        // data files are copied to the bounded cache in the state directory.
        if (httpfsLoads()) {
            assertThat(dir.resolve("state-shop/file-cache")).doesNotExist();
        } else {
            assertThat(dir.resolve("state-shop/file-cache")).isDirectoryContaining(p -> p.toString().endsWith(".parquet"));
        }

        // Before the second run's changes: tier as it was, the deleted orders still there.
        assertThat(sql(config, "--as-of", betweenRuns.toString(), "SELECT count(*) || '|' || sum(amount) FROM silver.orders")).endsWith(firstRunOrders);
        assertThat(sql(config, "--as-of", betweenRuns.toString(), "SELECT count(*) FROM silver.customers WHERE tier = 9")).endsWith("0");
        CliRun history = tributary("history", "-c", config.toString(), "customers", "--key", "1", "--format", "csv");
        assertThat(history.exitCode()).as(history.err()).isZero();
        assertThat(history.out().lines().count()).isEqualTo(3); // header, the snapshot read, the update
    }

    @Test
    void queryReadsChooseHowDuckDbReachesObjectStorage() throws Exception {
        String source = postgres.queryOne(DB, "SELECT count(*) || '|' || sum(amount) FROM orders");
        String shop = Files.readString(config);
        Path cached = dir.resolve("cached.yaml");
        Files.writeString(cached, shop.replace("path-style-access: true,", "path-style-access: true, query-reads: cache,").replace("state-shop", "state-cached"));
        assertThat(sql(cached, "SELECT count(*) || '|' || sum(amount) FROM silver.orders")).endsWith(source);
        assertThat(dir.resolve("state-cached/file-cache")).isDirectoryContaining(p -> p.toString().endsWith(".parquet"));

        Path httpfs = dir.resolve("httpfs.yaml");
        Files.writeString(httpfs, shop.replace("path-style-access: true,", "path-style-access: true, query-reads: httpfs,").replace("state-shop", "state-httpfs"));
        if (httpfsLoads()) {
            assertThat(sql(httpfs, "SELECT count(*) || '|' || sum(amount) FROM silver.orders")).endsWith(source);
            assertThat(dir.resolve("state-httpfs/file-cache")).doesNotExist();
        } else {
            // Without the extension (and without DuckDB's extension repository to install it from), a query says so.
            CliRun run = tributary("sql", "-c", httpfs.toString(), "SELECT count(*) FROM silver.orders");
            assertThat(run.exitCode()).as(run.err()).isNotZero();
            assertThat(run.err()).contains("lake.s3.query-reads is httpfs, but DuckDB cannot load its httpfs extension").contains("set query-reads to auto or cache");
        }
    }

    /** Whether this machine's DuckDB has its httpfs extension installed. */
    private static boolean httpfsLoads() {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:duckdb:"); java.sql.Statement s = c.createStatement()) {
            s.execute("LOAD httpfs");
            return true;
        } catch (java.sql.SQLException e) {
            return false;
        }
    }

    @Test
    void sparkReadsSilverFromObjectStorageThroughTheServedCatalog() throws Exception {
        PipelineConfig settings = new ConfigLoader().loadLakeSettings(config);
        try (LakeCatalog catalog = LakeCatalog.open(settings.lake());
             CatalogServer server = CatalogServer.start(new RestCatalogService(catalog, RestCatalogService.Access.READ_ONLY, Optional.of(TOKEN)),
                     new InetSocketAddress("127.0.0.1", 0))) {
            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(URI.create(server.uri() + "/v1/namespaces")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).isEqualTo(401);

            try (TestingSpark spark = new TestingSpark(server.uri(), "", "lake", Map.of("token", TOKEN,
                    "io-impl", "org.apache.iceberg.aws.s3.S3FileIO", "s3.access-key-id", TestingS3.ACCESS_KEY_ID,
                    "s3.secret-access-key", TestingS3.SECRET_ACCESS_KEY))) {
                TestingSpark.Result orders = spark.query("SELECT count(*), sum(amount) FROM silver.orders");
                List<String> source = postgres.query(DB, "SELECT count(*), sum(amount) FROM orders").get(0);
                assertThat(orders.rows().get(0).get(0).toString()).isEqualTo(source.get(0));
                assertThat(new java.math.BigDecimal(orders.rows().get(0).get(1).toString())).isEqualByComparingTo(source.get(1));
                assertThat(spark.query("SELECT id FROM silver.customers WHERE tier = 9").rows()).hasSize(10);
            }

            // Iceberg's own REST client: it lists and loads, and a commit is refused by the read-only server.
            try (RESTCatalog client = new RESTCatalog()) {
                client.initialize("lake", Map.of("uri", server.uri(), "token", TOKEN, "io-impl", "org.apache.iceberg.aws.s3.S3FileIO",
                        "s3.access-key-id", TestingS3.ACCESS_KEY_ID, "s3.secret-access-key", TestingS3.SECRET_ACCESS_KEY));
                assertThat(client.listTables(Namespace.of("silver"))).contains(TableIdentifier.of("silver", "orders"), TableIdentifier.of("silver", "customers_history"));
                assertThatThrownBy(() -> client.createTable(TableIdentifier.of("gold", "intruder"), new Schema(Types.NestedField.required(1, "x", Types.IntegerType.get()))))
                        .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("does not support");
            }
            // A client that does not read the endpoints the server lists is refused by the server itself.
            HttpResponse<String> commit = http.send(HttpRequest.newBuilder(URI.create(server.uri() + "/v1/namespaces/gold/tables"))
                    .header("Authorization", "Bearer " + TOKEN).POST(HttpRequest.BodyPublishers.ofString("{\"name\": \"intruder\"}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(commit.statusCode()).isEqualTo(403);
            assertThat(commit.body()).contains("read-only");
            // OAuth2 client credentials (the secret is the server's token), as PyIceberg and Trino configure them.
            try (RESTCatalog byCredential = new RESTCatalog()) {
                byCredential.initialize("lake", Map.of("uri", server.uri(), "credential", "trino:" + TOKEN));
                assertThat(byCredential.listNamespaces()).contains(Namespace.of("silver"), Namespace.of("bronze"));
            }
            try (RESTCatalog wrongSecret = new RESTCatalog()) {
                assertThatThrownBy(() -> wrongSecret.initialize("lake", Map.of("uri", server.uri(), "credential", "trino:not-the-token")))
                        .isInstanceOf(NotAuthorizedException.class);
            }
            try (RESTCatalog wrongToken = new RESTCatalog()) {
                assertThatThrownBy(() -> {
                    wrongToken.initialize("lake", Map.of("uri", server.uri(), "token", "not-the-token"));
                    wrongToken.listNamespaces();
                }).isInstanceOf(NotAuthorizedException.class);
            }
        }
    }

    @Test
    void servingBeyondLoopbackNeedsAToken() {
        CliRun run = tributary("catalog", "serve", "-c", config.toString(), "--bind", "0.0.0.0", "--port", "0");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("without a token").contains(CatalogCommand.TOKEN_ENV);
    }

    @Test
    void aPipelineWritesThroughARestCatalog() throws Exception {
        postgres.createDatabase("rest_catalog");
        Path behind = writeConfig("behind.yaml", "s3://lake/via-rest", "{type: jdbc, uri: 'jdbc:postgresql://127.0.0.1:" + postgres.port() + "/rest_catalog', user: postgres}");
        PipelineConfig settings = new ConfigLoader().loadLakeSettings(behind);
        try (LakeCatalog catalog = LakeCatalog.open(settings.lake());
             CatalogServer server = CatalogServer.start(new RestCatalogService(catalog, RestCatalogService.Access.READ_WRITE, Optional.empty()),
                     new InetSocketAddress("127.0.0.1", 0))) {
            Path viaRest = writeConfig("via-rest.yaml", "s3://lake/via-rest", "{type: rest, uri: '" + server.uri() + "'}");
            run(viaRest);
            String source = postgres.queryOne(DB, "SELECT count(*) || '|' || sum(amount) FROM orders");
            assertThat(sql(viaRest, "SELECT count(*) || '|' || sum(amount) FROM silver.orders")).endsWith(source);
            assertThat(s3.keys("lake", "via-rest/silver/orders/data/")).isNotEmpty();
            assertThat(postgres.queryOne("rest_catalog", "SELECT count(*) FROM iceberg_tables WHERE table_namespace = 'silver'")).isEqualTo("4");
        }
    }
}
