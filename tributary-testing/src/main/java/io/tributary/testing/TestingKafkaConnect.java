package io.tributary.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A real Apache Kafka Connect worker for tests: one worker in distributed mode (Kafka 4.1.1 from its
 * Maven artifacts, {@code org.apache.kafka.connect.cli.ConnectDistributed}) with Debezium's
 * PostgreSQL connector on its class path, run as a child JVM whose REST API listens on loopback at a
 * free port. Its configuration and log file live in a folder; its configuration, offset and status
 * topics (replication factor 1) on the broker it is given, named after a group id of its own, so
 * several workers can share a broker. Keys and values are written by Kafka's {@code JsonConverter}
 * with schemas ({@code {"schema": …, "payload": …}}). The worker's class path is the one {@code
 * tributary-testing-kafka-connect} resolves, never the test's (a test module depends on that module
 * with every transitive dependency excluded, which orders the reactor and puts its class path file
 * on the test class path). Connectors are found on that class path through their service
 * manifests; there is no {@code plugin.path}.
 */
public final class TestingKafkaConnect implements AutoCloseable {
    private static final String CLASS_PATH_RESOURCE = "io/tributary/testing/kafka/connect/classpath.txt";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    // Creating a connector validates its configuration first; Debezium's validation connects to the database.
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final Path folder;
    private final int port;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Process process;

    private TestingKafkaConnect(Path folder, int port) {
        this.folder = folder;
        this.port = port;
    }

    /**
     * Writes the worker's configuration to {@code folder}/connect.properties, starts it against the
     * broker at {@code bootstrapServers} ({@code host:port}[,…]) and waits until its REST API reports
     * it healthy ({@code GET /health}: the worker has joined its group and read its configuration
     * topic); its log goes to {@code folder}/connect.log.
     *
     * @throws IllegalStateException when the worker exits or is not healthy within 90 s, naming the log
     */
    public static TestingKafkaConnect start(Path folder, String bootstrapServers) {
        TestingKafkaConnect connect = new TestingKafkaConnect(folder, Loopback.freePort());
        connect.configure(bootstrapServers);
        connect.launch();
        return connect;
    }

    /** The REST API's base URL, {@code http://127.0.0.1:<port>}, without a trailing slash. */
    public String restUrl() {
        return "http://127.0.0.1:" + port;
    }

    /** The worker's log file. */
    public Path log() {
        return folder.resolve("connect.log");
    }

    /**
     * Creates connector {@code name} with {@code config} (Connect's connector properties: {@code
     * connector.class}, {@code tasks.max}, the connector's own) by {@code POST /connectors}; the worker
     * validates the configuration first and starts the connector in the background (see {@link
     * #awaitRunning}).
     *
     * @throws IllegalStateException when the worker refuses (a 4xx or 5xx answer, whose body with the
     *                               validation errors the message holds) or does not answer within 60 s
     */
    public void createConnector(String name, Map<String, String> config) {
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("name", name);
        request.put("config", config);
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/connectors")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json(request))), "create connector " + name);
        if (response.statusCode() != 201) {
            throw new IllegalStateException("Cannot create connector " + name + ": HTTP " + response.statusCode() + " " + response.body() + "; see " + log());
        }
    }

