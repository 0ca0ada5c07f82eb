package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.testing.TestingPostgres;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tributary run} as its own process: SIGTERM mid-stream commits what it has and exits 0, and a restart resumes exactly. */
class SigtermIT {
    @TempDir
    Path dir;

    @Test
    void sigtermStopsCleanlyAndRestartResumes() throws Exception {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("term");
            postgres.execute(db, "CREATE TABLE events (id bigint PRIMARY KEY, payload text)",
                    "INSERT INTO events SELECT g, 'p' || g FROM generate_series(1, 5000) g");
            Path config = dir.resolve("pipeline.yaml");
            Files.writeString(config, """
                    name: term
                    source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                    lake: {warehouse: ./lake}
                    commit: {interval: 300ms}
                    """.formatted(postgres.port(), db));
            Path log = dir.resolve("run.log");
            Process run = new ProcessBuilder(java(), "-cp", System.getProperty("java.class.path"), Main.class.getName(), "run", "-c", config.toString())
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            int next = 5001;
            while (!Files.readString(log).contains("Committed") && System.nanoTime() < deadline && run.isAlive()) {
                postgres.execute(db, "INSERT INTO events VALUES (" + next++ + ", 'live')");
            }
            for (int i = 0; i < 200; i++) {
                postgres.execute(db, "INSERT INTO events VALUES (" + next++ + ", 'live')");
            }
            assertThat(run.isAlive()).as(Files.readString(log)).isTrue();
            run.destroy();
            assertThat(run.waitFor(60, TimeUnit.SECONDS)).as("exited within 60 s").isTrue();
            assertThat(run.exitValue()).as(Files.readString(log)).isZero();

            postgres.execute(db, "UPDATE events SET payload = 'changed' WHERE id % 7 = 0", "DELETE FROM events WHERE id % 11 = 0");
            assertThat(Main.execute("run", "-c", config.toString(), "--once")).isZero();
            StringWriterResult count = sql(config, "SELECT count(*), count(*) FILTER (WHERE payload = 'changed') FROM silver.events");
            List<String> expected = postgres.query(db, "SELECT count(*)::text, count(*) FILTER (WHERE payload = 'changed')::text FROM events").get(0);
            assertThat(count.out().trim()).isEqualTo("count_star(),count_star() FILTER (WHERE (payload = 'changed'))\n" + expected.get(0) + "," + expected.get(1));
            StringWriterResult duplicates = sql(config, "SELECT count(*) - count(DISTINCT _position) AS duplicates FROM bronze.events");
            assertThat(duplicates.out().trim()).isEqualTo("duplicates\n0");
        }
    }

    record StringWriterResult(int code, String out) {
    }

    private static StringWriterResult sql(Path config, String query) {
        java.io.StringWriter out = new java.io.StringWriter();
        int code = Main.execute(new java.io.PrintWriter(out, true), new java.io.PrintWriter(new java.io.StringWriter(), true),
                "sql", "-c", config.toString(), "--format", "csv", query);
        return new StringWriterResult(code, out.toString().replace("\r", ""));
    }

    private static String java() {
        return System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    }
}
