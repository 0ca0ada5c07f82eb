package io.tributary.cli;

import static io.tributary.cli.CliRun.tributary;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.testing.ChildJvm;
import io.tributary.testing.TestingKafka;
import io.tributary.testing.TestingPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, capture to Kafka: {@code tributary run} with a {@code sink} and no lake publishes
 * PostgreSQL's changes to Debezium-compatible topics on a real Kafka broker (KRaft, TestingKafka):
 * one topic per table keyed by primary key, the Debezium envelope with and without schemas, a
 * tombstone after each delete, each change exactly once across runs (the source position lives in
 * Kafka, written in the same transaction), and the replication slot acknowledged no further than
 * what Kafka holds.
 */
class KafkaCaptureIT {
    private static final String DB = "shop";
    private static final ObjectMapper JSON = new ObjectMapper();

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
                "CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(10,2), placed timestamptz)",
                "INSERT INTO customers SELECT g, 'customer ' || g, g % 3 FROM generate_series(1, 50) g",
                "INSERT INTO orders SELECT g, 1 + g % 50, g * 1.25, timestamptz '2026-12-01 10:00+00' + g * interval '1 minute' "
                        + "FROM generate_series(1, 300) g");
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

    private static Path config(String name, String prefix, String format) throws Exception {
        return config(name, prefix, format, DB, "[public.customers, public.orders]");
    }

    private static Path config(String name, String prefix, String format, String database, String tables) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                name: %s
                source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable,
                         tables: %s, slot: tributary_%s}
                sink:
                  type: kafka
                  bootstrap-servers: %s
                  topic-prefix: %s
                  format: %s
                  partitions: 3
                commit: {interval: 200ms}
                """.formatted(name, postgres.port(), database, tables, name, kafka.bootstrapServers(), prefix, format));
        return file;
    }

    private static void runOnce(Path config) {
        CliRun run = tributary("run", "-c", config.toString(), "--once");
        assertThat(run.exitCode()).as(run.err()).isZero();
    }

    /** A database {@code name} with {@code accounts(id, balance)} of {@code rows} zero balances, and a pipeline capturing it under prefix {@code name}. */
    private static Path accountsPipeline(String name, int rows, String format) throws Exception {
        postgres.createDatabase(name);
        postgres.execute(name, "CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)",
                "INSERT INTO accounts SELECT g, 0 FROM generate_series(1, " + rows + ") g");
        return config(name, name, format, name, "[public.accounts]");
    }

    /**
     * Checks that no version of an account is missing or twice: each key's balances, in partition
     * order, are 0 (the snapshot), 1, 2, 3, …; returns the last balance of each account.
     */
    private static Map<String, Long> everyVersionOnceInOrder(List<ConsumerRecord<byte[], byte[]>> accounts, boolean withSchema) {
        Map<String, Long> lastBalance = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : accounts) {
            JsonNode after = (withSchema ? json(r.value()).path("payload") : json(r.value())).path("after");
            String id = after.path("id").asText();
            long previous = lastBalance.getOrDefault(id, -1L);
            assertThat(after.path("balance").asLong()).as("account " + id + " after " + previous).isEqualTo(previous + 1);
            lastBalance.put(id, previous + 1);
        }
        return lastBalance;
    }

    /** Waits until the capturing {@code run} has committed the initial snapshot's {@code rows} records to {@code topic}. */
    private static void awaitInitialSnapshot(ChildJvm run, String topic, int rows, Path log) throws Exception {
        KafkaTopics.awaitUntil(Duration.ofSeconds(120), () -> !run.isAlive() || kafka.topics().contains(topic) && KafkaTopics.readAll(kafka.bootstrapServers(), List.of(topic)).size() >= rows);
        assertThat(run.isAlive()).as(Files.readString(log)).isTrue();
        assertThat(KafkaTopics.readAll(kafka.bootstrapServers(), List.of(topic))).as("the initial snapshot reached Kafka; log: " + Files.readString(log)).hasSize(rows);
    }

    private static JsonNode json(byte[] bytes) {
        try {
            return JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    /** The rows a consumer builds from the topic: per key, the last image (a delete or tombstone removes it), as id -> after. */
    private static Map<String, JsonNode> replay(List<ConsumerRecord<byte[], byte[]>> records, boolean withSchema) {
        Map<String, JsonNode> rows = new TreeMap<>();
        for (ConsumerRecord<byte[], byte[]> r : records) {
            JsonNode key = json(r.key());
            String id = (withSchema ? key.path("payload") : key).path("id").asText();
            if (r.value() == null) {
                assertThat(rows).as("a tombstone follows the delete of " + id).doesNotContainKey(id);
                continue;
            }
            JsonNode value = withSchema ? json(r.value()).path("payload") : json(r.value());
            switch (value.path("op").asText()) {
                case "r", "c", "u" -> rows.put(id, value.path("after"));
                case "d" -> rows.remove(id);
                default -> throw new AssertionError("unexpected op in " + value);
            }
        }
        return rows;
    }

    private static Map<String, Long> countByOp(List<ConsumerRecord<byte[], byte[]>> records, boolean withSchema) {
        return records.stream().filter(r -> r.value() != null)
                .map(r -> (withSchema ? json(r.value()).path("payload") : json(r.value())).path("op").asText())
                .collect(Collectors.groupingBy(op -> op, TreeMap::new, Collectors.counting()));
    }

    @Test
    void capturesIntoDebeziumTopicsExactlyOnce() throws Exception {
        Path capture = config("capture", "shop", "debezium-json");
        runOnce(capture);
        postgres.execute(DB,
                "UPDATE customers SET tier = 9 WHERE id <= 10",
                "DELETE FROM orders WHERE id % 10 = 0",
                "INSERT INTO orders SELECT g, 1 + g % 50, 2.50, now() FROM generate_series(301, 340) g");
        runOnce(capture);
        // A third run with nothing new writes nothing twice.
        runOnce(capture);

        assertThat(kafka.topics()).contains("shop.public.customers", "shop.public.orders", "shop.tributary-offsets");
        List<ConsumerRecord<byte[], byte[]>> orders = KafkaTopics.readAll(kafka.bootstrapServers(), List.of("shop.public.orders"));
        assertThat(countByOp(orders, true)).containsExactlyEntriesOf(new TreeMap<>(Map.of("r", 300L, "d", 30L, "c", 40L)));
        assertThat(orders.stream().filter(r -> r.value() == null).count()).as("tombstones").isEqualTo(30);
        Map<String, JsonNode> replayed = replay(orders, true);
        List<List<String>> source = postgres.query(DB, "SELECT id::text, amount::text FROM orders ORDER BY id");
        assertThat(replayed).hasSize(source.size());
        for (List<String> row : source) {
            assertThat(replayed.get(row.get(0)).path("amount").decimalValue()).as("order " + row.get(0))
                    .isEqualByComparingTo(new java.math.BigDecimal(row.get(1)));
        }
        // The envelope Debezium's PostgreSQL connector writes: schema and payload, source block, transaction metadata.
        JsonNode update = KafkaTopics.readAll(kafka.bootstrapServers(), List.of("shop.public.customers")).stream().map(r -> json(r.value()))
                .filter(v -> v.path("payload").path("op").asText().equals("u")).findFirst().orElseThrow();
        assertThat(update.path("schema").path("name").asText()).endsWith(".public.customers.Envelope");
        assertThat(update.path("payload").path("after").path("tier").asInt()).isEqualTo(9);
        assertThat(update.path("payload").path("source").path("connector").asText()).isEqualTo("postgresql");
        assertThat(update.path("payload").path("source").path("lsn").asLong()).isPositive();
        assertThat(update.path("payload").path("transaction").path("id").asText()).isNotEmpty();
        // Keyed by primary key: every version of a row is in one partition.
        Map<String, Set<Integer>> partitionsByKey = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : orders) {
            partitionsByKey.computeIfAbsent(json(r.key()).path("payload").path("id").asText(), k -> new java.util.HashSet<>()).add(r.partition());
        }
        assertThat(partitionsByKey.values()).allMatch(p -> p.size() == 1);
        assertThat(partitionsByKey.values().stream().flatMap(Set::stream).distinct().count()).as("keys spread over the 3 partitions").isEqualTo(3);

        // The position lives in Kafka; the slot is acknowledged no further than it.
        List<ConsumerRecord<byte[], byte[]>> offsets = KafkaTopics.readAll(kafka.bootstrapServers(), List.of("shop.tributary-offsets"));
        JsonNode last = json(offsets.get(offsets.size() - 1).value());
        assertThat(last.path("pipeline").asText()).isEqualTo("capture");
        long recorded = Long.parseUnsignedLong(last.path("position").asText().substring(0, 16), 16);
        String confirmed = postgres.queryOne(DB, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'tributary_capture'");
        String[] parts = confirmed.split("/");
        long confirmedLsn = Long.parseLong(parts[0], 16) << 32 | Long.parseLong(parts[1], 16);
        assertThat(confirmedLsn).isLessThanOrEqualTo(recorded).isPositive();

        // status reads the position from Kafka without taking the sink over.
        CliRun status = tributary("status", "-c", capture.toString(), "--json");
        assertThat(status.exitCode()).as(status.err()).isZero();
        JsonNode report = JSON.readTree(status.out());
        assertThat(report.path("committedPosition").asText()).isEqualTo(io.tributary.spi.SourcePosition.decode(last.path("position").asText()).toString());
        assertThat(report.path("lagBytes").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(report.path("sink").asText()).contains(kafka.bootstrapServers());
    }

    @Test
    void aCaptureKilledMidStreamResumesWithNothingLostOrTwice() throws Exception {
        Path crash = accountsPipeline("crash", 1000, "debezium-json");
        Path log = dir.resolve("crash-run.log");
        int transactions = 40;
        try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", crash.toString()), log)) {
            awaitInitialSnapshot(run, "crash.public.accounts", 1000, log);
            for (int i = 0; i < transactions; i++) {
                postgres.execute("crash", "UPDATE accounts SET balance = balance + 1 WHERE id % 2 = " + (i % 2));
                if (i == transactions / 2) {
                    // Killed while streaming: some batches committed in Kafka, one perhaps open.
                    run.kill();
                }
            }
        }
        runOnce(crash);
        List<ConsumerRecord<byte[], byte[]>> accounts = KafkaTopics.readAll(kafka.bootstrapServers(), List.of("crash.public.accounts"));
        Map<String, Long> ops = countByOp(accounts, true);
        assertThat(ops.get("r")).isEqualTo(1000L);
        assertThat(ops.get("u")).as("every update once").isEqualTo(transactions * 500L);
        Map<String, Long> lastBalance = everyVersionOnceInOrder(accounts, true);
        assertThat(postgres.queryOne("crash", "SELECT sum(balance) FROM accounts"))
                .isEqualTo(Long.toString(lastBalance.values().stream().mapToLong(Long::longValue).sum()));
    }

    /**
     * A lone change is written to its topic {@code commit.interval} after it is captured, not at the
     * source's next delivery (a heartbeat, up to one more interval later): the record's timestamp
     * (set when the sink sends it) against the change's source commit time.
     */
    @Test
    void aLoneChangeIsWrittenOneIntervalAfterItArrives() throws Exception {
        postgres.createDatabase("lone");
        postgres.execute("lone", "CREATE TABLE notes (id int PRIMARY KEY, body text)", "INSERT INTO notes VALUES (0, 'first')");
        Path config = dir.resolve("lone.yaml");
        Files.writeString(config, """
                name: lone
                source: {host: 127.0.0.1, port: %d, database: lone, user: postgres, sslmode: disable,
                         tables: [public.notes], slot: tributary_lone, heartbeat: 30s}
                sink: {type: kafka, bootstrap-servers: %s, topic-prefix: lone, format: debezium-json-schemaless}
                commit: {interval: 3s}
                """.formatted(postgres.port(), kafka.bootstrapServers()));
        Path log = dir.resolve("lone-run.log");
        String topic = "lone.public.notes";
        try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", config.toString()), log)) {
            awaitInitialSnapshot(run, topic, 1, log);
            for (int i = 1; i <= 4; i++) {
                // Apart by more than two intervals: each change is alone in its write.
                KafkaTopics.awaitUntil(Duration.ofMillis(6_000 + 700L * i), () -> !run.isAlive());
                assertThat(run.isAlive()).as(Files.readString(log)).isTrue();
                postgres.execute("lone", "INSERT INTO notes VALUES (" + i + ", 'lone')");
                int expected = i + 1;
                KafkaTopics.awaitUntil(Duration.ofSeconds(30), () -> !run.isAlive() || KafkaTopics.readAll(kafka.bootstrapServers(), List.of(topic)).size() >= expected);
                assertThat(run.isAlive()).as(Files.readString(log)).isTrue();
            }
        }
        List<Long> latencies = KafkaTopics.readAll(kafka.bootstrapServers(), List.of(topic)).stream()
                .filter(r -> "c".equals(json(r.value()).path("op").asText()))
                .map(r -> r.timestamp() - json(r.value()).path("source").path("ts_ms").asLong()).toList();
        // Written once the interval passed (plus the WAL writer's flush of an asynchronous commit, up
        // to 200 ms, the timer's tick and the send), never at a heartbeat an interval later.
        assertThat(latencies).hasSize(4).allSatisfy(ms -> assertThat(ms).isBetween(2_900L, 4_200L));
    }

    @Test
    void aBrokerRestartMidStreamLosesNothing() throws Exception {
        Path outage = accountsPipeline("outage", 200, "debezium-json-schemaless");
        Path log = dir.resolve("outage-run.log");
        int transactions = 30;
        try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", outage.toString()), log)) {
            awaitInitialSnapshot(run, "outage.public.accounts", 200, log);
            for (int i = 0; i < transactions; i++) {
                postgres.execute("outage", "UPDATE accounts SET balance = balance + 1");
                if (i == 10) {
                    kafka.stop();
                } else if (i == 20) {
                    // The broker comes back once the capture has met the outage (or after 30 s).
                    KafkaTopics.awaitUntil(Duration.ofSeconds(30), () -> !run.isAlive() || Files.readString(log).contains("could not be established"));
                    kafka.start();
                }
            }
            // The producer rides the outage out (delivery.timeout.ms), or the run stops with exit 4:
            // either way nothing is lost once a run catches up.
            KafkaTopics.awaitUntil(Duration.ofSeconds(150), () -> !run.isAlive() || KafkaTopics.readAll(kafka.bootstrapServers(), List.of("outage.public.accounts")).size() >= 200 + transactions * 200);
            if (!run.isAlive()) {
                assertThat(run.waitFor(Duration.ofSeconds(1)).orElseThrow()).as(Files.readString(log)).isEqualTo(4);
            }
        }
        runOnce(outage);
        List<ConsumerRecord<byte[], byte[]>> accounts = KafkaTopics.readAll(kafka.bootstrapServers(), List.of("outage.public.accounts"));
        assertThat(countByOp(accounts, false).get("u")).as("every update once").isEqualTo(transactions * 200L);
        everyVersionOnceInOrder(accounts, false);
    }

    @Test
    void writesTheSchemalessFormat() throws Exception {
        Path plain = config("plain", "plain", "debezium-json-schemaless");
        runOnce(plain);
        List<ConsumerRecord<byte[], byte[]>> customers = KafkaTopics.readAll(kafka.bootstrapServers(), List.of("plain.public.customers"));
        assertThat(customers).isNotEmpty();
        JsonNode first = json(customers.get(0).value());
        assertThat(first.has("schema")).isFalse();
        assertThat(first.path("op").asText()).isEqualTo("r");
        assertThat(json(customers.get(0).key()).fieldNames().next()).isEqualTo("id");
        assertThat(replay(customers, false)).hasSize(Integer.parseInt(postgres.queryOne(DB, "SELECT count(*) FROM customers")));
    }
}
