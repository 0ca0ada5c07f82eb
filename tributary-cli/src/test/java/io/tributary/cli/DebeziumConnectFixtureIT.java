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
 * The Kafka Connect fixture runs the real thing: Debezium's PostgreSQL connector in a Kafka Connect
 * worker (TestingKafkaConnect) captures a table of TestingPostgres into TestingKafka, snapshot first,
 * then the stream, in Debezium's JSON envelope with schemas.
 */
class DebeziumConnectFixtureIT {
    private static final String DB = "connectshop";
    private static final String CONNECTOR = "shop-orders";
    private static final String SLOT = "debezium_fixture";
    private static final String BROKEN_SLOT = "debezium_broken";
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
            String slots = "slot_name IN ('" + SLOT + "', '" + BROKEN_SLOT + "')";
            postgres.execute(DB,
                    "SELECT pg_terminate_backend(active_pid, 30000) FROM pg_replication_slots WHERE active AND " + slots,
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE " + slots,
                    "DROP PUBLICATION IF EXISTS " + PUBLICATION);
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
