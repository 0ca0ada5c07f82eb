package io.tributary.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;

/**
 * A real Apache Kafka broker for tests: one node in KRaft mode (broker and controller in one
 * process, Kafka 4.1.1 from its Maven artifacts, {@code kafka.Kafka}), run as a child JVM on
 * loopback at free ports, its log directory and log file in a folder. The broker's class path is
 * the one {@code tributary-testing-kafka} resolves, never the test's (a test module depends on that
 * module with every transitive dependency excluded, which orders the reactor and puts its class
 * path file on the test class path). {@link #stop()} and {@link #start()} stop (SIGKILL) and
 * restart the broker on the same ports and data, so a test can take it away mid-stream.
 *
 * <p>{@link #startWithSasl} adds a second client listener, {@code SASL_SSL}: TLS with a
 * self-signed certificate for 127.0.0.1 made by the JDK's {@code keytool} (its trust store at
 * {@link #trustStore()}), the {@code PLAIN} mechanism with the given users, and Kafka's
 * {@code StandardAuthorizer}: a user on that listener may do only what {@link #allow} granted, while
 * the plain listener (the fixture's own admin client, the controller) is a super user.
 */
public final class TestingKafka implements AutoCloseable {
    private static final String CLASS_PATH_RESOURCE = "io/tributary/testing/kafka/classpath.txt";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);

    private final Path folder;
    private final int port;
    private final int controllerPort;
    /** Users and passwords of the SASL listener; empty: no SASL listener, no authorizer. */
    private final Map<String, String> saslUsers;
    private final int saslPort;
    /** The password of {@link #trustStore()} and of the broker's key store, made for this broker. */
    private final String storePassword = java.util.UUID.randomUUID().toString();
    private Process process;

    private TestingKafka(Path folder, int port, int controllerPort, Map<String, String> saslUsers) {
        this.folder = folder;
        this.port = port;
        this.controllerPort = controllerPort;
        this.saslUsers = Map.copyOf(saslUsers);
        this.saslPort = saslUsers.isEmpty() ? -1 : Loopback.freePort();
    }

    /**
     * Formats a new single-node cluster in {@code folder}/data and starts it; its log goes to
     * {@code folder}/kafka.log.
     *
     * @throws IllegalStateException when the broker does not start within 90 s, naming the log
     */
    public static TestingKafka start(Path folder) {
        TestingKafka kafka = new TestingKafka(folder, Loopback.freePort(), Loopback.freePort(), Map.of());
        kafka.format();
        kafka.start();
        return kafka;
    }

    /**
     * As {@link #start(Path)}, with a {@code SASL_SSL} listener ({@code PLAIN}) that knows
     * {@code users} (name to password) and an authorizer that lets them do only what {@link #allow}
     * grants.
     */
    public static TestingKafka startWithSasl(Path folder, Map<String, String> users) {
        if (users.isEmpty()) {
            throw new IllegalArgumentException("no SASL user");
        }
        TestingKafka kafka = new TestingKafka(folder, Loopback.freePort(), Loopback.freePort(), users);
        kafka.makeCertificate();
        kafka.format();
        kafka.start();
        return kafka;
    }

    /** {@code host:port} of the SASL listener. */
    public String saslBootstrapServers() {
        if (saslUsers.isEmpty()) {
            throw new IllegalStateException("started without SASL");
        }
        return "127.0.0.1:" + saslPort;
    }

    /** The PKCS12 trust store holding the SASL listener's certificate, its password in {@link #saslClientProperties}. */
    public Path trustStore() {
        return folder.resolve("truststore.p12");
    }


    /**
     * The client settings of {@code user} with {@code password} on the SASL listener
     * ({@code security.protocol}, {@code sasl.*}, {@code ssl.truststore.*}).
     */
    public Map<String, String> saslClientProperties(String user, String password) {
        return Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "PLAIN", "sasl.jaas.config",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"" + user + "\" password=\"" + password + "\";",
                "ssl.truststore.location", trustStore().toAbsolutePath().toString(), "ssl.truststore.type", "PKCS12",
                "ssl.truststore.password", storePassword);
    }

    /** The broker's key pair and self-signed certificate for 127.0.0.1 (key store), and a trust store holding the certificate. */
    private void makeCertificate() {
        try {
            Files.createDirectories(folder);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path keyStore = folder.resolve("broker.p12");
        Path certificate = folder.resolve("broker.crt");
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "30", "-dname", "CN=127.0.0.1",
                "-ext", "SAN=IP:127.0.0.1,DNS:localhost", "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", storePassword);
        keytool("-exportcert", "-alias", "broker", "-keystore", keyStore.toString(), "-storepass", storePassword, "-rfc", "-file", certificate.toString());
        keytool("-importcert", "-noprompt", "-alias", "broker", "-file", certificate.toString(), "-storetype", "PKCS12", "-keystore",
                trustStore().toString(), "-storepass", storePassword);
    }

    private void keytool(String... args) {
        List<String> command = new ArrayList<>(List.of(System.getProperty("java.home") + File.separator + "bin" + File.separator + "keytool"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile())).start();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException("keytool " + args[0] + " failed; see " + log());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot run keytool", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Grants {@code user} the {@code operations} on the resources of {@code type} whose names start
     * with {@code prefix} (Kafka's {@code PREFIXED} pattern; {@code "*"} any name), and waits until
     * the authorizer holds them.
     */
    public void allow(String user, org.apache.kafka.common.resource.ResourceType type, String prefix, org.apache.kafka.common.acl.AclOperation... operations) {
        org.apache.kafka.common.resource.PatternType pattern = prefix.equals("*") ? org.apache.kafka.common.resource.PatternType.LITERAL
                : org.apache.kafka.common.resource.PatternType.PREFIXED;
        List<org.apache.kafka.common.acl.AclBinding> bindings = new ArrayList<>();
        for (org.apache.kafka.common.acl.AclOperation operation : operations) {
            bindings.add(new org.apache.kafka.common.acl.AclBinding(new org.apache.kafka.common.resource.ResourcePattern(type, prefix, pattern),
                    new org.apache.kafka.common.acl.AccessControlEntry("User:" + user, "*", operation, org.apache.kafka.common.acl.AclPermissionType.ALLOW)));
        }
        try (Admin admin = admin()) {
            admin.createAcls(bindings).all().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Cannot grant " + List.of(operations) + " on " + type + " " + prefix + " to " + user + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** {@code host:port} for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The broker's log file. */
    public Path log() {
        return folder.resolve("kafka.log");
    }

    /** Creates {@code topic} with {@code partitions} partitions (replication factor 1) and waits for it. */
    public void createTopic(String topic, int partitions) {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Cannot create topic " + topic + ": " + e.getMessage() + "; see " + log(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Deletes {@code topic} and waits for the deletion. */
    public void deleteTopic(String topic) {
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of(topic)).all().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Cannot delete topic " + topic + ": " + e.getMessage() + "; see " + log(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The topics of the cluster, internal ones left out. */
    public java.util.Set<String> topics() {
        try (Admin admin = admin()) {
            return admin.listTopics().names().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Cannot list topics: " + e.getMessage() + "; see " + log(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An admin client of the cluster; close it. */
    public Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "60000"));
    }

    private Path properties() {
        return folder.resolve("server.properties");
    }

    /** Writes the broker's configuration and formats its log directory as a new cluster (Kafka's {@code kafka-storage.sh format}). */
    private void format() {
        try {
            Files.createDirectories(folder.resolve("data"));
            Files.writeString(properties(), String.join("\n",
                    "process.roles=broker,controller",
                    "node.id=1",
                    "controller.quorum.voters=1@127.0.0.1:" + controllerPort,
                    "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort
                            + (saslUsers.isEmpty() ? "" : ",SASL_SSL://127.0.0.1:" + saslPort),
                    "advertised.listeners=PLAINTEXT://127.0.0.1:" + port + (saslUsers.isEmpty() ? "" : ",SASL_SSL://127.0.0.1:" + saslPort),
                    "controller.listener.names=CONTROLLER",
                    "inter.broker.listener.name=PLAINTEXT",
                    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL",
                    saslSettings(),
                    "log.dirs=" + folder.resolve("data").toAbsolutePath(),
                    "num.partitions=1",
                    "auto.create.topics.enable=false",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=4",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "transaction.state.log.num.partitions=4",
                    "share.coordinator.state.topic.replication.factor=1",
                    "share.coordinator.state.topic.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    // Small segments and quick clean-up: test data is tiny.
                    "log.segment.bytes=16777216",
                    ""));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the broker's configuration in " + folder, e);
        }
        List<String> command = java("-Xmx256m", "kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(), "-c",
                properties().toString());
        try {
            Process formatting = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile())).start();
            if (!formatting.waitFor(120, TimeUnit.SECONDS) || formatting.exitValue() != 0) {
                formatting.destroyForcibly();
                throw new IllegalStateException("Cannot format the Kafka log directory; see " + log());
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot format the Kafka log directory", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The authorizer and the SASL listener's users, or nothing. */
    private String saslSettings() {
        if (saslUsers.isEmpty()) {
            return "";
        }
        StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required");
        saslUsers.forEach((user, password) -> jaas.append(" user_").append(user).append("=\"").append(password).append('"'));
        jaas.append(';');
        return String.join("\n",
                "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
                // The plain listeners (this fixture's admin client, the broker and its controller) are anonymous.
                "super.users=User:ANONYMOUS",
                "sasl.enabled.mechanisms=PLAIN",
                "listener.name.sasl_ssl.plain.sasl.jaas.config=" + jaas,
                "listener.name.sasl_ssl.ssl.keystore.location=" + folder.resolve("broker.p12").toAbsolutePath(),
                "listener.name.sasl_ssl.ssl.keystore.type=PKCS12",
                "listener.name.sasl_ssl.ssl.keystore.password=" + storePassword,
                "listener.name.sasl_ssl.ssl.key.password=" + storePassword);
    }

    /** Starts the broker (again, after {@link #stop()}) and waits until it answers a metadata request. */
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        try {
            process = new ProcessBuilder(java("-Xmx512m", "kafka.Kafka", properties().toString())).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start Kafka", e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Kafka exited with " + process.exitValue() + "; see " + log());
            }
            if (Loopback.accepts(port)) {
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
                        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "5000", AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "5000"))) {
                    if (!admin.describeCluster().nodes().get(10, TimeUnit.SECONDS).isEmpty()) {
                        return;
                    }
                } catch (ExecutionException | java.util.concurrent.TimeoutException notYet) {
                    // the broker is still starting
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
            }
            Loopback.sleep(200, "Kafka");
        }
        throw new IllegalStateException("Kafka did not start within " + START_TIMEOUT.toSeconds() + " s; see " + log());
    }

    /** Stops the broker abruptly (SIGKILL), as a crashed machine would; {@link #start()} brings it back on the same ports and data. */
    public synchronized void stop() {
        ChildProcesses.kill(process);
    }

    @Override
    public void close() {
        stop();
    }

    private List<String> java(String heap, String mainClass, String... args) {
        List<String> command = new ArrayList<>(List.of(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java", heap,
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true", "-cp", classPath(), mainClass));
        command.addAll(List.of(args));
        return command;
    }

    private static String classPath() {
        return ChildProcesses.classPath(CLASS_PATH_RESOURCE, "tributary-testing-kafka");
    }
}
