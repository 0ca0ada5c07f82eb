package io.tributary.testing;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Apache Spark 4.1 (Scala 2.13) in local mode with Iceberg's Spark runtime 1.12.0, as a reader of
 * the lake that nobody here wrote: it opens the lake's own Iceberg JDBC catalog (the same SQLite
 * file and warehouse) as the Spark catalog of the same name, and answers SQL such as
 * {@code SELECT * FROM silver.orders} or {@code SELECT content FROM silver.orders.all_delete_files}.
 *
 * <p>Spark runs in a child JVM started once per instance, on the class path that the
 * {@code tributary-testing-spark} module resolves and writes during its build (Maven artifacts only:
 * {@code spark-sql_2.13}, {@code iceberg-spark-runtime-4.1_2.13}, {@code sqlite-jdbc}). A child JVM
 * because Spark brings its own Jackson, Parquet, Avro, Hadoop and Scala, in versions other than
 * ours: on one class path one side would run against the other's libraries. A test that uses this
 * fixture declares a test dependency on {@code tributary-testing-spark} without its transitive
 * dependencies, so the module is built first and its class path file is found as a resource.
 *
 * <p>The child runs Spark as {@code local[2]} with a 1 GiB heap ({@code -Xmx1g}), the serial
 * collector, the {@code --add-opens} flags Spark's own launcher gives Java 17, no web UI, the driver
 * bound to 127.0.0.1, session time zone UTC, and Iceberg's table cache off (every query sees the
 * catalog's current snapshots). It reaches nothing but loopback. Starting takes from a few seconds
 * to half a minute on two busy cores; then each {@link #query} takes from a fraction of a second to
 * a few. Its stderr (Spark's warnings) goes to a log file named in every error. Not thread-safe:
 * one query at a time.
 */
public final class TestingSpark implements Closeable {
    private static final String MAIN_CLASS = "io.tributary.testing.spark.SparkSqlMain";
    private static final String CLASS_PATH_RESOURCE = "io/tributary/testing/spark/classpath.txt";
    /** The flags of Spark's launcher ({@code org.apache.spark.launcher.JavaModuleOptions}, Spark 4.1.1). */
    private static final List<String> JAVA_MODULE_OPTIONS = List.of(
            "-XX:+IgnoreUnrecognizedVMOptions",
            "--add-modules=jdk.incubator.vector",
            "--add-opens=java.base/java.lang=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
            "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
            "--add-opens=java.base/java.io=ALL-UNNAMED",
            "--add-opens=java.base/java.net=ALL-UNNAMED",
            "--add-opens=java.base/java.nio=ALL-UNNAMED",
            "--add-opens=java.base/java.util=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
            "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
            "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
            "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
            "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
            "--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
            "-Djdk.reflect.useDirectMethodHandle=false",
            "-Dio.netty.tryReflectionSetAccessible=true");

    private final Process process;
    private final Path log;
    private final BufferedReader answers;
    private final Writer requests;
    private boolean failed;

    /** A query's answer: column names, Spark's type of each column, and the rows. */
    public record Result(List<String> columns, List<String> types, List<List<Object>> rows) {
        /**
         * @param rows each value a {@code String} as described at {@link #query}, null, or for an
         *             array column a {@code List} of such values
         */
        public Result {
            columns = List.copyOf(columns);
            types = List.copyOf(types);
            rows = List.copyOf(rows);
        }
    }

    /**
     * Starts Spark on the Iceberg JDBC catalog at {@code catalogUri} (e.g.
     * {@code jdbc:sqlite:/lake/catalog.db}) registered as {@code catalogName}, the default catalog,
     * and waits until it is ready.
     *
     * @param warehouse the catalog's warehouse directory
     */
    public TestingSpark(String catalogUri, Path warehouse, String catalogName) {
        this(catalogUri, warehouse.toAbsolutePath().toString(), catalogName, java.util.Map.of());
    }

    /**
     * Starts Spark on the Iceberg catalog at {@code catalogUri}: a JDBC URL (a JDBC catalog on
     * {@code warehouse}) or an {@code http(s)://} URL (a REST catalog), registered as
     * {@code catalogName} with the extra catalog properties {@code properties} (such as
     * {@code io-impl}, {@code s3.endpoint} or {@code token}).
     */
    public TestingSpark(String catalogUri, String warehouse, String catalogName, java.util.Map<String, String> properties) {
        List<String> command = new ArrayList<>();
        command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        command.addAll(List.of("-Xmx1g", "-XX:+UseSerialGC"));
        command.addAll(JAVA_MODULE_OPTIONS);
        command.addAll(List.of("-cp", classPath(), MAIN_CLASS, catalogUri, warehouse, catalogName));
        properties.forEach((k, v) -> command.add(k + "=" + v));
        try {
            log = Files.createTempFile("tributary-spark", ".log");
            ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
            // Spark looks up the host's name and address unless told; loopback only.
            builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
            builder.environment().put("SPARK_LOCAL_HOSTNAME", "localhost");
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start Spark", e);
        }
        answers = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        requests = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        String first = readLine("start");
        if (!"READY".equals(first)) {
            close();
            throw new IllegalStateException("Spark did not start: it printed '" + first + "'; see " + log);
        }
    }

    /**
     * Runs one SQL statement and returns its whole result. Values are text in UTC: a timestamp
     * with zone as an ISO-8601 instant ({@code 2026-12-06T14:05:00.123456Z}), a timestamp without
     * zone, a date and a time in ISO-8601, a decimal as plain text with the column's scale, binary
     * as lower-case hex, numbers and booleans as Java prints them.
     *
     * @throws IllegalStateException with Spark's message when the statement fails
     */
    public Result query(String sql) {
        try {
            requests.write(sql.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", " "));
            requests.write('\n');
            requests.flush();
        } catch (IOException e) {
            failed = true;
            throw new IllegalStateException("Cannot send a query to Spark, which stopped; see " + log, e);
        }
        List<String> columns = List.of();
        List<String> types = List.of();
        List<List<Object>> rows = new ArrayList<>();
        while (true) {
            String line = readLine(sql);
            int tab = line.indexOf('\t');
            String tag = tab < 0 ? line : line.substring(0, tab);
            String value = tab < 0 ? "" : line.substring(tab + 1);
            switch (tag) {
                case "C" -> columns = strings(JsonValues.parse(value));
                case "T" -> types = strings(JsonValues.parse(value));
                case "R" -> rows.add(asList(JsonValues.parse(value)));
                case "E" -> {
                    return new Result(columns, types, rows);
                }
                case "X" -> {
                    failed = true;
                    throw new IllegalStateException("Spark cannot run " + sql + ": " + JsonValues.parse(value) + " (see " + log + ")");
                }
                default -> {
                    failed = true;
                    throw new IllegalStateException("Spark answered '" + line + "' to " + sql + "; see " + log);
                }
            }
        }
    }

    /** The file Spark's stderr is appended to. */
    public Path log() {
        return log;
    }

    private String readLine(String during) {
        try {
            String line = answers.readLine();
            if (line == null) {
                failed = true;
                throw new IllegalStateException("Spark exited during " + during + "; see " + log + ":\n" + tail(log));
            }
            return line;
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read Spark's answer to " + during + "; see " + log, e);
        }
    }

    private static String tail(Path file) {
        try {
            List<String> lines = Files.readAllLines(file);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    @SuppressWarnings("unchecked")
    private static List<Object> asList(Object parsed) {
        return (List<Object>) parsed;
    }

    private static List<String> strings(Object parsed) {
        return asList(parsed).stream().map(String.class::cast).toList();
    }

    /** The child's class path: the module's own classes, then the jars its build listed. */
    private static String classPath() {
        URL resource = TestingSpark.class.getClassLoader().getResource(CLASS_PATH_RESOURCE);
        if (resource == null) {
            throw new IllegalStateException("No " + CLASS_PATH_RESOURCE + " on the class path: add a test dependency on "
                    + "io.tributary:tributary-testing-spark (with <exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions>)");
        }
        String self;
        String jars;
        try (InputStream in = resource.openStream()) {
            jars = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
            String url = resource.toString();
            if (url.startsWith("jar:")) {
                self = Path.of(new URI(url.substring("jar:".length(), url.indexOf("!/")))).toString();
            } else {
                Path file = Path.of(resource.toURI());
                self = file.getRoot().resolve(file.subpath(0, file.getNameCount() - Path.of(CLASS_PATH_RESOURCE).getNameCount())).toString();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read " + resource, e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException("Cannot locate " + resource, e);
        }
        return self + File.pathSeparator + jars;
    }

    /**
     * Ends Spark: closes its input, so it stops its session and exits, or kills it after 30 s. The
     * log file is deleted when Spark answered every query and exited normally, and kept otherwise.
     */
    @Override
    public void close() {
        try {
            requests.close();
        } catch (IOException e) {
            // the child is gone already; waiting below settles it
        }
        try {
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        if (!failed && !process.isAlive() && process.exitValue() == 0) {
            try {
                Files.deleteIfExists(log);
            } catch (IOException e) {
                // a leftover log in the temporary directory is harmless
            }
        }
    }
}
