package io.tributary.cli;

import static io.tributary.cli.CliRun.tributary;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.commit.CommittedState;
import io.tributary.query.QueryEngine;
import io.tributary.testing.ChildJvm;
import io.tributary.testing.TestingKafka;
import io.tributary.testing.TestingPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, Kafka to the lake: a pipeline with {@code source.type: kafka} lands the Debezium topics
 * of a capture into Kafka (a real broker, TestingKafka) in the same layers a direct capture fills:
 * bronze with the same change events at the positions the capture gave them, silver equal to the
 * source, the consumed offsets committed with the lake and restored from it (a replay or a SIGKILL
 * changes nothing), and a record that is no Debezium change event kept in the dead-letter table.
 */
class KafkaToLakeIT {
    private static final String DB = "shop";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String ORDERS_SUM = "SELECT count(*)::text, coalesce(sum(hashtext(id::text || '|' || customer_id::text || '|' || coalesce(amount::text, '-') "
            + "|| '|' || coalesce(note, '-'))::bigint), 0)::text FROM %s";
    private static final String CUSTOMERS_SUM = "SELECT count(*)::text, coalesce(sum(hashtext(id::text || '|' || name || '|' || coalesce(tier::text, '-'))::bigint), 0)::text FROM %s";

    @TempDir
    static Path dir;
    private static TestingPostgres postgres;
    private static TestingKafka kafka;

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
        postgres.createDatabase(DB);
        postgres.execute(DB,
                "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, tier int)",
                "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(10,2), note text, placed timestamptz)",
                "INSERT INTO customers SELECT g, 'customer ' || g, CASE WHEN g % 7 = 0 THEN NULL ELSE g % 3 END FROM generate_series(1, 50) g",
                "INSERT INTO orders SELECT g, 1 + g % 50, g * 1.25, CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END, "
                        + "timestamptz '2026-12-01 10:00+00' + g * interval '1 minute' FROM generate_series(1, 300) g");
        kafka = TestingKafka.start(dir.resolve("kafka"));
    }

    @AfterAll
    static void stop() {
        if (kafka != null) {
            kafka.close();
        }
        if (postgres != null) {
            postgres.dropInactiveSlots();
            postgres.close();
        }
    }

    private static Path capture(String name, String database, String tables, String prefix) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                name: %s
                source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable, tables: %s}
                sink: {type: kafka, bootstrap-servers: %s, topic-prefix: %s, partitions: 3}
                commit: {interval: 200ms}
                """.formatted(name, postgres.port(), database, tables, kafka.bootstrapServers(), prefix));
        return file;
    }

    private static Path direct(String name, String database, String tables) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                name: %s
                source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable, tables: %s}
                lake: {warehouse: ./%s}
                commit: {interval: 200ms}
                """.formatted(name, postgres.port(), database, tables, name));
        return file;
    }

    private static Path landing(String name, String topicPattern) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                name: %s
                source:
                  type: kafka
                  bootstrap-servers: %s
                  topic-pattern: "%s"
                  format: debezium-json
                lake: {warehouse: ./%s}
                commit: {interval: 200ms, max-events: 2000}
                lake-commits: {type: kafka, topic-prefix: %s}
                """.formatted(name, kafka.bootstrapServers(), topicPattern.replace("\\", "\\\\"), name, name));
        return file;
    }

    private static CliRun runOnce(Path config) {
        CliRun run = tributary("run", "-c", config.toString(), "--once");
        assertThat(run.exitCode()).as(run.err()).isZero();
        return run;
    }

    private static LakeConfig lakeOf(String name) {
        return new LakeConfig(dir.resolve(name), LakeConfig.RawLayer.ENABLED);
    }

    private static List<List<Object>> query(String lakeName, String sql) {
        return query(dir.resolve(lakeName), lakeName, sql);
    }

    /** The rows of {@code sql} over the lake in {@code warehouse} of pipeline {@code name}. */
    static List<List<Object>> query(Path warehouse, String name, String sql) {
        try (Lake lake = Lake.open(new LakeConfig(warehouse, LakeConfig.RawLayer.ENABLED), name, t -> TableOptions.DEFAULT);
             QueryEngine q = QueryEngine.open(lake.tables())) {
            return q.query(sql).rows();
        }
    }

    /** Bronze rows of {@code table} with operation {@code op}; 0 before the table exists. */
    private static long rows(String lakeName, String table, String op) {
        try (Lake lake = Lake.open(lakeOf(lakeName), lakeName, t -> TableOptions.DEFAULT)) {
            if (lake.tables().stream().noneMatch(t -> t.qualifiedName().equals("bronze." + table))) {
                return 0;
            }
            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                return ((Number) q.query("SELECT count(*) FROM bronze." + table + " WHERE _op = '" + op + "'").rows().get(0).get(0)).longValue();
            }
        }
    }

    private static Optional<CommittedState> committedState(String lakeName) {
        try (Lake lake = Lake.open(lakeOf(lakeName), lakeName, t -> TableOptions.DEFAULT)) {
            return lake.committedState();
        }
    }

    /**
     * Bronze's change events without lake bookkeeping, as sorted text lines: operation, key and
     * columns. Deletes too: under REPLICA IDENTITY DEFAULT the before image Debezium writes to Kafka
     * holds placeholders for NOT NULL columns, which the sink's {@code tributary.before-image: key}
     * header lets the landing drop, as a direct capture does.
     */
    private static List<String> changes(String lakeName, String table, String columns) {
        List<String> out = new ArrayList<>();
        for (List<Object> row : query(lakeName, "SELECT _op, " + columns + " FROM bronze." + table)) {
            out.add(row.toString());
        }
        out.sort(null);
        return out;
    }

    @Test
    void landsCapturedTopicsInTheLayersADirectCaptureFills() throws Exception {
        Path capture = capture("capture", DB, "[public.customers, public.orders]", "shop");
        Path direct = direct("direct", DB, "[public.customers, public.orders]");
        Path landing = landing("landed", "shop\\.public\\..*");
        runOnce(capture);
        runOnce(direct);
        runOnce(landing);
        postgres.execute(DB,
                "UPDATE customers SET tier = 9, name = name || ' (vip)' WHERE id <= 10",
                "DELETE FROM orders WHERE id % 10 = 0",
                "UPDATE orders SET note = NULL, amount = amount + 1 WHERE id % 7 = 0",
                "INSERT INTO orders SELECT g, 1 + g % 50, 2.50, 'late ' || g, now() FROM generate_series(301, 340) g",
                "BEGIN; UPDATE orders SET amount = 0 WHERE id = 1; UPDATE orders SET amount = 1 WHERE id = 1; DELETE FROM customers WHERE id = 50; COMMIT;",
                "ALTER TABLE customers ADD COLUMN email text",
                "UPDATE customers SET email = 'c3@example.com' WHERE id = 3");
        runOnce(capture);
        runOnce(direct);
        runOnce(landing);

        // Silver equals the source; bronze holds the same change events as the direct capture's.
        assertThat(postgres.checksumRows(DB, "orders", query("landed", "SELECT id, customer_id, amount, note FROM silver.orders"), ORDERS_SUM))
                .isEqualTo(postgres.query(DB, ORDERS_SUM.formatted("orders")).get(0));
        assertThat(postgres.checksumRows(DB, "customers", query("landed", "SELECT id, name, tier FROM silver.customers"), CUSTOMERS_SUM))
                .isEqualTo(postgres.query(DB, CUSTOMERS_SUM.formatted("customers")).get(0));
        String orderColumns = "id, customer_id, amount, note, placed";
        assertThat(changes("landed", "orders", orderColumns)).hasSize(300 + 30 + 38 + 40 + 2).isEqualTo(changes("direct", "orders", orderColumns));
        assertThat(changes("landed", "customers", "id, name, tier")).isEqualTo(changes("direct", "customers", "id, name, tier"));
        // A column added at the source arrives with the envelope's schema.
        assertThat(query("landed", "SELECT email FROM silver.customers WHERE id = 3")).containsExactly(List.of("c3@example.com"));
        // History keeps every version, as for a direct capture.
        assertThat(query("landed", "SELECT count(*) FROM silver.orders_history WHERE id = 1").get(0).get(0)).isEqualTo(3L);

        // Each event sits at the position the capture gave it (the record's tributary.position header).
        TreeSet<String> headerPositions = new TreeSet<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTopics.readAll(kafka.bootstrapServers(), List.of("shop.public.orders", "shop.public.customers"))) {
            if (r.value() != null) {
                headerPositions.add(new String(r.headers().lastHeader("tributary.position").value(), StandardCharsets.US_ASCII));
            }
        }
        TreeSet<String> bronzePositions = new TreeSet<>();
        query("landed", "SELECT _position FROM bronze.orders UNION ALL SELECT _position FROM bronze.customers").forEach(r -> bronzePositions.add((String) r.get(0)));
        assertThat(bronzePositions).isEqualTo(headerPositions);

        // A replay with nothing new commits nothing.
        CommittedState before = committedState("landed").orElseThrow();
        runOnce(landing);
        assertThat(committedState("landed").orElseThrow().watermark()).isEqualTo(before.watermark());
        assertThat(before.offset().token()).contains("shop.public.orders", "shop.public.customers").doesNotContain("tributary-offsets");

        // A record that is no Debezium change event lands in the dead-letter table, nothing else is skipped.
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class, ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class))) {
            producer.send(new ProducerRecord<>("shop.public.orders", 1, "k".getBytes(StandardCharsets.UTF_8), "not json".getBytes(StandardCharsets.UTF_8))).get();
        }
        postgres.execute(DB, "INSERT INTO orders VALUES (1000, 1, 9.99, 'after the bad record', now())");
        runOnce(capture);
        runOnce(landing);
        List<List<Object>> dead = query("landed", "SELECT topic, kafka_partition, record_value, reason FROM silver.tributary_dead_letters");
        assertThat(dead).hasSize(1);
        assertThat(dead.get(0).subList(0, 3)).containsExactly("shop.public.orders", 1, "not json");
        assertThat((String) dead.get(0).get(3)).contains("not Kafka Connect JSON");
        assertThat(query("landed", "SELECT note FROM silver.orders WHERE id = 1000")).containsExactly(List.of("after the bad record"));

        // Each commit is announced on landed.lake-commits: the last announcement of a table names its current snapshot.
        Map<String, JsonNode> lastAnnounced = new java.util.HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTopics.readAll(kafka.bootstrapServers(), List.of("landed.lake-commits"))) {
            JsonNode event = JSON.readTree(r.value());
            assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(event.path("layer").asText() + "." + event.path("table").asText());
            lastAnnounced.put(event.path("layer").asText() + "." + event.path("table").asText(), event);
        }
        assertThat(lastAnnounced).containsKeys("bronze.orders", "silver.orders", "silver.orders_history", "bronze.customers", "silver.customers",
                "bronze.tributary_dead_letters");
        try (Lake lake = Lake.open(lakeOf("landed"), "landed", t -> TableOptions.DEFAULT)) {
            for (String layerTable : List.of("bronze.orders", "silver.orders", "silver.customers")) {
                String[] parts = layerTable.split("\\.");
                io.tributary.lake.scan.LakeTable table = lake.lakeTable(io.tributary.lake.layout.Layer.valueOf(parts[0].toUpperCase(java.util.Locale.ROOT)), parts[1])
                        .orElseThrow();
                JsonNode event = lastAnnounced.get(layerTable);
                assertThat(event.path("snapshot_id").asLong()).as(layerTable).isEqualTo(table.snapshotId().orElseThrow());
                assertThat(event.path("position").asText()).as(layerTable).isEqualTo(table.position().orElseThrow().encoded());
                assertThat(event.path("pipeline").asText()).isEqualTo("landed");
                assertThat(event.has("added_records") && event.has("deleted_records") && event.has("committed_at")).isTrue();
            }
        }

        CliRun status = tributary("status", "-c", landing.toString(), "--json");
        assertThat(status.exitCode()).as(status.err()).isZero();
        JsonNode report = JSON.readTree(status.out());
        assertThat(report.path("lagRecords").asLong()).as(status.out()).isZero();
    }

    @Test
    void aLandingKilledMidStreamResumesFromTheLakesOffsets() throws Exception {
        String db = "accounts";
        postgres.createDatabase(db);
        postgres.execute(db, "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)",
                "INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 1000) g");
        Path capture = capture("acapture", db, "[public.accounts]", "bank");
        Path landing = landing("alanded", "bank\\..*");
        int transactions = 40;
        Path captureLog = dir.resolve("acapture.log");
        Path landingLog = dir.resolve("alanded.log");
        try (ChildJvm captureRun = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", capture.toString()), captureLog);
             ChildJvm landingRun = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", landing.toString()), landingLog)) {
            // Changes start once the capture's initial snapshot is in Kafka.
            KafkaTopics.awaitUntil(Duration.ofSeconds(120), () -> !captureRun.isAlive() || Files.readString(captureLog).contains("Initial snapshot of public.accounts finished"));
            assertThat(captureRun.isAlive()).as(Files.readString(captureLog)).isTrue();
            for (int i = 0; i < transactions; i++) {
                postgres.execute(db, "UPDATE accounts SET balance = balance + 1 WHERE id % 2 = " + (i % 2));
                if (i == transactions / 2) {
                    KafkaTopics.awaitUntil(Duration.ofSeconds(120), () -> !landingRun.isAlive() || rows("alanded", "accounts", "r") == 1000);
                    assertThat(landingRun.isAlive()).as(Files.readString(landingLog)).isTrue();
                    landingRun.kill();
                }
            }
            assertThat(captureRun.isAlive()).as(Files.readString(captureLog)).isTrue();
            // A clean stop releases the replication slot at once for the catch-up run below.
            assertThat(captureRun.stop(Duration.ofSeconds(60))).as(Files.readString(captureLog)).hasValue(0);
        }
        runOnce(capture);
        CliRun landed = runOnce(landing);
        long updatesInKafka = KafkaTopics.readAll(kafka.bootstrapServers(), List.of("bank.public.accounts")).stream().filter(r -> r.value() != null && new String(r.value(), StandardCharsets.UTF_8).contains("\"op\":\"u\"")).count();
        assertThat(updatesInKafka).as("updates in Kafka; capture log %s", captureLog).isEqualTo(transactions * 500L);
        assertThat(query("alanded", "SELECT count(*) FILTER (WHERE _op = 'r'), count(*) FILTER (WHERE _op = 'u'), count(DISTINCT _position) FROM bronze.accounts"))
                .as("every change once; the landing run's output: %s %s; log of the killed one: %s", landed.out(), landed.err(), landingLog).containsExactly(List.of(1000L, transactions * 500L, 1000L + transactions * 500L));
        assertThat(query("alanded", "SELECT sum(balance) FROM silver.accounts").get(0).get(0).toString())
                .isEqualTo(postgres.queryOne(db, "SELECT sum(balance) FROM accounts"));
    }

    @Test
    void aBrokerRestartWhileLandingLosesNothing() throws Exception {
        String db = "restart";
        postgres.createDatabase(db);
        postgres.execute(db, "CREATE TABLE counters (id int PRIMARY KEY, n bigint NOT NULL)", "INSERT INTO counters SELECT g, 0 FROM generate_series(1, 100) g");
        Path capture = capture("rcapture", db, "[public.counters]", "rs");
        Path landing = landing("rlanded", "rs\\..*");
        runOnce(capture);
        Path landingLog = dir.resolve("rlanded.log");
        try (ChildJvm landingRun = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", landing.toString()), landingLog)) {
            KafkaTopics.awaitUntil(Duration.ofSeconds(120), () -> !landingRun.isAlive() || rows("rlanded", "counters", "r") == 100);
            assertThat(landingRun.isAlive()).as(Files.readString(landingLog)).isTrue();
            kafka.stop();
            postgres.execute(db, "UPDATE counters SET n = n + 1");
            kafka.start();
            postgres.execute(db, "UPDATE counters SET n = n + 1", "UPDATE counters SET n = n + 1", "UPDATE counters SET n = n + 1");
            runOnce(capture);
            KafkaTopics.awaitUntil(Duration.ofSeconds(120), () -> !landingRun.isAlive()
                    || rows("rlanded", "counters", "u") == 400);
            assertThat(landingRun.isAlive()).as("the landing rode the outage out: %s", Files.readString(landingLog)).isTrue();
            // Each table commits its own snapshot, so bronze can show a batch silver has yet to commit: a clean stop finishes it.
            assertThat(landingRun.stop(Duration.ofSeconds(60))).as(Files.readString(landingLog)).hasValue(0);
        }
        assertThat(query("rlanded", "SELECT count(*) FILTER (WHERE _op = 'u'), count(DISTINCT _position), count(*) FROM bronze.counters"))
                .containsExactly(List.of(400L, 500L, 500L));
        assertThat(query("rlanded", "SELECT sum(n) FROM silver.counters").get(0).get(0).toString()).isEqualTo("400");
    }

    @Test
    void goldBuildsInAProcessOfTheirOwnFollowTheLandingsLakeCommits() throws Exception {
        String db = "goldshop";
        postgres.createDatabase(db);
        postgres.execute(db, "CREATE TABLE sales (id int PRIMARY KEY, region text NOT NULL, amount int NOT NULL)",
                "INSERT INTO sales SELECT g, (ARRAY['north', 'south', 'east'])[1 + g % 3], g FROM generate_series(1, 300) g");
        java.util.function.Supplier<List<String>> totals = () -> postgres.query(db, "SELECT region || ':' || sum(amount) FROM sales GROUP BY region ORDER BY 1")
                .stream().map(r -> r.get(0)).toList();
        Path capture = capture("gcapture", db, "[public.sales]", "gs");
        // The landing builds no gold: it has no models. The gold process reads the same lake and lake-commits.
        Path landing = landing("glanded", "gs\\..*");
        Files.createDirectories(dir.resolve("gmodels/gold"));
        Files.writeString(dir.resolve("gmodels/gold/sales_per_region.sql"),
                "SELECT region, sum(amount)::BIGINT AS total, count(*) AS sales FROM silver.sales GROUP BY region\n");
        Path gold = dir.resolve("glanded-gold.yaml");
        Files.writeString(gold, Files.readString(landing) + "models: {path: ./gmodels, interval: 1s}\n");

        CliRun nothingYet = tributary("gold", "-c", gold.toString());
        assertThat(nothingYet.exitCode()).as(nothingYet.err()).isZero();
        assertThat(nothingYet.out()).contains("Built 0 gold table(s)");

        runOnce(capture);
        Path landingLog = dir.resolve("glanded.log");
        Path goldLog = dir.resolve("glanded-gold.log");
        try (ChildJvm landingRun = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", landing.toString()), landingLog);
             ChildJvm goldRun = ChildJvm.start(Main.class.getName(), List.of(), List.of("gold", "-c", gold.toString(), "--follow"), goldLog)) {
            KafkaTopics.awaitUntil(Duration.ofSeconds(120), () -> !landingRun.isAlive() || !goldRun.isAlive()
                    || goldTotals().equals(totals.get()));
            assertThat(goldRun.isAlive()).as(Files.readString(goldLog)).isTrue();
            assertThat(landingRun.isAlive()).as(Files.readString(landingLog)).isTrue();

            postgres.execute(db, "UPDATE sales SET amount = amount + 1000 WHERE region = 'north'", "DELETE FROM sales WHERE id <= 30");
            runOnce(capture);
            KafkaTopics.awaitUntil(Duration.ofSeconds(120), () -> !landingRun.isAlive() || !goldRun.isAlive()
                    || goldTotals().equals(totals.get()));
            assertThat(goldRun.isAlive()).as(Files.readString(goldLog)).isTrue();
            assertThat(goldTotals()).as(Files.readString(goldLog)).isEqualTo(totals.get());
            assertThat(goldRun.stop(Duration.ofSeconds(60))).as(Files.readString(goldLog)).hasValue(0);
            assertThat(landingRun.stop(Duration.ofSeconds(60))).as(Files.readString(landingLog)).hasValue(0);
        }
        assertThat(Files.readString(goldLog)).contains("Building gold after commits to [bronze.sales, silver.sales, silver.sales_history]");
        assertThat(Files.readString(landingLog)).doesNotContain("sales_per_region");
        List<JsonNode> goldAnnouncements = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : KafkaTopics.readAll(kafka.bootstrapServers(), List.of("glanded.lake-commits"))) {
            JsonNode event = JSON.readTree(r.value());
            if (event.path("layer").asText().equals("gold")) {
                goldAnnouncements.add(event);
            }
        }
        assertThat(goldAnnouncements).as("the gold process announces its builds").isNotEmpty()
                .allMatch(e -> e.path("table").asText().equals("sales_per_region") && e.path("pipeline").asText().equals("glanded"));
    }

    /** {@code region:total} of gold.sales_per_region in the lake glanded, by region; empty before it exists. */
    private static List<String> goldTotals() {
        try (Lake lake = Lake.open(lakeOf("glanded"), "glanded", t -> TableOptions.DEFAULT)) {
            if (lake.tables().stream().noneMatch(t -> t.qualifiedName().equals("gold.sales_per_region"))) {
                return List.of();
            }
            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                return q.query("SELECT region || ':' || total FROM gold.sales_per_region ORDER BY 1").rows().stream().map(r -> r.get(0).toString()).toList();
            }
        }
    }

    @Test
    void unreachableBrokersStopALandingWithAClearError() throws Exception {
        int port;
        try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path file = dir.resolve("nowhere.yaml");
        Files.writeString(file, """
                name: nowhere
                source: {type: kafka, bootstrap-servers: 127.0.0.1:%d, topics: [shop.public.orders]}
                lake: {warehouse: ./nowhere}
                """.formatted(port));
        CliRun run = tributary("run", "-c", file.toString(), "--once");
        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(4);
        assertThat(run.err()).contains("Kafka at 127.0.0.1:" + port);
    }
}
