package io.tributary.bench;

import io.tributary.config.CommitConfig;
import io.tributary.config.ConfigLoader;
import io.tributary.config.FilesSourceConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.ReconnectConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The files benchmark: the 305 daily CSV files of the Online Retail data ({@code ../shared/data},
 * 541,909 rows) ingested by a files source into a new lake (bronze, silver and history, keyed by
 * file and row), in one {@code --once} run, as CSV and as Parquet (the same rows, converted by
 * DuckDB beforehand); beside DuckDB's own {@code read_csv} / {@code read_parquet} of the same files
 * into a table (the ceiling: parsing alone, no lake). A warm-up run over the first 60 days comes
 * first, in a lake of its own. Run by hand: {@code ./tributary-bench/run-files}. Options:
 * {@code --days} (default 305), {@code --data} (default {@code ../shared/data}).
 */
public final class FilesBench {
    private static final Map<String, String> TYPES = Map.of("InvoiceNo", "varchar", "StockCode", "varchar", "UnitPrice", "decimal(10,3)");

    private FilesBench() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (String a : args) {
            if (!a.startsWith("--") || !a.contains("=")) {
                throw new IllegalArgumentException("Options look like --days=305, got '" + a + "'");
            }
            options.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
        }
        int days = Integer.parseInt(options.getOrDefault("days", "305"));
        Path data = Path.of(options.getOrDefault("data", "../shared/data"), "online-retail", "by-day");
        Path dir = Files.createTempDirectory("tributary-files-bench");
        Map<String, String> results = new LinkedHashMap<>();
        try {
            List<Path> files;
            try (Stream<Path> list = Files.list(data)) {
                files = list.filter(p -> p.toString().endsWith(".csv")).sorted().limit(days).toList();
            }
            Path csv = Files.createDirectories(dir.resolve("landing/csv"));
            Path parquet = Files.createDirectories(dir.resolve("landing/parquet"));
            Path warm = Files.createDirectories(dir.resolve("warm/csv"));
            try (Connection duck = DriverManager.getConnection("jdbc:duckdb:"); Statement s = duck.createStatement()) {
                for (int i = 0; i < files.size(); i++) {
                    Path f = files.get(i);
                    Files.copy(f, csv.resolve(f.getFileName()));
                    if (i < 60) {
                        Files.copy(f, warm.resolve(f.getFileName()));
                    }
                    s.execute("COPY (SELECT * FROM read_csv('" + f + "', header = true, types = {'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', "
                            + "'UnitPrice': 'DECIMAL(10,3)'})) TO '" + parquet.resolve(f.getFileName().toString().replace(".csv", ".parquet")) + "' (FORMAT parquet)");
                }
            }
            System.out.printf("%d files landed as CSV and Parquet under %s%n", files.size(), dir.resolve("landing"));
            ingest(results, "warm-up: CSV, 60 days, cold JVM", dir.resolve("warm"), "csv/*.csv", FilesSourceConfig.Format.CSV, dir.resolve("warm-lake"));
            ingest(results, "files source: CSV into bronze+silver+history", dir.resolve("landing"), "csv/*.csv", FilesSourceConfig.Format.CSV, dir.resolve("csv-lake"));
            ingest(results, "files source: Parquet into bronze+silver+history", dir.resolve("landing"), "parquet/*.parquet", FilesSourceConfig.Format.PARQUET,
                    dir.resolve("parquet-lake"));
            ceiling(results, "DuckDB read_csv into a table (ceiling)", "read_csv('" + csv + "/*.csv', header = true, types = {'InvoiceNo': 'VARCHAR', "
                    + "'StockCode': 'VARCHAR', 'UnitPrice': 'DECIMAL(10,3)'})");
            ceiling(results, "DuckDB read_parquet into a table (ceiling)", "read_parquet('" + parquet + "/*.parquet')");
        } finally {
            Bench.deleteRecursively(dir);
        }
        System.out.println();
        System.out.println("| measure | result |");
        System.out.println("|---|---|");
        results.forEach((k, v) -> System.out.println("| " + k + " | " + v + " |"));
        System.exit(0);
    }

    private static void ingest(Map<String, String> results, String measure, Path landing, String pattern, FilesSourceConfig.Format format, Path lake) {
        FilesSourceConfig.FileTable table = new FilesSourceConfig.FileTable("retail", pattern, format, List.of(), FilesSourceConfig.Csv.DEFAULT,
                format == FilesSourceConfig.Format.CSV ? TYPES : Map.of(), Optional.empty(), 0.0);
        PipelineConfig config = new PipelineConfig("files_bench", new FilesSourceConfig(landing.toString(), Optional.empty(), Optional.empty(), ZoneOffset.UTC,
                List.of(table), Duration.ofSeconds(30), ReconnectConfig.DEFAULT), new LakeConfig(lake, LakeConfig.RawLayer.ENABLED, LakeConfig.HistoryLayer.ENABLED),
                new ModelsConfig(Optional.empty(), Duration.ofSeconds(1)), new CommitConfig(Duration.ofSeconds(1), ConfigLoader.DEFAULT_COMMIT_MAX_EVENTS), Map.of());
        long cpu = cpuNanos();
        long started = System.nanoTime();
        long rows = Bench.runOnce(config);
        double seconds = (System.nanoTime() - started) / 1e9;
        String result = String.format("%,d rows in %.1f s = %,.0f rows/s (%.1f µs CPU per row)", rows, seconds, rows / seconds, (cpuNanos() - cpu) / 1000.0 / rows);
        results.put(measure, result);
        System.out.println(measure + ": " + result);
    }

    private static void ceiling(Map<String, String> results, String measure, String source) throws Exception {
        try (Connection duck = DriverManager.getConnection("jdbc:duckdb:"); Statement s = duck.createStatement()) {
            long started = System.nanoTime();
            s.execute("CREATE TABLE t AS SELECT * FROM " + source);
            double seconds = (System.nanoTime() - started) / 1e9;
            long rows;
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM t")) {
                rs.next();
                rows = rs.getLong(1);
            }
            String result = String.format("%,d rows in %.2f s = %,.0f rows/s (DuckDB's threads: both cores)", rows, seconds, rows / seconds);
            results.put(measure, result);
            System.out.println(measure + ": " + result);
        }
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
