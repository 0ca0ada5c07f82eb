package io.tributary.testing.spark;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;

/**
 * Spark SQL over an Iceberg JDBC catalog, driven through stdin and stdout by TestingSpark in
 * tributary-testing. Arguments: the catalog's JDBC URI, the warehouse path, the catalog's name.
 *
 * <p>Each request is one line of SQL, newlines and backslashes escaped as {@code \n} and
 * {@code \\}. The answer is lines on stdout, each a tag, a tab and a JSON value: {@code C} the
 * column names, {@code T} the column types (Spark's catalog strings, e.g. {@code decimal(10,2)}),
 * one {@code R} per row (values as JSON strings, or null), then {@code E} with the row count; or
 * {@code X} with the error message. Values are rendered in UTC: a timestamp as an ISO-8601 instant,
 * a timestamp without zone and a date in ISO-8601, a decimal as plain text, binary as hex, an array
 * as a JSON array of such values. Everything else the JVM prints goes to stderr.
 */
public final class SparkSqlMain {
    private SparkSqlMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: SparkSqlMain <catalog-uri> <warehouse> <catalog-name> [<catalog-property>=<value> ...]");
            System.exit(2);
        }
        PrintStream answers = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        String catalog = "spark.sql.catalog." + args[2];
        SparkSession.Builder builder = SparkSession.builder();
        boolean rest = args[0].startsWith("http://") || args[0].startsWith("https://");
        if (rest) {
            // An Iceberg REST catalog (tributary catalog serve).
            builder.config(catalog + ".type", "rest");
        } else {
            builder.config(catalog + ".catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog")
                    .config(catalog + ".warehouse", args[1])
                    .config(catalog + ".jdbc.schema-version", "V1");
        }
        for (int i = 3; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            builder.config(catalog + "." + args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        try (SparkSession spark = builder
                .master("local[2]")
                .appName("tributary-independent-reader")
                .config("spark.ui.enabled", "false")
                .config("spark.driver.host", "127.0.0.1")
                .config("spark.driver.bindAddress", "127.0.0.1")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.datetime.java8API.enabled", "true")
                .config(catalog, "org.apache.iceberg.spark.SparkCatalog")
                .config(catalog + ".uri", args[0])
                .config(catalog + ".cache-enabled", "false")
                .config("spark.sql.defaultCatalog", args[2])
                .getOrCreate()) {
            answers.println("READY");
            BufferedReader requests = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line = requests.readLine(); line != null; line = requests.readLine()) {
                answer(spark, unescape(line), answers);
            }
        }
    }

    private static void answer(SparkSession spark, String sql, PrintStream out) {
        List<String> lines = new ArrayList<>();
        try {
            Dataset<Row> result = spark.sql(sql);
            StructField[] fields = result.schema().fields();
            List<String> names = new ArrayList<>();
            List<String> types = new ArrayList<>();
            for (StructField f : fields) {
                names.add(json(f.name()));
                types.add(json(f.dataType().catalogString()));
            }
            lines.add("C\t[" + String.join(",", names) + "]");
            lines.add("T\t[" + String.join(",", types) + "]");
            List<Row> rows = result.collectAsList();
            for (Row row : rows) {
                List<String> values = new ArrayList<>();
                for (int i = 0; i < fields.length; i++) {
                    values.add(row.isNullAt(i) ? "null" : render(fields[i].dataType(), row.get(i)));
                }
                lines.add("R\t[" + String.join(",", values) + "]");
            }
            lines.add("E\t" + rows.size());
        } catch (Exception e) {
            // Spark's AnalysisException is a checked exception in Java's terms. The trace goes to
            // stderr, the log file TestingSpark names in its error; stdout carries the message.
            e.printStackTrace(System.err);
            lines.clear();
            lines.add("X\t" + json(String.valueOf(e.getMessage())));
        }
        lines.forEach(out::println);
        out.flush();
    }

    private static String render(DataType type, Object value) {
        if (value == null) {
            return "null";
        }
        if (type instanceof ArrayType array) {
            scala.collection.Iterator<?> elements = ((scala.collection.Iterable<?>) value).iterator();
            List<String> out = new ArrayList<>();
            while (elements.hasNext()) {
                out.add(render(array.elementType(), elements.next()));
            }
            return "[" + String.join(",", out) + "]";
        }
        if (value instanceof byte[] bytes) {
            return json(HexFormat.of().formatHex(bytes));
        }
        if (value instanceof BigDecimal decimal) {
            return json(decimal.toPlainString());
        }
        // Instant, LocalDateTime and LocalDate print ISO-8601; numbers, booleans and strings as themselves.
        return json(value.toString());
    }

    private static String json(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }

    private static String unescape(String line) {
        StringBuilder b = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length()) {
                char next = line.charAt(++i);
                b.append(next == 'n' ? '\n' : next);
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
