package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.testing.TestingKafka;
import io.tributary.testing.TestingKafkaConnect;
import io.tributary.testing.TestingPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tributary beside an existing Debezium deployment: Debezium's PostgreSQL connector in a real Kafka
 * Connect worker (TestingKafkaConnect) captures tables of TestingPostgres into TestingKafka, snapshot
 * first, then the stream, in Debezium's JSON envelope with schemas; a pipeline with
 * {@code source.type: kafka} lands those topics in the lake, silver equal to the source.
 */
class DebeziumOnKafkaConnectIT {
    private static final String DB = "connectshop";
    private static final String CONNECTOR = "shop-orders";
    private static final String SLOT = "debezium_fixture";
    private static final String BROKEN_SLOT = "debezium_broken";
    private static final String ITEMS_SLOT = "debezium_items";
    private static final String PUBLICATION = "debezium_fixture";
    private static final String TOPIC = "shop.public.orders";
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    private static TestingPostgres postgres;
    private static TestingKafka kafka;
    private static TestingKafkaConnect connect;

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
        postgres.createDatabase(DB);
        postgres.execute(DB,
                "CREATE TABLE public.orders (id bigint PRIMARY KEY, note text, amount numeric(10,2), placed timestamptz)",
                "INSERT INTO public.orders VALUES (1, 'first', 10.50, '2026-12-01 10:00+00'), (2, 'second', 20.00, '2026-12-01 10:01+00'),"
                        + " (3, 'third', 30.25, '2026-12-01 10:02+00')");
        kafka = TestingKafka.start(dir.resolve("kafka"));
        connect = TestingKafkaConnect.start(dir.resolve("connect"), kafka.bootstrapServers());
    }

    @AfterAll
    static void stop() {
        if (connect != null) {
            // Killing the worker ends its replication connection; the slot is released once PostgreSQL notices.
            connect.close();
        }
        if (postgres != null) {
            String slots = "slot_name IN ('" + SLOT + "', '" + BROKEN_SLOT + "', '" + ITEMS_SLOT + "')";
            postgres.execute(DB,
                    "SELECT pg_terminate_backend(active_pid, 30000) FROM pg_replication_slots WHERE active AND " + slots,
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE " + slots,
                    "DROP PUBLICATION IF EXISTS " + PUBLICATION, "DROP PUBLICATION IF EXISTS " + ITEMS_SLOT);
            postgres.close();
        }
        if (kafka != null) {
            kafka.close();
        }
    }

    private static Map<String, String> connectorConfig() {
        return Map.ofEntries(
                Map.entry("connector.class", "io.debezium.connector.postgresql.PostgresConnector"),
                Map.entry("tasks.max", "1"),
                Map.entry("plugin.name", "pgoutput"),
                Map.entry("database.hostname", postgres.host()),
                Map.entry("database.port", Integer.toString(postgres.port())),
                Map.entry("database.user", TestingPostgres.USER),
                Map.entry("database.dbname", DB),
                Map.entry("topic.prefix", "shop"),
                Map.entry("slot.name", SLOT),
                Map.entry("publication.name", PUBLICATION),
                Map.entry("publication.autocreate.mode", "filtered"),
                Map.entry("table.include.list", "public.orders"),
                Map.entry("provide.transaction.metadata", "true"),
                Map.entry("snapshot.mode", "initial"),
                // The broker creates no topics on its own: Connect creates the connector's (KIP-158).
                Map.entry("topic.creation.default.replication.factor", "1"),
                Map.entry("topic.creation.default.partitions", "1"));
    }

    @Test
    void debeziumsPostgresConnectorSnapshotsThenStreamsIntoKafka() {
        connect.createConnector(CONNECTOR, connectorConfig());
        connect.awaitRunning(CONNECTOR, TIMEOUT);

        try (KafkaConsumer<byte[], byte[]> consumer = consumer()) {
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            // The snapshot first, so that the changes below reach the topic as streamed events.
            pollUntil(consumer, records, rs -> ops(rs).size() >= 3);
            assertThat(ops(records)).containsExactly("r", "r", "r");

            postgres.execute(DB,
                    "INSERT INTO public.orders VALUES (4, 'fourth', 40.00, now()), (5, 'fifth', 50.75, now())",
                    "UPDATE public.orders SET note = 'first, amended' WHERE id = 1",
                    "DELETE FROM public.orders WHERE id = 2");
            // Four changes, and the tombstone that follows the delete.
            pollUntil(consumer, records, rs -> rs.size() >= 8);

            assertThat(ops(records)).containsExactly("r", "r", "r", "c", "c", "u", "d");
            for (ConsumerRecord<byte[], byte[]> record : records) {
                assertThat(json(record.key()).path("schema").path("type").asText()).isEqualTo("struct");
                if (record.value() == null) {
                    // The tombstone that follows a delete, keyed like it.
                    assertThat(json(record.key()).path("payload").path("id").asLong()).isEqualTo(2);
                    continue;
                }
                JsonNode value = json(record.value());
                assertThat(value.path("schema").path("name").asText()).isEqualTo("shop.public.orders.Envelope");
                assertThat(value.path("payload").path("source").path("connector").asText()).isEqualTo("postgresql");
                assertThat(value.path("payload").path("source").path("lsn").asLong()).as("source.lsn of %s", value.path("payload")).isPositive();
            }
            JsonNode update = payload(records, "u");
            assertThat(update.path("after").path("id").asLong()).isEqualTo(1);
            assertThat(update.path("after").path("note").asText()).isEqualTo("first, amended");
            assertThat(update.path("transaction").path("id").asText()).as("provide.transaction.metadata").isNotEmpty();
            assertThat(payload(records, "d").path("before").path("id").asLong()).isEqualTo(2);
            assertThat(payload(records, "d").path("after").isNull()).isTrue();
            assertThat(records.get(records.size() - 1).value()).as("a tombstone ends the topic").isNull();
        }

        assertThat(kafka.topics()).contains(TOPIC, "shop.transaction");
        assertThat(postgres.queryOne(DB, "SELECT plugin FROM pg_replication_slots WHERE slot_name = '" + SLOT + "'")).isEqualTo("pgoutput");
        assertThat(postgres.queryOne(DB, "SELECT string_agg(schemaname || '.' || tablename, ',') FROM pg_publication_tables WHERE pubname = '"
                + PUBLICATION + "'")).isEqualTo("public.orders");
        connect.deleteConnector(CONNECTOR);
    }

    @Test
    void landsTheConnectorsTopicsInTheLake() throws Exception {
        postgres.execute(DB, "CREATE TABLE public.items (id int PRIMARY KEY, name text NOT NULL, price numeric(8,2), added timestamptz, qty int NOT NULL)",
                "INSERT INTO public.items SELECT g, 'item ' || g, CASE WHEN g % 9 = 0 THEN NULL ELSE g * 0.75 END, "
                        + "timestamptz '2026-12-01 10:00+00' + g * interval '1 hour', g % 4 FROM generate_series(1, 200) g");
        Map<String, String> config = new HashMap<>(connectorConfig());
        config.putAll(Map.of("topic.prefix", "dbz", "slot.name", ITEMS_SLOT, "publication.name", ITEMS_SLOT, "table.include.list", "public.items",
                "topic.creation.default.partitions", "2"));
        connect.createConnector("items", config);
        connect.awaitRunning("items", TIMEOUT);
        awaitRecords("dbz.public.items", 200);
        postgres.execute(DB,
                "UPDATE public.items SET qty = qty + 1 WHERE id <= 20",
                "DELETE FROM public.items WHERE id > 190",
                "INSERT INTO public.items SELECT g, 'new ' || g, 1.00, now(), 1 FROM generate_series(201, 210) g",
                "BEGIN; UPDATE public.items SET price = 0 WHERE id = 1; UPDATE public.items SET price = 2.50 WHERE id = 1; COMMIT;",
                "ALTER TABLE public.items ADD COLUMN note text",
                "UPDATE public.items SET note = 'restocked' WHERE id = 5");
        // 200 reads, 20 + 2 + 1 updates, 10 deletes (each with a tombstone), 10 inserts.
        awaitRecords("dbz.public.items", 200 + 23 + 20 + 10);

        Path lakeConfig = dir.resolve("items-lake.yaml");
        java.nio.file.Files.writeString(lakeConfig, """
                name: items_lake
                source: {type: kafka, bootstrap-servers: %s, topics: [dbz.public.items], format: debezium-json}
                lake: {warehouse: ./items-lake}
                """.formatted(kafka.bootstrapServers()));
        CliRun run = CliRun.tributary("run", "-c", lakeConfig.toString(), "--once");
        assertThat(run.exitCode()).as(run.err()).isZero();

        Path lake = dir.resolve("items-lake");
        String sum = "SELECT count(*)::text, coalesce(sum(hashtext(id::text || '|' || name || '|' || coalesce(price::text, '-') || '|' || qty::text "
                + "|| '|' || coalesce(note, '-') || '|' || added::text)::bigint), 0)::text FROM %s";
        assertThat(postgres.checksumRows(DB, "items", KafkaToLakeIT.query(lake, "items_lake", "SELECT id, name, price, added, qty, note FROM silver.items"), sum))
                .as("silver.items equals the source").isEqualTo(postgres.query(DB, sum.formatted("items")).get(0));
        assertThat(KafkaToLakeIT.query(lake, "items_lake", "SELECT _op, count(*) FROM bronze.items GROUP BY _op ORDER BY _op"))
                .containsExactly(List.of("c", 10L), List.of("d", 10L), List.of("r", 200L), List.of("u", 23L));
        assertThat(KafkaToLakeIT.query(lake, "items_lake", "SELECT count(*), count(DISTINCT _position) FROM bronze.items"))
                .containsExactly(List.of(243L, 243L));
        assertThat(KafkaToLakeIT.query(lake, "items_lake", "SELECT count(*) FROM silver.items_history WHERE id = 1")).containsExactly(List.of(4L));
        connect.deleteConnector("items");
    }

    /** Waits until {@code topic} holds at least {@code count} records, tombstones included. */
    private static void awaitRecords(String topic, int count) {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class, ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.METADATA_MAX_AGE_CONFIG, "500"))) {
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            long total = 0;
            while (System.nanoTime() < deadline) {
                List<TopicPartition> partitions = consumer.listTopics(Duration.ofSeconds(10)).getOrDefault(topic, List.of()).stream()
                        .map(p -> new TopicPartition(topic, p.partition())).toList();
                total = partitions.isEmpty() ? 0 : consumer.endOffsets(partitions).values().stream().mapToLong(Long::longValue).sum();
                if (total >= count) {
                    return;
                }
                java.util.concurrent.locks.LockSupport.parkNanos(Duration.ofMillis(300).toNanos());
            }
            assertThat(total).as("records on %s within %s s; see %s", topic, TIMEOUT.toSeconds(), connect.log()).isGreaterThanOrEqualTo(count);
        }
    }

    @Test
    void aTaskThatFailsToStartIsReportedWithItsTrace() {
        Map<String, String> config = new HashMap<>(connectorConfig());
        // Passes validation; the task fails in start() when it finds no publication to use.
        config.putAll(Map.of("topic.prefix", "broken", "slot.name", BROKEN_SLOT, "publication.name", "debezium_missing",
                "publication.autocreate.mode", "disabled"));
        connect.createConnector("broken", config);

        assertThatThrownBy(() -> connect.awaitRunning("broken", TIMEOUT)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Task 0 of connector broken FAILED").hasMessageContaining("Publication autocreation is disabled")
                .hasMessageContaining(connect.log().toString());
        connect.deleteConnector("broken");
    }

    private static KafkaConsumer<byte[], byte[]> consumer() {
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                // The topic appears when Connect creates it for the snapshot's first record.
                ConsumerConfig.METADATA_MAX_AGE_CONFIG, "500"));
        consumer.assign(List.of(new TopicPartition(TOPIC, 0)));
        return consumer;
    }

    /** Polls {@code consumer} into {@code records} until {@code done} holds of them, for at most 60 s. */
    private static void pollUntil(KafkaConsumer<byte[], byte[]> consumer, List<ConsumerRecord<byte[], byte[]>> records,
            Predicate<List<ConsumerRecord<byte[], byte[]>>> done) {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!done.test(records) && System.nanoTime() < deadline) {
            consumer.poll(Duration.ofMillis(500)).forEach(records::add);
        }
        assertThat(done.test(records)).as("records of %s within %s s: %s; see %s", TOPIC, TIMEOUT.toSeconds(), ops(records), connect.log()).isTrue();
    }

    /** The {@code payload.op} of each record that is not a tombstone, in offset order. */
    private static List<String> ops(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().filter(r -> r.value() != null).map(r -> json(r.value()).path("payload").path("op").asText()).toList();
    }

    private static JsonNode payload(List<ConsumerRecord<byte[], byte[]>> records, String op) {
        return records.stream().filter(r -> r.value() != null).map(r -> json(r.value()).path("payload"))
                .filter(p -> p.path("op").asText().equals(op)).findFirst().orElseThrow();
    }

    private static JsonNode json(byte[] bytes) {
        try {
            return JSON.readTree(new String(bytes, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
