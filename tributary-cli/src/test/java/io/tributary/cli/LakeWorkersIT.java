package io.tributary.cli;

import static io.tributary.cli.CliRun.tributary;
import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.commit.ShardState;
import io.tributary.query.QueryEngine;
import io.tributary.testing.ChildJvm;
import io.tributary.testing.TestingKafka;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, scale-out on Kafka: three lake workers ({@code source.workers: group}) share four
 * topics of a capture to Kafka through the consumer group; one is SIGKILLed mid-stream and the
 * others take its topics over from the lake's shard states. Afterwards every table holds every
 * change once (bronze), silver equals the source, history one version per change, and the
 * consistent view and {@code --as-of} read the lake as the source stands.
 */
class LakeWorkersIT {
    private static final String DB = "workers";
    private static final List<String> TABLES = List.of("accounts", "orders", "items", "payments");
    private static final int ROWS = 200;

    @TempDir
    static Path dir;
    private static TestingPostgres postgres;
    private static TestingKafka kafka;

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
        postgres.createDatabase(DB);
        for (String table : TABLES) {
            postgres.execute(DB, "CREATE TABLE " + table + " (id int PRIMARY KEY, n bigint NOT NULL)",
                    "INSERT INTO " + table + " SELECT g, 0 FROM generate_series(1, " + ROWS + ") g");
        }
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

    private static Path capture() throws Exception {
        Path file = dir.resolve("wcapture.yaml");
        Files.writeString(file, """
                name: wcapture
                source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable, tables: [%s]}
                sink: {type: kafka, bootstrap-servers: %s, topic-prefix: wk, partitions: 3}
                commit: {interval: 200ms}
                """.formatted(postgres.port(), DB, String.join(", ", TABLES.stream().map(t -> "public." + t).toList()), kafka.bootstrapServers()));
        return file;
    }

    private static Path worker() throws Exception {
        Path file = dir.resolve("wlake.yaml");
        Files.writeString(file, """
                name: wlake
                source:
                  type: kafka
                  bootstrap-servers: %s
                  topic-pattern: "wk\\\\.public\\\\..*"
                  workers: group
                  group-id: tributary-wlake
                  properties: {session.timeout.ms: "6000", heartbeat.interval.ms: "1000"}
                lake: {warehouse: ./wlake}
                commit: {interval: 200ms, max-events: 2000}
                """.formatted(kafka.bootstrapServers()));
        return file;
    }

    private static Lake lake() {
        return Lake.open(new LakeConfig(dir.resolve("wlake"), LakeConfig.RawLayer.ENABLED), "wlake", t -> TableOptions.DEFAULT);
    }

    private static List<List<Object>> query(String sql) {
        try (Lake lake = lake(); QueryEngine q = QueryEngine.open(lake.tables())) {
            return q.query(sql).rows();
        }
    }

    private static long count(String sql) {
        return ((Number) query(sql).get(0).get(0)).longValue();
    }

