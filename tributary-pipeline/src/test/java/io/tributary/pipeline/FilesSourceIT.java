package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.CommitConfig;
import io.tributary.config.FilesSourceConfig;
import io.tributary.config.FilesSourceConfig.FileTable;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.ReconnectConfig;
import io.tributary.config.S3Config;
import io.tributary.config.Secret;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import io.tributary.testing.TestingS3;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;

/**
 * {@code source.type: files} end to end: the 305 daily CSV files of the UCI Online Retail data
 * landed in three batches, each ingested by a run that catches up ({@code --once}); counts and
 * per-day sums of quantity × price in the lake equal DuckDB's own reading of the landed files.
 * Then the hard cases on files the test writes: a file re-delivered with a corrected row, rows that
 * do not parse, a file above its reject ratio, JSON lines and Parquet.
 */
class FilesSourceIT {
    private static final Path DATA = Path.of(System.getProperty("tributary.shared.data", "../../shared/data"), "online-retail", "by-day");
    private static final Map<String, String> RETAIL_TYPES = Map.of("InvoiceNo", "varchar", "StockCode", "varchar", "Quantity", "integer",
            "UnitPrice", "decimal(10,3)", "CustomerID", "double", "InvoiceDate", "timestamp");

    @TempDir
    Path dir;

    private PipelineConfig config(Path landing, List<FileTable> tables) {
        return config(landing, tables, Optional.empty());
    }