    /**
     * Waits until connector {@code name} and every one of its tasks (at least one) are {@code RUNNING},
     * polling {@code GET /connectors/<name>/status} every 200 ms. A task is {@code RUNNING} once its
     * {@code start} returned: for Debezium's PostgreSQL connector the replication slot exists then, the
     * initial snapshot may still be under way.
     *
     * @throws IllegalStateException when the connector or a task is {@code FAILED} (the message holds
     *                               its stack trace as Connect reports it), when the worker exits, or
     *                               when {@code timeout} passes (the message holds the last status)
     */
    public void awaitRunning(String name, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = "no status yet";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Kafka Connect exited with " + process.exitValue() + " while connector " + name + " started; see " + log());
            }
            HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/connectors/" + encode(name) + "/status")).GET(),
                    "read the status of connector " + name);
            last = "HTTP " + response.statusCode() + " " + response.body();
            // 404 until the worker has read the new configuration back from its configuration topic.
            if (response.statusCode() == 200 && running(name, tree(response.body()))) {
                return;
            }
            Loopback.sleep(200, "connector " + name);
        }
        throw new IllegalStateException("Connector " + name + " was not RUNNING within " + timeout.toSeconds() + " s, last status: " + last + "; see " + log());
    }

    /** Whether the connector and its tasks all run; throws with the trace of the first that failed. */
    private boolean running(String name, JsonNode status) {
        JsonNode connector = status.path("connector");
        if ("FAILED".equals(connector.path("state").asText())) {
            throw new IllegalStateException("Connector " + name + " FAILED: " + connector.path("trace").asText() + "; see " + log());
        }
        JsonNode tasks = status.path("tasks");
        boolean allRunning = tasks.size() > 0;
        for (JsonNode task : tasks) {
            if ("FAILED".equals(task.path("state").asText())) {
                throw new IllegalStateException("Task " + task.path("id").asText() + " of connector " + name + " FAILED: " + task.path("trace").asText() + "; see " + log());
            }
            allRunning &= "RUNNING".equals(task.path("state").asText());
        }
        return "RUNNING".equals(connector.path("state").asText()) && allRunning;
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private JsonNode tree(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new IllegalStateException("Kafka Connect answered with something other than JSON: " + body + "; see " + log(), e);
        }
    }

    /**
     * Deletes connector {@code name} ({@code DELETE /connectors/<name>}). The worker stops its tasks
     * after answering: a replication slot a task held turns inactive shortly after, not at once.
     *
     * @throws IllegalStateException when there is no such connector or the worker refuses
     */
    public void deleteConnector(String name) {
        HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/connectors/" + encode(name))).DELETE(), "delete connector " + name);
        if (response.statusCode() != 204) {
            throw new IllegalStateException("Cannot delete connector " + name + ": HTTP " + response.statusCode() + " " + response.body() + "; see " + log());
        }
    }

    private URI uri(String path) {
        return URI.create(restUrl() + path);
    }

    private static String encode(String name) {
        return URLEncoder.encode(name, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private HttpResponse<String> send(HttpRequest.Builder request, String action) {
        try {
            return http.send(request.timeout(REQUEST_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("Cannot " + action + ": " + e + "; see " + log(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while trying to " + action, e);
        }
    }

    private Path properties() {
        return folder.resolve("connect.properties");
    }

    private Path logConfiguration() {
        return folder.resolve("connect-log4j2.properties");
    }

    private void configure(String bootstrapServers) {
        String group = "tributary-connect-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            Files.createDirectories(folder);
            Files.writeString(properties(), String.join("\n",
                    "bootstrap.servers=" + bootstrapServers,
                    "group.id=" + group,
                    "config.storage.topic=" + group + "-config",
                    "offset.storage.topic=" + group + "-offsets",
                    "status.storage.topic=" + group + "-status",
                    "config.storage.replication.factor=1",
                    "offset.storage.replication.factor=1",
                    "status.storage.replication.factor=1",
                    // Kafka's defaults (25 and 5) only slow the start down on one broker.
                    "offset.storage.partitions=1",
                    "status.storage.partitions=1",
                    "key.converter=org.apache.kafka.connect.json.JsonConverter",
                    "value.converter=org.apache.kafka.connect.json.JsonConverter",
                    "key.converter.schemas.enable=true",
                    "value.converter.schemas.enable=true",
                    "listeners=http://127.0.0.1:" + port,
                    "rest.advertised.host.name=127.0.0.1",
                    "rest.advertised.port=" + port,
                    // Every plugin on the class path has a service manifest (KIP-898), so the
                    // reflective scan of every jar, seconds at each start, is skipped.
                    "plugin.discovery=service_load",
                    // Source offsets (Debezium's LSN) reach the offset topic within a second.
                    "offset.flush.interval.ms=1000",
                    ""));
            Files.writeString(logConfiguration(), String.join("\n",
                    "rootLogger.level=INFO",
                    "rootLogger.appenderRef.stdout.ref=STDOUT",
                    "appender.stdout.type=Console",
                    "appender.stdout.name=STDOUT",
                    "appender.stdout.layout.type=PatternLayout",
                    "appender.stdout.layout.pattern=[%d] %p %m (%c)%n",
                    ""));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot write the Kafka Connect worker's configuration in " + folder, e);
        }
    }

    private void launch() {
        List<String> command = new ArrayList<>(List.of(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java", "-Xmx512m",
                "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Djava.awt.headless=true",
                "-Dlog4j2.configurationFile=" + logConfiguration().toAbsolutePath(), "-cp", classPath(),
                "org.apache.kafka.connect.cli.ConnectDistributed", properties().toString()));
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start Kafka Connect; see " + log(), e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        String last = "no answer";
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("Kafka Connect exited with " + process.exitValue() + "; see " + log());
            }
            if (Loopback.accepts(port)) {
                HttpResponse<String> response = send(HttpRequest.newBuilder(uri("/health")).GET(), "ask Kafka Connect for its health");
                // 503 while the worker starts, 200 once it has joined its group.
                if (response.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + response.statusCode() + " " + response.body();
            }
            Loopback.sleep(200, "Kafka Connect");
        }
        stop();
        throw new IllegalStateException("Kafka Connect was not healthy within " + START_TIMEOUT.toSeconds() + " s (" + last + "); see " + log());
    }

    /** Stops the worker abruptly (SIGKILL), as a crashed machine would; its connectors' tasks end without committing offsets. */
    public synchronized void stop() {
        ChildProcesses.kill(process);
    }

    @Override
    public void close() {
        stop();
    }

    private static String classPath() {
        return ChildProcesses.classPath(CLASS_PATH_RESOURCE, "tributary-testing-kafka-connect");
    }
}
