package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.spi.CrashPoint;
import io.tributary.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A files source killed at every point of its commit path, and at random moments, while the
 * landing folder fills with Online Retail days: micro-batches of 1,000 rows cut most files in
 * several, so deaths fall mid-file. After a last clean run, every row of every file is in bronze
 * exactly once and silver's per-day counts and sums equal DuckDB's reading of the files.
 */
class FilesCrashIT {
    private static final Path DATA = Path.of(System.getProperty("tributary.shared.data", "../../shared/data"), "online-retail", "by-day");
    private static final List<String> CRASH_POINTS = List.of(CrashPoint.FILES_WRITTEN, CrashPoint.TABLE_COMMITTED, CrashPoint.TABLES_COMMITTED,
            CrashPoint.WATERMARK_RECORDED);

    @Test
    void everyRowOnceAfterDeathsMidFile() throws Exception {
        long seed = Long.getLong("tributary.crash.seed", System.nanoTime());
        Path dir = Path.of("target", "files-crash", Long.toString(seed)).toAbsolutePath();
        Files.createDirectories(dir.resolve("landing/by-day"));
        System.out.printf("FilesCrashIT seed %d, logs in %s%n", seed, dir);
        Random random = new Random(seed);
        List<Path> days;
        try (Stream<Path> files = Files.list(DATA)) {
            days = files.filter(p -> p.toString().endsWith(".csv")).sorted().limit(40).toList();
        }
        Path config = dir.resolve("pipeline.yaml");
        Files.writeString(config, """
                name: files
                source:
                  type: files
                  path: ./landing
                  tables:
                    retail:
                      pattern: "by-day/*.csv"
                      format: csv
                      types: {InvoiceNo: varchar, StockCode: varchar, UnitPrice: "decimal(10,3)"}
                      date-from-path: "by-day/{date}.csv"
                lake: {warehouse: ./lake}
                commit: {interval: 200ms, max-events: 1000}
                """);
        int landed = 0;
        int deaths = 0;
        int kills = 0;
        for (int i = 0; i < 10; i++) {
            // The folder grows between runs: four more days each time.
            for (int n = 0; n < 4 && landed < days.size(); n++, landed++) {
                Files.copy(days.get(landed), dir.resolve("landing/by-day").resolve(days.get(landed).getFileName()));
            }
            Path log = dir.resolve("run-" + i + ".log");
            String point = i % 2 == 0 ? CRASH_POINTS.get(random.nextInt(CRASH_POINTS.size())) + "@" + (1 + random.nextInt(4)) : null;
            try (ChildJvm run = ChildJvm.start(Main.class.getName(), point == null ? List.of() : List.of("-D" + CrashPoint.PROPERTY + "=" + point),
                    List.of("run", "-c", config.toString(), "--once"), log)) {
                if (point != null) {
                    OptionalInt exit = run.waitFor(Duration.ofSeconds(120));
                    assertThat(exit).as("run %d should halt at %s; log %s", i, point, log).isPresent();
                    assertThat(exit.getAsInt()).as("run %d exit code; log: %s", i, Files.readString(log)).isEqualTo(CrashPoint.EXIT_CODE);
                } else {
                    // Killed at a random moment after its first commit (it may have finished: then nothing is killed).
                    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
                    while (run.isAlive() && !Files.readString(log).contains("Committed") && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    run.waitFor(Duration.ofMillis(random.nextInt(1_500)));
                    if (run.isAlive()) {
                        run.kill();
                        kills++;
                    }
                }
                deaths++;
            }
        }
        try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", config.toString(), "--once"), dir.resolve("run-final.log"))) {
            OptionalInt exit = run.waitFor(Duration.ofSeconds(300));
            assertThat(exit).as("final run; log %s", dir.resolve("run-final.log")).hasValue(0);
        }
        System.out.printf("FilesCrashIT: %d deaths (%d by SIGKILL after a commit) over %d landed days%n", deaths, kills, landed);
        assertThat(kills).as("runs killed mid-run").isGreaterThan(0);
        String perDay = "SELECT _source_date, count(*), CAST(sum(quantity * unit_price) AS DECIMAL(18,3)) FROM %s GROUP BY 1 ORDER BY 1";
        List<List<Object>> expected = duck(String.format(perDay.replace("_source_date", "CAST(regexp_extract(filename, '(\\d{4}-\\d{2}-\\d{2})', 1) AS DATE)"),
                "(SELECT filename, Quantity AS quantity, UnitPrice AS unit_price FROM read_csv('" + dir.resolve("landing/by-day") + "/*.csv', filename = true, "
                        + "header = true, types = {'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'UnitPrice': 'DECIMAL(10,3)'}))"));
        assertThat(expected).hasSize(40);
        try (Lake lake = Lake.open(new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED), "files", t -> io.tributary.config.TableOptions.DEFAULT);
             QueryEngine q = QueryEngine.open(lake.tables())) {
            assertThat(text(q.query(String.format(perDay, "silver.retail")).rows())).isEqualTo(expected);
            assertThat(q.query("SELECT count(*) - count(DISTINCT (_source_file, _source_row)), count(*) - count(DISTINCT _position) FROM bronze.retail").rows())
                    .as("a row twice in bronze").containsExactly(List.of(0L, 0L));
            assertThat(text(q.query(String.format(perDay, "bronze.retail")).rows())).isEqualTo(expected);
        }
    }

    private static List<List<Object>> text(List<List<Object>> rows) {
        return rows.stream().map(r -> r.stream().map(v -> v == null ? null : (Object) v.toString()).toList()).toList();
    }

    private static List<List<Object>> duck(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<List<Object>> out = new ArrayList<>();
            while (rs.next()) {
                List<Object> row = new ArrayList<>();
                for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                    row.add(rs.getObject(i) == null ? null : rs.getObject(i).toString());
                }
                out.add(row);
            }
            return out;
        }
    }
}