    private PipelineConfig config(Path landing, List<FileTable> tables, Optional<Path> models) {
        return new PipelineConfig("files", new FilesSourceConfig(landing.toString(), Optional.empty(), Optional.empty(), ZoneOffset.UTC, tables,
                Duration.ofSeconds(30), ReconnectConfig.DEFAULT),
                new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED), new ModelsConfig(models, Duration.ofSeconds(1)),
                new CommitConfig(Duration.ofSeconds(1), 50_000), Map.of());
    }

    private static void runOnce(PipelineConfig config) {
        try (Pipeline pipeline = Pipeline.open(config)) {
            pipeline.run(ChangeSource.RunMode.CATCH_UP);
            pipeline.lake().close();
        }
    }

    private List<List<Object>> lake(PipelineConfig config, String sql) {
        try (Lake lake = Lake.open(config.lake(), config.name(), t -> TableOptions.DEFAULT); QueryEngine q = QueryEngine.open(lake.tables())) {
            return q.query(sql).rows();
        }
    }

    /** DuckDB's answer on the landed files themselves: the reference the lake must equal. */
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

    private static List<List<Object>> asText(List<List<Object>> rows) {
        return rows.stream().map(r -> r.stream().map(v -> v == null ? null : (Object) v.toString()).toList()).toList();
    }

    @Test
    void onlineRetailLandedInThreeBatches() throws Exception {
        Path landing = dir.resolve("landing");
        Files.createDirectories(landing.resolve("by-day"));
        List<Path> days;
        try (Stream<Path> files = Files.list(DATA)) {
            days = files.filter(p -> p.toString().endsWith(".csv")).sorted().toList();
        }
        assertThat(days).hasSize(305);
        FileTable retail = new FileTable("retail", "by-day/*.csv", FilesSourceConfig.Format.CSV, List.of(),
                FilesSourceConfig.Csv.DEFAULT, RETAIL_TYPES, Optional.of("by-day/{date}.csv"), 0.0);
        // A gold model over the landed rows, rebuilt by each run.
        Path models = Files.createDirectories(dir.resolve("models/gold")).getParent();
        Files.writeString(models.resolve("gold/revenue_per_day.sql"),
                "SELECT _source_date AS day, count(*) AS lines, CAST(sum(quantity * unit_price) AS DECIMAL(18,3)) AS revenue FROM silver.retail GROUP BY 1\n");
        PipelineConfig config = config(landing, List.of(retail), Optional.of(models));
        int[] cuts = {0, 152, 228, 305};
        for (int batch = 0; batch < 3; batch++) {
            for (Path day : days.subList(cuts[batch], cuts[batch + 1])) {
                Files.copy(day, landing.resolve("by-day").resolve(day.getFileName()));
            }
            runOnce(config);
            String perDay = "SELECT _source_date, count(*), CAST(sum(quantity * unit_price) AS DECIMAL(18,3)) FROM %s GROUP BY 1 ORDER BY 1";
            List<List<Object>> expected = duck(String.format(perDay.replace("_source_date", "CAST(regexp_extract(filename, '(\\d{4}-\\d{2}-\\d{2})', 1) AS DATE)"),
                    "(SELECT filename, Quantity AS quantity, UnitPrice AS unit_price FROM read_csv('" + landing.resolve("by-day") + "/*.csv', filename = true, header = true, types = {'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', "
                            + "'Quantity': 'INTEGER', 'UnitPrice': 'DECIMAL(10,3)', 'CustomerID': 'DOUBLE'}))"));
            assertThat(expected).as("days landed after batch %d", batch + 1).hasSize(cuts[batch + 1]);
            assertThat(asText(lake(config, String.format(perDay, "silver.retail")))).as("silver per day after batch %d", batch + 1).isEqualTo(expected);
            assertThat(asText(lake(config, String.format(perDay, "bronze.retail")))).as("bronze per day after batch %d", batch + 1).isEqualTo(expected);
            assertThat(asText(lake(config, "SELECT day, lines, revenue FROM gold.revenue_per_day ORDER BY 1"))).as("gold after batch %d", batch + 1)
                    .isEqualTo(expected);
        }
        assertThat(lake(config, "SELECT count(*), count(DISTINCT _source_file), count(*) FILTER (WHERE customer_id IS NULL) FROM silver.retail"))
                .containsExactly(List.of(541_909L, 305L, 135_080L));
        // A run with nothing new changes nothing.
        runOnce(config);
        assertThat(lake(config, "SELECT count(*) FROM bronze.retail")).containsExactly(List.of(541_909L));
        // One real file re-delivered with a corrected row (its first line's quantity): silver follows, bronze keeps both deliveries.
        Path corrected = landing.resolve("by-day/2011-01-04.csv");
        List<String> lines = new ArrayList<>(Files.readAllLines(corrected));
        String[] first = lines.get(1).split(",", -1);
        first[3] = Integer.toString(Integer.parseInt(first[3]) + 1000);
        lines.set(1, String.join(",", first));
        Files.write(corrected, lines);
        Files.setLastModifiedTime(corrected, FileTime.from(Instant.now().plusSeconds(5)));
        runOnce(config);
        String perDayAll = "SELECT _source_date, count(*), CAST(sum(quantity * unit_price) AS DECIMAL(18,3)) FROM %s GROUP BY 1 ORDER BY 1";
        assertThat(asText(lake(config, String.format(perDayAll, "silver.retail")))).isEqualTo(duck(String.format(
                perDayAll.replace("_source_date", "CAST(regexp_extract(filename, '(\\d{4}-\\d{2}-\\d{2})', 1) AS DATE)"),
                "(SELECT filename, Quantity AS quantity, UnitPrice AS unit_price FROM read_csv('" + landing.resolve("by-day") + "/*.csv', filename = true, "
                        + "header = true, types = {'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'Quantity': 'INTEGER', 'UnitPrice': 'DECIMAL(10,3)', "
                        + "'CustomerID': 'DOUBLE'}))")));
        long dayRows = lines.size() - 1;
        assertThat(lake(config, "SELECT count(*), count(DISTINCT _tx_id) FROM bronze.retail WHERE _source_file = 'by-day/2011-01-04.csv'"))
                .containsExactly(List.of(2 * dayRows, 2L));
        assertThat(lake(config, "SELECT count(*) FROM silver.retail")).containsExactly(List.of(541_909L));
        // tributary resnapshot: every file is ingested again, as new deliveries after the lake's position.
        try (Lake lake = Lake.open(config.lake(), config.name(), t -> TableOptions.DEFAULT)) {
            assertThat(lake.requestInitialSnapshot()).isTrue();
        }
        runOnce(config);
        assertThat(lake(config, "SELECT count(*), count(DISTINCT _tx_id) FROM bronze.retail")).containsExactly(List.of(2 * 541_909L + dayRows, 2 * 305L + 1));
        assertThat(lake(config, "SELECT count(*) FROM silver.retail")).containsExactly(List.of(541_909L));
    }

    @Test
    void redeliveryRejectsJsonLinesAndParquet() throws Exception {
        Path landing = dir.resolve("landing");
        Path day1 = landing.resolve("orders/2024-01-01/orders_1.csv");
        Files.createDirectories(day1.getParent());
        Files.writeString(day1, "order_id,customer,amount,note\n1,ann,10.50,first\n2,bob,3.25,\"with, comma\"\n3,cy,7.00,\n");
        FileTable orders = new FileTable("orders", "orders/*/orders_*.csv", FilesSourceConfig.Format.CSV, List.of("order_id"),
                FilesSourceConfig.Csv.DEFAULT, Map.of("amount", "decimal(12,2)"), Optional.of("orders/{date}/"), 0.5);
        FileTable events = new FileTable("events", "events/*.jsonl", FilesSourceConfig.Format.JSONL, List.of("id"), FilesSourceConfig.Csv.DEFAULT,
                Map.of(), Optional.empty(), 0.0);
        FileTable metrics = new FileTable("metrics", "metrics/*.parquet", FilesSourceConfig.Format.PARQUET, List.of(), FilesSourceConfig.Csv.DEFAULT,
                Map.of(), Optional.empty(), 0.0);
        Files.createDirectories(landing.resolve("events"));
        Files.writeString(landing.resolve("events/e1.jsonl"), "{\"id\": 1, \"kind\": \"click\", \"at\": \"2024-01-01 10:00:00\"}\n"
                + "{\"id\": 2, \"kind\": \"view\", \"at\": \"2024-01-01 10:00:05\"}\n");
        Files.createDirectories(landing.resolve("metrics"));
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement()) {
            s.execute("COPY (SELECT range AS n, range * 1.5 AS v, 'm' || range AS label FROM range(1000)) TO '" + landing.resolve("metrics/m1.parquet") + "' (FORMAT parquet)");
        }
        // Without a key: rows are keyed by file and ordinal, and a re-delivered file replaces its rows.
        FileTable notes = new FileTable("notes", "notes/*.csv", FilesSourceConfig.Format.CSV, List.of(), FilesSourceConfig.Csv.DEFAULT, Map.of(),
                Optional.empty(), 0.0);
        Files.createDirectories(landing.resolve("notes"));
        Files.writeString(landing.resolve("notes/n1.csv"), "a,b\n1,x\n2,y\n3,z\n");
        Files.writeString(landing.resolve("notes/n0.csv"), "");
        // A regular expression for the pattern, and a gzip-compressed file read as such.
        FileTable zipped = new FileTable("zipped", "regex:gz/part-\\d+\\.csv\\.gz", FilesSourceConfig.Format.CSV, List.of(), FilesSourceConfig.Csv.DEFAULT,
                Map.of(), Optional.empty(), 0.0);
        Files.createDirectories(landing.resolve("gz"));
        try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(landing.resolve("gz/part-1.csv.gz")))) {
            out.write("k,v\n1,one\n2,two\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        Files.writeString(landing.resolve("gz/part-x.csv.gz"), "not matched by the pattern");
        PipelineConfig config = config(landing, List.of(orders, events, metrics, notes, zipped));
        runOnce(config);
        assertThat(asText(lake(config, "SELECT a, b, _source_row FROM silver.notes ORDER BY 1"))).containsExactly(List.of("1", "x", "1"), List.of("2", "y", "2"),
                List.of("3", "z", "3"));
        assertThat(asText(lake(config, "SELECT k, v, _source_file FROM silver.zipped ORDER BY 1"))).containsExactly(List.of("1", "one", "gz/part-1.csv.gz"),
                List.of("2", "two", "gz/part-1.csv.gz"));
        assertThat(asText(lake(config, "SELECT order_id, customer, amount, note, _source_date FROM silver.orders ORDER BY 1"))).containsExactly(
                List.of("1", "ann", "10.50", "first", "2024-01-01"), java.util.Arrays.asList("2", "bob", "3.25", "with, comma", "2024-01-01"),
                java.util.Arrays.asList("3", "cy", "7.00", null, "2024-01-01"));
        assertThat(asText(lake(config, "SELECT id, kind, \"at\" FROM silver.events ORDER BY 1"))).containsExactly(
                List.of("1", "click", "2024-01-01 10:00:00.0"), List.of("2", "view", "2024-01-01 10:00:05.0"));
        assertThat(asText(lake(config, "SELECT count(*), sum(n), sum(v), count(DISTINCT label) FROM silver.metrics"))).containsExactly(List.of("1000", "499500", "749250.0", "1000"));

        // Re-delivered with a corrected row and a new one: silver follows, bronze keeps both deliveries.
        Files.writeString(day1, "order_id,customer,amount,note\n1,ann,10.50,first\n2,bob,4.25,corrected\n3,cy,7.00,\n4,dee,1.00,\n");
        Files.setLastModifiedTime(day1, FileTime.from(Instant.now().plusSeconds(5)));
        // A file with rows that do not parse: its good rows land, the others go to orders_rejects.
        Path day2 = landing.resolve("orders/2024-01-02/orders_1.csv");
        Files.createDirectories(day2.getParent());
        Files.writeString(day2, "order_id,customer,amount,note\n5,eve,2.00,\n6,fay,not-a-number,\n7,gus,3.00,\n");
        // Shorter, with a changed row; later files with a column more and a column fewer (the header changed).
        Files.writeString(landing.resolve("notes/n1.csv"), "a,b\n1,x\n2,q\n");
        Files.setLastModifiedTime(landing.resolve("notes/n1.csv"), FileTime.from(Instant.now().plusSeconds(5)));
        Files.writeString(landing.resolve("notes/n2.csv"), "a,b,c\n4,w,extra\n");
        Files.writeString(landing.resolve("notes/n3.csv"), "a\n5\n");
        // Touched with the same content: not read again.
        Files.setLastModifiedTime(landing.resolve("events/e1.jsonl"), FileTime.from(Instant.now().plusSeconds(5)));
        runOnce(config);
        assertThat(asText(lake(config, "SELECT order_id, amount, note, _source_date FROM silver.orders ORDER BY 1"))).containsExactly(
                List.of("1", "10.50", "first", "2024-01-01"), List.of("2", "4.25", "corrected", "2024-01-01"), java.util.Arrays.asList("3", "7.00", null, "2024-01-01"),
                java.util.Arrays.asList("4", "1.00", null, "2024-01-01"), java.util.Arrays.asList("5", "2.00", null, "2024-01-02"),
                java.util.Arrays.asList("7", "3.00", null, "2024-01-02"));
        assertThat(lake(config, "SELECT count(*), count(DISTINCT _tx_id) FROM bronze.orders WHERE _source_file = 'orders/2024-01-01/orders_1.csv'"))
                .containsExactly(List.of(7L, 2L));
        // The history holds both deliveries' versions, valid from the file's date (its path's).
        assertThat(asText(lake(config, "SELECT amount, _is_current, CAST(_valid_from AS DATE) FROM silver.orders_history WHERE order_id = 2 ORDER BY _position")))
                .containsExactly(List.of("3.25", "false", "2024-01-01"), List.of("4.25", "true", "2024-01-01"));
        List<List<Object>> rejects = lake(config, "SELECT _source_file, line, raw, reason FROM bronze.orders_rejects");
        assertThat(rejects).hasSize(1);
        assertThat(rejects.get(0).subList(0, 3)).containsExactly("orders/2024-01-02/orders_1.csv", 3L, "6,fay,not-a-number,");
        assertThat((String) rejects.get(0).get(3)).contains("amount");
        assertThat(lake(config, "SELECT count(*) FROM bronze.events")).containsExactly(List.of(2L));
        assertThat(asText(lake(config, "SELECT a, b, c, _source_file FROM silver.notes ORDER BY 1"))).containsExactly(java.util.Arrays.asList("1", "x", null, "notes/n1.csv"),
                java.util.Arrays.asList("2", "q", null, "notes/n1.csv"), List.of("4", "w", "extra", "notes/n2.csv"),
                java.util.Arrays.asList("5", null, null, "notes/n3.csv"));
        assertThat(lake(config, "SELECT _op, count(*) FROM bronze.notes GROUP BY 1 ORDER BY 1")).containsExactly(List.of("c", 7L), List.of("d", 1L));

        // Above max-reject-ratio: the run stops with exit 3 and nothing of the file is ingested.
        Path day3 = landing.resolve("orders/2024-01-03/orders_1.csv");
        Files.createDirectories(day3.getParent());
        Files.writeString(day3, "order_id,customer,amount,note\n8,hal,x,\n9,ida,y,\n10,jo,1.00,\n");
        assertThatThrownBy(() -> runOnce(config)).isInstanceOfSatisfying(TributaryException.class, e -> {
            assertThat(e.errorCode()).isEqualTo(ErrorCode.MALFORMED_INPUT);
            assertThat(e.errorCode().kind().exitCode()).isEqualTo(3);
            assertThat(e.getMessage()).contains(day3.toString(), "2 of 3 rows", "max-reject-ratio 0.5", "line 2");
        });
        assertThat(lake(config, "SELECT count(*) FROM bronze.orders WHERE _source_date = DATE '2024-01-03'")).containsExactly(List.of(0L));
        // Fixed, it lands.
        Files.writeString(day3, "order_id,customer,amount,note\n8,hal,8.00,\n9,ida,9.00,\n10,jo,1.00,\n");
        runOnce(config);
        assertThat(lake(config, "SELECT count(*), sum(amount) FROM silver.orders WHERE _source_date = DATE '2024-01-03'")).containsExactly(List.of(3L, new BigDecimal("18.00")));
        // The raw layer: a reference per delivery of orders' files (two of the first file, one each of the others).
        List<String> raw = new ArrayList<>();
        try (Stream<Path> files = Files.walk(dir.resolve("lake/raw/orders"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".ndjson.gz")).sorted().toList()) {
                try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(new java.util.zip.GZIPInputStream(Files.newInputStream(f)),
                        java.nio.charset.StandardCharsets.UTF_8))) {
                    in.lines().forEach(raw::add);
                }
            }
        }
        assertThat(raw).hasSize(4).allSatisfy(line -> assertThat(line).contains("\"source\":\"files\"", "\"sha256\":\"", "\"table\":\"orders\""));
        assertThat(raw.stream().filter(l -> l.contains("\"file\":\"orders/2024-01-01/orders_1.csv\"")).count()).isEqualTo(2);
    }

    /** A landing prefix on object storage (S3Proxy), read with the lake's {@code lake.s3} settings beside a local warehouse. */
    @Test
    void landingPrefixOnObjectStorage() throws Exception {
        try (TestingS3 s3 = TestingS3.start(dir.resolve("s3"));
             S3Client client = S3Client.builder().endpointOverride(java.net.URI.create(s3.endpoint())).region(Region.US_EAST_1).forcePathStyle(true)
                     .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(TestingS3.ACCESS_KEY_ID, TestingS3.SECRET_ACCESS_KEY)))
                     .build()) {
            s3.createBucket("drops");
            List<Path> days;
            try (Stream<Path> files = Files.list(DATA)) {
                days = files.filter(p -> p.toString().endsWith(".csv")).sorted().limit(3).toList();
            }
            for (Path day : days) {
                client.putObject(PutObjectRequest.builder().bucket("drops").key("retail/by-day/" + day.getFileName()).build(), RequestBody.fromFile(day));
            }
            client.putObject(PutObjectRequest.builder().bucket("drops").key("retail/README.txt").build(), RequestBody.fromString("not a day"));
            FileTable retail = new FileTable("retail", "by-day/*.csv", FilesSourceConfig.Format.CSV, List.of(), FilesSourceConfig.Csv.DEFAULT, RETAIL_TYPES,
                    Optional.of("by-day/{date}.csv"), 0.0);
            PipelineConfig local = config(dir.resolve("unused"), List.of(retail));
            S3Config settings = new S3Config(Optional.of(s3.endpoint()), Optional.of("us-east-1"), true, Optional.of(TestingS3.ACCESS_KEY_ID),
                    Optional.of(new Secret(TestingS3.SECRET_ACCESS_KEY, "test")), S3Config.DEFAULT_CACHE_SIZE);
            LakeConfig lake = new LakeConfig(dir.resolve("lake").toString(), settings, io.tributary.config.CatalogConfig.LOCAL_DEFAULT, LakeConfig.RawLayer.ENABLED,
                    LakeConfig.HistoryLayer.ENABLED, dir.resolve("state"));
            PipelineConfig config = new PipelineConfig("files", new FilesSourceConfig("s3://drops/retail", Optional.empty(), Optional.empty(), ZoneOffset.UTC,
                    List.of(retail), Duration.ofSeconds(30), ReconnectConfig.DEFAULT, FilesSourceConfig.RawFiles.COPY), lake, local.models(), local.commit(), Map.of());
            runOnce(config);
            // source.raw: copy: each object kept byte for byte in the raw layer, named by its delivery.
            for (int i = 0; i < days.size(); i++) {
                String day = days.get(i).getFileName().toString().replace(".csv", "");
                Path copy = dir.resolve("lake/raw/retail/" + day + "/F" + io.tributary.spi.SourcePosition.sequenceKey(i + 1) + "-" + days.get(i).getFileName());
                assertThat(copy).as("raw copy of %s", days.get(i)).exists();
                assertThat(Files.mismatch(copy, days.get(i))).isEqualTo(-1L);
            }
            String perDay = "SELECT _source_date, count(*), CAST(sum(quantity * unit_price) AS DECIMAL(18,3)) FROM %s GROUP BY 1 ORDER BY 1";
            String files = days.stream().map(d -> "'" + d + "'").collect(java.util.stream.Collectors.joining(", "));
            List<List<Object>> expected = duck(String.format(perDay.replace("_source_date", "CAST(regexp_extract(filename, '(\\d{4}-\\d{2}-\\d{2})', 1) AS DATE)"),
                    "(SELECT filename, Quantity AS quantity, UnitPrice AS unit_price FROM read_csv([" + files + "], filename = true, header = true, "
                            + "types = {'InvoiceNo': 'VARCHAR', 'StockCode': 'VARCHAR', 'UnitPrice': 'DECIMAL(10,3)'}))"));
            assertThat(expected).hasSize(3);
            assertThat(asText(lake(config, String.format(perDay, "silver.retail")))).isEqualTo(expected);
            assertThat(lake(config, "SELECT DISTINCT _source_file FROM bronze.retail ORDER BY 1")).containsExactly(
                    days.stream().map(d -> (List<Object>) List.<Object>of("by-day/" + d.getFileName())).toArray(List[]::new));
            // A second run finds nothing new on the prefix.
            runOnce(config);
            assertThat(lake(config, "SELECT count(*) FROM bronze.retail")).isEqualTo(lake(config, "SELECT count(*) FROM silver.retail"));
        }
    }
}