    /** The sum of n of every table in the lake's silver, as "table:sum"; tables not yet landed are left out. */
    private static List<String> silverSums() {
        try (Lake lake = lake()) {
            Set<String> present = new HashSet<>();
            lake.tables().forEach(t -> present.add(t.qualifiedName()));
            List<String> out = new ArrayList<>();
            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                for (String table : TABLES) {
                    if (present.contains("silver." + table)) {
                        out.add(table + ":" + q.query("SELECT count(*) || '/' || coalesce(sum(n), 0) FROM silver." + table).rows().get(0).get(0));
                    }
                }
            }
            return out;
        }
    }

    private static List<String> sourceSums() {
        List<String> out = new ArrayList<>();
        for (String table : TABLES) {
            out.add(table + ":" + postgres.queryOne(DB, "SELECT count(*) || '/' || coalesce(sum(n), 0) FROM " + table));
        }
        return out;
    }

    private static boolean consistentIsWatermark() {
        try (Lake lake = lake()) {
            return lake.committedState().map(s -> s.consistent().equals(s.watermark())).orElse(false);
        }
    }

    /** The pid of the worker holding each shard, for the shards held now. */
    private static Map<String, Long> owners() {
        try (Lake lake = lake()) {
            Map<String, Long> out = new java.util.TreeMap<>();
            for (ShardState s : lake.shardStates().values()) {
                s.lease().ifPresent(l -> out.put(s.name(), l.pid()));
            }
            return out;
        }
    }

    @Test
    void threeWorkersOneKilledMidStreamLandEveryChangeOnce() throws Exception {
        Path capture = capture();
        Path worker = worker();
        CliRun snapshot = tributary("run", "-c", capture.toString(), "--once");
        assertThat(snapshot.exitCode()).as(snapshot.err()).isZero();
        int transactions = 60;
        List<ChildJvm> workers = new ArrayList<>();
        try (ChildJvm captureRun = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", capture.toString()), dir.resolve("wcapture.log"))) {
            for (int i = 1; i <= 3; i++) {
                workers.add(ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", worker.toString()), dir.resolve("worker" + i + ".log")));
            }
            // Every worker holds a topic once the group settled, and the initial snapshot is in every table.
            KafkaTopics.awaitUntil(Duration.ofSeconds(180), () -> workers.stream().anyMatch(w -> !w.isAlive())
                    || new HashSet<>(owners().values()).size() == 3 && owners().size() == 4 && silverSums().equals(sourceSums()));
            assertThat(workers).as(logs()).allMatch(ChildJvm::isAlive);
            Map<String, Long> before = owners();
            assertThat(new HashSet<>(before.values())).as(logs()).hasSize(3);

            ChildJvm victim = null;
            for (int i = 0; i < transactions; i++) {
                StringBuilder tx = new StringBuilder("BEGIN;");
                for (String table : TABLES) {
                    tx.append(" UPDATE ").append(table).append(" SET n = n + 1 WHERE id % 3 = ").append(i % 3).append(';');
                }
                postgres.execute(DB, tx.append(" COMMIT;").toString());
                if (i == transactions / 3) {
                    // The worker holding two topics, once the stream's first updates are in the lake: mid-stream.
                    KafkaTopics.awaitUntil(Duration.ofSeconds(60), () -> count("SELECT count(*) FROM bronze." + TABLES.get(0) + " WHERE _op = 'u'") > 0);
                    Map<Long, Integer> shardsPerPid = new java.util.HashMap<>();
                    before.values().forEach(pid -> shardsPerPid.merge(pid, 1, Integer::sum));
                    long pid = shardsPerPid.entrySet().stream().filter(e -> e.getValue() == 2).findFirst().orElseThrow().getKey();
                    victim = workers.stream().filter(w -> w.pid() == pid).findFirst().orElseThrow();
                    victim.kill();
                }
            }
            assertThat(captureRun.stop(Duration.ofSeconds(60))).hasValue(0);
            // What the capture had not yet sent when it stopped.
            CliRun rest = tributary("run", "-c", capture.toString(), "--once");
            assertThat(rest.exitCode()).as(rest.err()).isZero();
            ChildJvm killed = victim;
            List<ChildJvm> survivors = workers.stream().filter(w -> w != killed).toList();
            KafkaTopics.awaitUntil(Duration.ofSeconds(180), () -> survivors.stream().anyMatch(w -> !w.isAlive()) || silverSums().equals(sourceSums()));
            assertThat(silverSums()).as(logs()).isEqualTo(sourceSums());
            // Idle workers record their topics caught up: readers' consistent position reaches the furthest table.
            KafkaTopics.awaitUntil(Duration.ofSeconds(30), LakeWorkersIT::consistentIsWatermark);
            assertThat(consistentIsWatermark()).as(logs()).isTrue();
            // The survivors took the dead worker's topics over: every topic is held by one of them.
            Set<Long> survivorPids = new HashSet<>();
            survivors.forEach(w -> survivorPids.add(w.pid()));
            assertThat(owners()).hasSize(4).allSatisfy((topic, pid) -> assertThat(survivorPids).contains(pid));
            for (ChildJvm w : survivors) {
                assertThat(w.stop(Duration.ofSeconds(60))).as(logs()).hasValue(0);
            }
        } finally {
            workers.forEach(ChildJvm::close);
        }
        String survivorLogs = Files.readString(dir.resolve("worker1.log")) + Files.readString(dir.resolve("worker2.log")) + Files.readString(dir.resolve("worker3.log"));
        assertThat(survivorLogs).contains("Took shard wk.public.", "presumed dead");

        long updatesPerTable = transactions * (long) ROWS / 3;
        for (String table : TABLES) {
            // Every change once in bronze, one history version per change, silver as the source.
            assertThat(query("SELECT count(*) FILTER (WHERE _op = 'r'), count(*) FILTER (WHERE _op = 'u'), count(DISTINCT _position) FROM bronze." + table))
                    .as(table).containsExactly(List.of((long) ROWS, updatesPerTable, ROWS + updatesPerTable));
            assertThat(count("SELECT count(*) FROM silver." + table + "_history")).as(table).isEqualTo(ROWS + updatesPerTable);
            assertThat(count("SELECT count(*) FROM silver." + table + "_history WHERE _is_current")).as(table).isEqualTo(ROWS);
        }
        try (Lake lake = lake()) {
            // Released at the clean stop, positions kept; the consistent view reads the lake as the source stands.
            assertThat(lake.shardStates()).hasSize(4).allSatisfy((topic, s) -> {
                assertThat(s.lease()).isEmpty();
                assertThat(s.tables()).hasSize(1);
                assertThat(s.offset()).isPresent();
            });
            var view = lake.consistentView();
            try (QueryEngine q = QueryEngine.open(view.tables());
                 QueryEngine asOf = QueryEngine.openAsOf(view.tables(), Instant.now())) {
                for (String table : TABLES) {
                    String expected = postgres.queryOne(DB, "SELECT sum(n) FROM " + table);
                    assertThat(q.query("SELECT sum(n) FROM silver." + table).rows().get(0).get(0).toString()).as(table).isEqualTo(expected);
                    assertThat(asOf.query("SELECT sum(n) FROM silver." + table).rows().get(0).get(0).toString()).as(table).isEqualTo(expected);
                }
            }
        }
        // status shows each shard; the lake's merged offsets leave no lag.
        CliRun status = tributary("status", "-c", worker.toString(), "--json");
        assertThat(status.exitCode()).as(status.err()).isZero();
        com.fasterxml.jackson.databind.JsonNode report = new com.fasterxml.jackson.databind.ObjectMapper().readTree(status.out());
        assertThat(report.path("shards")).as(status.out()).hasSize(4);
        assertThat(report.path("lagRecords").asLong()).as(status.out()).isZero();
    }

    @Test
    void workersWithOnceLandEverythingAndExit() throws Exception {
        Path capture = capture();
        CliRun snapshot = tributary("run", "-c", capture.toString(), "--once");
        assertThat(snapshot.exitCode()).as(snapshot.err()).isZero();
        // A lake of its own, landed by two workers started together, each with --once.
        Path once = dir.resolve("wonce.yaml");
        Files.writeString(once, Files.readString(worker()).replace("name: wlake", "name: wonce").replace("./wlake", "./wonce")
                .replace("tributary-wlake", "tributary-wonce"));
        try (ChildJvm first = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", once.toString(), "--once"), dir.resolve("once1.log"));
             ChildJvm second = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", once.toString(), "--once"), dir.resolve("once2.log"))) {
            assertThat(first.waitFor(Duration.ofSeconds(180))).as(tail(Files.readString(dir.resolve("once1.log")))).hasValue(0);
            assertThat(second.waitFor(Duration.ofSeconds(180))).as(tail(Files.readString(dir.resolve("once2.log")))).hasValue(0);
        }
        long updates = KafkaTopics.readAll(kafka.bootstrapServers(), TABLES.stream().map(t -> "wk.public." + t).toList()).stream()
                .filter(r -> r.value() != null).count();
        try (Lake lake = Lake.open(new LakeConfig(dir.resolve("wonce"), LakeConfig.RawLayer.ENABLED), "wonce", t -> TableOptions.DEFAULT);
             QueryEngine q = QueryEngine.open(lake.tables())) {
            long landed = 0;
            for (String table : TABLES) {
                landed += ((Number) q.query("SELECT count(*) FROM bronze." + table).rows().get(0).get(0)).longValue();
                assertThat(q.query("SELECT count(*) || '/' || sum(n) FROM silver." + table).rows().get(0).get(0).toString()).as(table)
                        .isEqualTo(postgres.queryOne(DB, "SELECT count(*) || '/' || sum(n) FROM " + table));
            }
            assertThat(landed).as("every change event in Kafka, once").isEqualTo(updates);
            assertThat(lake.shardStates()).hasSize(4).allSatisfy((topic, s) -> assertThat(s.lease()).isEmpty());
        }
    }

    private static String logs() {
        StringBuilder out = new StringBuilder();
        for (int i = 1; i <= 3; i++) {
            try {
                out.append("\n--- worker").append(i).append(":\n").append(tail(Files.readString(dir.resolve("worker" + i + ".log"))));
            } catch (java.io.IOException e) {
                out.append(e);
            }
        }
        return out.toString();
    }

    /** The end of a worker's log, without logback's own start-up lines. */
    private static String tail(String log) {
        String lines = String.join("\n", log.lines().filter(l -> !l.contains("|-INFO in ch.qos") && !l.contains("|-WARN in ch.qos")).toList());
        return lines.length() <= 8000 ? lines : lines.substring(lines.length() - 8000);
    }

}
