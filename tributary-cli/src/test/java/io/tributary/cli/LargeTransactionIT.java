package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.spi.CrashPoint;
import io.tributary.source.postgres.Lsn;
import io.tributary.spi.SourcePosition;
import io.tributary.testing.ChildJvm;
import io.tributary.testing.TestingPostgres;
import java.io.BufferedWriter;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;

/**
 * One transaction inserting millions of rows and one row holding a 100 MB text value, streamed by
 * {@code tributary run --once} in a child JVM limited to a 1 GiB heap: it must finish (exit 0, no
 * {@code OutOfMemoryError}), the large transaction must have been spilled to disk and committed
 * across several micro-batches, silver must equal the source (count and order-independent
 * checksum), bronze must hold each change once, and the 100 MB value must come back exactly (md5)
 * from silver, bronze and the raw layer. The row count is {@code -Dtributary.large-transaction.rows}
 * (default 5,000,000); the child prints its peak heap. A second, smaller case kills the pipeline
 * after part of a large transaction is committed: the restart completes it exactly once.
 */
class LargeTransactionIT {
    private static final int ROWS = Integer.getInteger("tributary.large-transaction.rows", 5_000_000);
    /** 3,276,800 md5 hex digests of 32 characters: 100 MiB of text that compresses poorly. */
    private static final int DIGESTS = 3_276_800;
    private static final Pattern COMMITTED = Pattern.compile("Committed (\\d+) change events");
    private static final Pattern PEAK = Pattern.compile("Peak heap: .*");

    private Path dir;

    /** Creates the {@code items} table in a new database {@code db} and takes its (empty) initial snapshot; returns the pipeline file. */
    private Path snapshotEmptyItems(TestingPostgres postgres, String db, int maxEvents) throws Exception {
        postgres.createDatabase(db);
        postgres.execute(db, "CREATE TABLE items (id bigint PRIMARY KEY, grp int NOT NULL, label text, amount numeric(12,2))");
        Path config = dir.resolve("pipeline.yaml");
        Files.writeString(config, """
                name: bigtx
                source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                lake: {warehouse: ./lake}
                commit: {max-events: %d}
                """.formatted(postgres.port(), db, maxEvents));
        run(config, dir.resolve("run-snapshot.log"), Duration.ofMinutes(3));
        return config;
    }

