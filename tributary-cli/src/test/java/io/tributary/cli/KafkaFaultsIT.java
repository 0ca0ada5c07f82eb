package io.tributary.cli;

import static io.tributary.cli.CliRun.tributary;
import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.testing.ChildJvm;
import io.tributary.testing.TestingKafka;
import io.tributary.testing.TestingPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, items 5 and 6: both halves through a broker that encrypts and authenticates (TLS and
 * SASL {@code PLAIN} on a {@code SASL_SSL} listener, settings passed through {@code sink.properties}
 * and {@code source.properties}, the JAAS line and the trust store's password from
 * {@code ${file:…}} secrets) and authorizes (Kafka's
 * StandardAuthorizer with ACLs per principal); a wrong password or a missing ACL stops either half
 * with a clear error (exit 4); a topic deleted under a landing stops it past
 * {@code source.reconnect.max-elapsed} naming the topic, and one created again is read from its
 * beginning; a topic deleted under a running capture is created again with nothing lost after it.
 */
class KafkaFaultsIT {
    private static final String DB = "guarded";
    /** The same text in PostgreSQL and DuckDB for the same rows. */
    private static final String SUM = "SELECT count(*)::text, sum(id)::text, sum(n)::text, sum(id * n)::text FROM %s";
    /** The SASL users' passwords, made for this run. */
    private static final String CAPTURE = java.util.UUID.randomUUID().toString();
    private static final String LANDER = java.util.UUID.randomUUID().toString();
    private static final String STRANGER = java.util.UUID.randomUUID().toString();

    @TempDir
    static Path dir;
    private static TestingPostgres postgres;
    private static TestingKafka kafka;

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
        postgres.createDatabase(DB);
        kafka = TestingKafka.startWithSasl(dir.resolve("kafka"), Map.of("capture", CAPTURE, "lander", LANDER, "stranger", STRANGER));
        // What a capture into Kafka needs: its topics (create, write, describe, read its offsets topic) and its transactional id.
        kafka.allow("capture", ResourceType.TOPIC, "sec.", AclOperation.CREATE, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.READ);
        kafka.allow("capture", ResourceType.TRANSACTIONAL_ID, "tributary.", AclOperation.WRITE, AclOperation.DESCRIBE);
        // What a landing needs: read and describe the topics, read its consumer group.
        kafka.allow("lander", ResourceType.TOPIC, "sec.", AclOperation.READ, AclOperation.DESCRIBE);
        kafka.allow("lander", ResourceType.GROUP, "tributary-", AclOperation.READ);
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

    /** A {@code properties:} block for {@code user} on the SASL_SSL listener, the JAAS line and the trust store's password in secret files. */
    private static String sasl(String user, String password) throws Exception {
        Map<String, String> client = kafka.saslClientProperties(user, password);
        Path jaas = dir.resolve(user + "-" + Integer.toHexString(password.hashCode()) + ".jaas");
        Files.writeString(jaas, client.get("sasl.jaas.config"));
        Path storePassword = dir.resolve("truststore.password");
        Files.writeString(storePassword, client.get("ssl.truststore.password"));
        return ("{security.protocol: %s, sasl.mechanism: %s, sasl.jaas.config: \"${file:%s}\", ssl.truststore.location: \"%s\", "
                + "ssl.truststore.type: PKCS12, ssl.truststore.password: \"${file:%s}\"}").formatted(client.get("security.protocol"),
                client.get("sasl.mechanism"), jaas.toAbsolutePath(), client.get("ssl.truststore.location"), storePassword.toAbsolutePath());
    }