    /** Kept after the run for a post-mortem: the logs and the lake. */
    private void cleanDirectory(String name) throws Exception {
        dir = Path.of("target", name).toAbsolutePath();
        if (Files.exists(dir)) {
            try (Stream<Path> old = Files.walk(dir)) {
                old.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Files.createDirectories(dir);
    }

    @Test
    void resumesTransactionCommittedPartlyBeforeCrash() throws Exception {
        cleanDirectory("large-transaction-crash");
        int rows = 30_000;
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = "bigtxcrash";
            Path config = snapshotEmptyItems(postgres, db, 5000);
            postgres.execute(db, "INSERT INTO items SELECT i, i % 1000, 'item ' || i, (i % 100000) / 100.0 FROM generate_series(1, " + rows + ") i");
            postgres.execute(db, "UPDATE items SET label = label || ' updated', amount = amount + 1 WHERE id <= 3");

            // Dies right after the third micro-batch of the insert transaction is recorded.
            run(config, dir.resolve("run-crash.log"), Duration.ofMinutes(3), List.of("-D" + CrashPoint.PROPERTY + "=" + CrashPoint.WATERMARK_RECORDED + "@3"),
                    CrashPoint.EXIT_CODE);
            SourcePosition watermark;
            try (Lake lake = openLake()) {
                watermark = lake.committedState().orElseThrow().watermark();
            }
            Lsn confirmed = Lsn.parse(postgres.queryOne(db, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'tributary_bigtx'"));
            // The third recorded watermark: the insert's third micro-batch, or its second when a
            // heartbeat's watermark-only commit came before the insert's first (seen once with
            // Debezium 3.6.1 on a busy machine: watermarks recorded at 0/1BAD958#0, then #4999, #9999).
            assertThat(watermark.eventIndex()).as("watermark %s inside the insert transaction", watermark).isIn(2 * 5000 - 1L, 3 * 5000 - 1L);
            assertThat(confirmed).as("slot acknowledged before the partly committed transaction").isLessThan(Lsn.of(watermark));

            run(config, dir.resolve("run-resume.log"), Duration.ofMinutes(3));
            assertItemsEqual(postgres, db, rows);
            try (Lake lake = openLake(); QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(q.query("SELECT count(*), count(DISTINCT _position), count(DISTINCT substr(_position, 1, 16)) FILTER (WHERE _op = 'c'), "
                        + "min(_position) FILTER (WHERE _op = 'c') FROM bronze.items").rows().get(0))
                        .as("bronze.items: every change once, the insert transaction at the crashed watermark's commit LSN")
                        .containsExactly((long) rows + 3, (long) rows + 3, 1L, Lsn.of(watermark).position(0).encoded());
            }
            postgres.dropInactiveSlots();
        }
    }

    @Test
    void stopsBetweenMicroBatchesOfLargeTransactionOnSigterm() throws Exception {
        cleanDirectory("large-transaction-sigterm");
        int rows = 200_000;
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = "bigtxterm";
            Path config = snapshotEmptyItems(postgres, db, 2000);
            postgres.execute(db, "INSERT INTO items SELECT i, i % 1000, 'item ' || i, (i % 100000) / 100.0 FROM generate_series(1, " + rows + ") i");

            Path log = dir.resolve("run-term.log");
            Process run = new ProcessBuilder(System.getProperty("java.home") + "/bin/java", "-Xmx1g", "-cp", System.getProperty("java.class.path"),
                    Main.class.getName(), "run", "-c", config.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
                // Polls the log, waiting on the process between looks (it must not exit on its own).
                while (!Files.readString(log).contains("Committed 2000 change events") && System.nanoTime() < deadline
                        && !run.waitFor(100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
                    continue;
                }
                assertThat(run.isAlive()).as("still running the transaction's micro-batches; log %s", log).isTrue();
                run.destroy();
                assertThat(run.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("exited within 30 s of SIGTERM; log %s", log).isTrue();
                assertThat(run.exitValue()).as("exit code; log %s", log).isZero();
            } finally {
                run.destroyForcibly();
            }
            long commits = COMMITTED.matcher(Files.readString(log)).results().count();
            assertThat(commits).as("stopped part-way through the transaction's %d micro-batches", rows / 2000).isLessThan(rows / 2000);

            run(config, dir.resolve("run-resume.log"), Duration.ofMinutes(3));
            assertItemsEqual(postgres, db, rows);
            try (Lake lake = openLake(); QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(q.query("SELECT count(*), count(DISTINCT _position) FROM bronze.items").rows().get(0)).containsExactly((long) rows, (long) rows);
            }
            postgres.dropInactiveSlots();
        }
    }

    @Test
    void streamsHugeTransactionAndHugeValueInBoundedHeap() throws Exception {
        cleanDirectory("large-transaction");
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("bigtx");
            postgres.execute(db,
                    "CREATE TABLE items (id bigint PRIMARY KEY, grp int NOT NULL, label text, amount numeric(12,2))",
                    "CREATE TABLE documents (id int PRIMARY KEY, body text)");
            Path config = dir.resolve("pipeline.yaml");
            Files.writeString(config, """
                    name: bigtx
                    source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                    lake: {warehouse: ./lake}
                    """.formatted(postgres.port(), db));
            // First run: the (empty) initial snapshot, so the rest is streamed as transactions.
            run(config, dir.resolve("run-snapshot.log"), Duration.ofMinutes(3));

            long generate = System.nanoTime();
            postgres.execute(db, "INSERT INTO documents SELECT 1, string_agg(md5(i::text), '' ORDER BY i) FROM generate_series(1, " + DIGESTS + ") i");
            postgres.execute(db, "INSERT INTO items SELECT i, i % 1000, 'item ' || i, (i % 100000) / 100.0 FROM generate_series(1, " + ROWS + ") i");
            postgres.execute(db, "UPDATE items SET label = label || ' updated', amount = amount + 1 WHERE id <= 3");
            System.out.printf("LargeTransactionIT: %,d rows and a %,d-character value written in %d s%n", ROWS, DIGESTS * 32,
                    Duration.ofNanos(System.nanoTime() - generate).toSeconds());

            Path log = dir.resolve("run-stream.log");
            long start = System.nanoTime();
            run(config, log, Duration.ofMinutes(20));
            String output = Files.readString(log);
            Matcher peak = PEAK.matcher(output);
            assertThat(peak.find()).as("peak heap reported; log %s", log).isTrue();
            System.out.printf("LargeTransactionIT: streamed %,d change events in %d s with -Xmx1g; %s%n", ROWS + 4,
                    Duration.ofNanos(System.nanoTime() - start).toSeconds(), peak.group());
            assertThat(output).doesNotContain("OutOfMemoryError").contains("spilling it to a temporary file");
            Matcher commits = COMMITTED.matcher(output);
            long micro = 0;
            while (commits.find()) {
                assertThat(Long.parseLong(commits.group(1))).as("events in one micro-batch").isLessThanOrEqualTo(100_000L);
                micro++;
            }
            assertThat(micro).as("micro-batches").isGreaterThanOrEqualTo(ROWS / 100_000);

            assertLakeEqualsSource(postgres, db);
            postgres.dropInactiveSlots();
        }
    }

    private static void run(Path config, Path log, Duration timeout) throws Exception {
        run(config, log, timeout, List.of(), 0);
    }

    private static void run(Path config, Path log, Duration timeout, List<String> jvmArgs, int exitCode) throws Exception {
        List<String> args = new java.util.ArrayList<>(List.of("-XX:+UseParallelGC", "-D" + HeapReport.PROPERTY + "=true",
                "-Xlog:gc*:file=" + log.resolveSibling(log.getFileName() + ".gc")));
        args.addAll(jvmArgs);
        try (ChildJvm run = ChildJvm.start(Main.class.getName(), args, List.of("run", "-c", config.toString(), "--once"), log)) {
            OptionalInt exit = run.waitFor(timeout);
            assertThat(exit).as("run finished within %s; log %s", timeout, log).isPresent();
            assertThat(exit.getAsInt()).as("exit code; log %s", log).isEqualTo(exitCode);
        }
    }

    private Lake openLake() {
        return Lake.open(new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED), "bigtx", t -> TableOptions.DEFAULT);
    }

    /** silver.items equals items: row count and an order-independent checksum of every column, computed by PostgreSQL. */
    private void assertItemsEqual(TestingPostgres postgres, String db, int rows) throws Exception {
        String checksum = "SELECT count(*)::text, sum(hashtext(id::text || '|' || grp::text || '|' || coalesce(label, '<null>') || '|' || coalesce(amount::text, '<null>'))::bigint)::text FROM %s";
        List<String> expected = postgres.query(db, checksum.formatted("items")).get(0);
        Path export = dir.resolve("silver-items.tsv");
        try (Lake lake = openLake(); QueryEngine q = QueryEngine.open(lake.tables())) {
            // 5 million rows do not fit a checksum through JDBC batches: export silver, load it with COPY.
            long exported = q.stream("SELECT id, grp, label, amount FROM silver.items", rs -> {
                long n = 0;
                try (BufferedWriter out = Files.newBufferedWriter(export)) {
                    while (rs.next()) {
                        out.write(rs.getLong(1) + "\t" + rs.getInt(2) + "\t" + text(rs.getString(3)) + "\t" + text(rs.getBigDecimal(4) == null ? null : rs.getBigDecimal(4).toPlainString()) + "\n");
                        n++;
                    }
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return n;
            });
            assertThat(exported).isEqualTo(rows);
        }
        postgres.execute(db, "CREATE TABLE scratch_items (LIKE items)", "COPY scratch_items FROM '" + export + "'");
        assertThat(postgres.query(db, checksum.formatted("scratch_items")).get(0)).as("silver.items vs items").isEqualTo(expected);
        postgres.execute(db, "DROP TABLE scratch_items");
        Files.delete(export);
    }

    private void assertLakeEqualsSource(TestingPostgres postgres, String db) throws Exception {
        assertItemsEqual(postgres, db, ROWS);
        List<String> document = postgres.query(db, "SELECT md5(body), length(body)::text FROM documents").get(0);
        try (Lake lake = openLake(); QueryEngine q = QueryEngine.open(lake.tables())) {

            assertThat(q.query("SELECT count(*), count(DISTINCT _position), count(*) FILTER (WHERE _op = 'c'), count(*) FILTER (WHERE _op = 'u'), "
                    + "count(DISTINCT substr(_position, 1, 16)) FILTER (WHERE _op = 'c'), max(_position) FILTER (WHERE _op = 'c') FROM bronze.items").rows().get(0))
                    .as("bronze.items: one row per change, the insert transaction at one commit LSN with indexes 0..n-1")
                    .containsExactly((long) ROWS + 3, (long) ROWS + 3, (long) ROWS, 3L, 1L,
                            q.query("SELECT min(_position) FROM bronze.items WHERE _op = 'c'").rows().get(0).get(0).toString().substring(0, 17)
                                    + String.format("%012d", ROWS - 1));

            assertThat(q.query("SELECT md5(body), length(body)::VARCHAR FROM silver.documents").rows())
                    .as("the 100 MB value in silver").containsExactly(List.of(document.get(0), document.get(1)));
            assertThat(q.query("SELECT md5(body), count(*) OVER () FROM bronze.documents").rows())
                    .as("the 100 MB value in bronze, once").containsExactly(List.of(document.get(0), 1L));
        }
        assertThat(rawBodyMd5()).as("the 100 MB value in the raw layer").isEqualTo(document.get(0));
    }

    /** The md5 of {@code after.body} in the raw layer's one documents event. */
    private String rawBodyMd5() throws Exception {
        Path file;
        try (Stream<Path> files = Files.walk(dir.resolve("lake").resolve("raw").resolve("documents"))) {
            List<Path> found = files.filter(p -> p.toString().endsWith(".ndjson.gz")).toList();
            assertThat(found).hasSize(1);
            file = found.get(0);
        }
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file)); JsonParser parser = JsonFactory.builder()
                .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder().maxStringLength(Integer.MAX_VALUE).build()).build().createParser(in)) {
            int depth = 0;
            boolean inAfter = false;
            for (JsonToken token = parser.nextToken(); token != null; token = parser.nextToken()) {
                if (token == JsonToken.START_OBJECT) {
                    depth++;
                } else if (token == JsonToken.END_OBJECT) {
                    depth--;
                    inAfter &= depth >= 2;
                } else if (token == JsonToken.FIELD_NAME && depth == 1 && "after".equals(parser.currentName())) {
                    inAfter = true;
                } else if (token == JsonToken.VALUE_STRING && inAfter && depth == 2 && "body".equals(parser.currentName())) {
                    byte[] digest = MessageDigest.getInstance("MD5").digest(parser.getText().getBytes(StandardCharsets.UTF_8));
                    return HexFormat.of().formatHex(digest);
                }
            }
        }
        throw new AssertionError("No after.body in " + file);
    }

    /** PostgreSQL COPY text format: null as \N (the values here hold no tabs, newlines or backslashes). */
    private static String text(String value) {
        return value == null ? "\\N" : value;
    }
}