    /** A capture of {@code tables} (a YAML list) into topics {@code <prefix>.public.<table>}, with the sink's client {@code properties}. */
    private static Path capture(String name, String tables, String servers, String prefix, String properties) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                name: %s
                source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable, tables: %s}
                sink: {type: kafka, bootstrap-servers: %s, topic-prefix: %s, properties: %s}
                commit: {interval: 200ms}
                """.formatted(name, postgres.port(), DB, tables, servers, prefix, properties));
        return file;
    }

    private static Path landing(String name, String topics, String servers, String properties) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                name: %s
                source: {type: kafka, bootstrap-servers: %s, topics: %s, format: debezium-json, properties: %s, reconnect: {max-elapsed: 10s}}
                lake: {warehouse: ./%s}
                commit: {interval: 200ms}
                """.formatted(name, servers, topics, properties, name));
        return file;
    }

    private static void table(String table, int rows) {
        postgres.execute(DB, "CREATE TABLE " + table + " (id int PRIMARY KEY, n bigint NOT NULL)",
                "INSERT INTO " + table + " SELECT g, g * 10 FROM generate_series(1, " + rows + ") g");
    }

    private static CliRun runOnce(Path config) {
        CliRun run = tributary("run", "-c", config.toString(), "--once");
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        return run;
    }

    private static List<String> silver(String lake, String table) {
        return KafkaToLakeIT.query(dir.resolve(lake), lake, SUM.formatted("silver." + table)).get(0).stream().map(String::valueOf).toList();
    }

    private static List<String> source(String table) {
        return postgres.query(DB, SUM.formatted(table)).get(0);
    }

    @Test
    void captureAndLandingAuthenticateAndAreAuthorizedThroughTheirProperties() throws Exception {
        table("items", 200);
        String servers = kafka.saslBootstrapServers();
        runOnce(capture("securecapture", "[public.items]", servers, "sec", sasl("capture", CAPTURE)));
        postgres.execute(DB, "UPDATE items SET n = n + 1 WHERE id % 4 = 0", "DELETE FROM items WHERE id % 10 = 0");
        runOnce(capture("securecapture", "[public.items]", servers, "sec", sasl("capture", CAPTURE)));

        CliRun landed = runOnce(landing("securelake", "[sec.public.items]", servers, sasl("lander", LANDER)));
        assertThat(silver("securelake", "items")).isEqualTo(source("items"));
        assertThat(landed.out() + landed.err()).doesNotContain(LANDER);
    }

    @Test
    void aWrongPasswordOrAMissingAclStopsEitherHalfWithAClearError() throws Exception {
        table("locked", 10);
        String servers = kafka.saslBootstrapServers();
        runOnce(capture("lockedcapture", "[public.locked]", servers, "sec", sasl("capture", CAPTURE)));

        CliRun wrongPassword = tributary("run", "-c", landing("wrongpassword", "[sec.public.locked]", servers, sasl("lander", "not-it")).toString(), "--once");
        assertThat(wrongPassword.exitCode()).as(wrongPassword.err()).isEqualTo(4);
        assertThat(wrongPassword.err()).contains("Cannot authenticate to Kafka at " + servers).doesNotContain("not-it");

        CliRun noAcl = tributary("run", "-c", landing("stranger", "[sec.public.locked]", servers, sasl("stranger", STRANGER)).toString(), "--once");
        assertThat(noAcl.exitCode()).as(noAcl.err()).isEqualTo(4);
        assertThat(noAcl.err()).contains("Not authorized to read Kafka at " + servers).contains("sec.public.locked").contains("grant the principal READ");

        postgres.execute(DB, "UPDATE locked SET n = n + 1");
        CliRun captureNoAcl = tributary("run", "-c", capture("strangercapture", "[public.locked]", servers, "sec", sasl("stranger", STRANGER)).toString(), "--once");
        assertThat(captureNoAcl.exitCode()).as(captureNoAcl.err()).isEqualTo(4);
        assertThat(captureNoAcl.err()).contains("Kafka refused access").contains("sink.properties");
    }

    @Test
    void aDeletedTopicStopsTheLandingAndOneCreatedAgainIsReadFromItsBeginning() throws Exception {
        table("kept", 50);
        table("dropped", 300);
        String servers = kafka.bootstrapServers();
        Path capture = capture("dcapture", "[public.kept, public.dropped]", servers, "del", "{}");
        runOnce(capture);
        Path landing = landing("dlake", "[del.public.kept, del.public.dropped]", servers, "{}");
        Path log = dir.resolve("dlake.log");
        try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", landing.toString()), log)) {
            KafkaTopics.awaitUntil(Duration.ofSeconds(120), () -> !run.isAlive() || Files.readString(log).contains("Committed")
                    && silver("dlake", "dropped").equals(source("dropped")));
            assertThat(run.isAlive()).as(Files.readString(log)).isTrue();
            kafka.deleteTopic("del.public.dropped");
            // Found at the next look at the topic list (30 s), then retried for source.reconnect.max-elapsed (10 s).
            assertThat(run.waitFor(Duration.ofSeconds(120))).as(Files.readString(log)).hasValue(4);
        }
        String err = Files.readString(log);
        assertThat(err).contains("Topic del.public.dropped of source.topics no longer exists on " + servers).contains("take it out of source.topics");

        // The capture creates the topic again with the changes after the deletion: fewer records than the lake had read.
        postgres.execute(DB, "UPDATE dropped SET n = n + 1 WHERE id <= 5", "DELETE FROM dropped WHERE id = 6");
        runOnce(capture);
        Path onceLog = dir.resolve("dlake-once.log");
        try (ChildJvm once = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", landing.toString(), "--once"), onceLog)) {
            assertThat(once.waitFor(Duration.ofSeconds(120))).as(Files.readString(onceLog)).hasValue(0);
        }
        assertThat(silver("dlake", "dropped")).isEqualTo(source("dropped"));
        assertThat(silver("dlake", "kept")).isEqualTo(source("kept"));
        assertThat(Files.readString(onceLog)).contains("was deleted and created again; reading it from its beginning");
    }

    @Test
    void aTopicDeletedUnderARunningCaptureIsCreatedAgainWithNothingLostAfterIt() throws Exception {
        table("churn", 20);
        String servers = kafka.bootstrapServers();
        // Short producer timeouts so that the write into the deleted topic fails within seconds.
        Path capture = capture("ccapture", "[public.churn]", servers, "churn", "{delivery.timeout.ms: \"12000\", request.timeout.ms: \"5000\", max.block.ms: \"10000\"}");
        Path log = dir.resolve("ccapture.log");
        String topic = "churn.public.churn";
        try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", capture.toString()), log)) {
            KafkaTopics.awaitUntil(Duration.ofSeconds(120), () -> !run.isAlive() || kafka.topics().contains(topic)
                    && KafkaTopics.readAll(servers, List.of(topic)).size() >= 20);
            assertThat(run.isAlive()).as(Files.readString(log)).isTrue();
            kafka.deleteTopic(topic);
            postgres.execute(DB, "UPDATE churn SET n = n + 1 WHERE id <= 3", "UPDATE churn SET n = n + 2 WHERE id = 1");
            KafkaTopics.awaitUntil(Duration.ofSeconds(120), () -> !run.isAlive() || kafka.topics().contains(topic)
                    && KafkaTopics.readAll(servers, List.of(topic)).size() >= 4);
            assertThat(run.isAlive()).as(Files.readString(log)).isTrue();
            assertThat(Files.readString(log)).contains("no longer exist (deleted while pipeline ccapture wrote to them): creating them again");
            assertThat(run.stop(Duration.ofSeconds(60))).as(Files.readString(log)).hasValue(0);
        }
        List<String> updates = KafkaTopics.readAll(servers, List.of(topic)).stream().filter(r -> r.value() != null)
                .map(r -> new String(r.value(), StandardCharsets.UTF_8)).toList();
        assertThat(updates).as("the four updates after the deletion, each once").hasSize(4).allMatch(v -> v.contains("\"op\":\"u\""));
    }

    @Test
    void recordsRemovedBeforeTheLakeReadThemStopTheLandingNamingTheGap() throws Exception {
        table("expiring", 30);
        String servers = kafka.bootstrapServers();
        Path capture = capture("gcapture", "[public.expiring]", servers, "gap", "{}");
        runOnce(capture);
        Path landing = landing("glake", "[gap.public.expiring]", servers, "{}");
        runOnce(landing);
        org.apache.kafka.common.TopicPartition partition = new org.apache.kafka.common.TopicPartition("gap.public.expiring", 0);
        long landedThrough = endOffset(partition);
        postgres.execute(DB, "UPDATE expiring SET n = n + 1 WHERE id <= 10");
        runOnce(capture);
        // What retention does to an old segment: the log's start moves past records the lake has not read.
        long logStart = endOffset(partition) - 4;
        try (org.apache.kafka.clients.admin.Admin admin = kafka.admin()) {
            admin.deleteRecords(Map.of(partition, org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(logStart))).all().get();
        }
        CliRun gap = tributary("run", "-c", landing.toString(), "--once");
        assertThat(gap.exitCode()).as(gap.out() + gap.err()).isEqualTo(4);
        assertThat(gap.err()).contains("Kafka no longer holds topic gap.public.expiring partition 0 from the lake's next offset " + landedThrough)
                .contains("its log begins at offset " + logStart + ", so offsets " + landedThrough + " to " + (logStart - 1) + ", which the lake has not read, were removed");
        assertThat(KafkaToLakeIT.query(dir.resolve("glake"), "glake", "SELECT count(*) FROM bronze.expiring WHERE _op = 'u'").get(0).get(0)).isEqualTo(0L);
    }

    private static long endOffset(org.apache.kafka.common.TopicPartition partition) throws Exception {
        try (org.apache.kafka.clients.admin.Admin admin = kafka.admin()) {
            return admin.listOffsets(Map.of(partition, org.apache.kafka.clients.admin.OffsetSpec.latest())).all().get().get(partition).offset();
        }
    }
}
