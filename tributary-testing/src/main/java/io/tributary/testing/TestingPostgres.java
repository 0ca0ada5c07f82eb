package io.tributary.testing;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.ByteArrayInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A real PostgreSQL server with {@code wal_level=logical}, started from the zonky embedded binaries
 * (a Maven artifact, no install), listening on a free loopback port. Each instance has its own data
 * directory and is deleted on {@link #close()}.
 */
public final class TestingPostgres implements Closeable {
    public static final String USER = "postgres";
    private final EmbeddedPostgres server;
    private Path dataDirectory;
    private List<String> startCommand;
    private Process restarted;
    private Path restartLog;

    public TestingPostgres() {
        this(List.of());
    }

    /** @param extraSettings additional {@code name=value} server settings */
    public TestingPostgres(List<String> extraSettings) {
        this(extraSettings, Optional.empty());
    }

    /**
     * A server of another PostgreSQL major version than the binaries on the class path: the zonky
     * binaries jar of that version, copied by the build to the path held by the system property
     * {@code tributary.postgres<major>.binaries} (see tributary-pipeline's pom).
     *
     * @throws IllegalStateException if the property is not set or names no file
     */
    public static TestingPostgres ofMajorVersion(int major) {
        String property = "tributary.postgres" + major + ".binaries";
        String jar = System.getProperty(property);
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("Cannot start PostgreSQL " + major + ": system property " + property + " names no binaries jar (" + jar + ")");
        }
        return new TestingPostgres(List.of(), Optional.of(Path.of(jar)));
    }

    private TestingPostgres(List<String> extraSettings, Optional<Path> binariesJar) {
        try {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                    .setServerConfig("wal_level", "logical")
                    .setServerConfig("max_wal_senders", "10")
                    .setServerConfig("max_replication_slots", "10")
                    .setServerConfig("fsync", "off")
                    .setServerConfig("synchronous_commit", "off")
                    .setServerConfig("full_page_writes", "off")
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setPGStartupWait(Duration.ofSeconds(60));
            for (String setting : extraSettings) {
                String[] kv = setting.split("=", 2);
                builder.setServerConfig(kv[0], kv[1]);
            }
            binariesJar.ifPresent(jar -> builder.setPgBinaryResolver((system, hardware) -> binaries(jar, system, hardware)));
            this.server = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start embedded PostgreSQL", e);
        }
    }

    /** The {@code postgres-<system>-<hardware>.txz} archive inside a zonky binaries jar, read into memory. */
    private static InputStream binaries(Path jar, String system, String hardware) throws IOException {
        String entry = "postgres-" + system + "-" + hardware + ".txz";
        try (ZipFile zip = new ZipFile(jar.toFile())) {
            ZipEntry e = zip.stream().filter(z -> z.getName().equalsIgnoreCase(entry)).findFirst().orElse(null);
            if (e == null) {
                throw new IOException("Cannot find " + entry + " in " + jar);
            }
            try (InputStream in = zip.getInputStream(e)) {
                return new ByteArrayInputStream(in.readAllBytes());
            }
        }
    }

    /** The server's major version, from {@code server_version_num}. */
    public int majorVersion() {
        return Integer.parseInt(queryOne("postgres", "SHOW server_version_num")) / 10000;
    }

    public int port() {
        return server.getPort();
    }

    public String host() {
        return "127.0.0.1";
    }

    public String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database;
    }

    /** A connection as the superuser {@code postgres} (trust authentication). */
    public Connection connect(String database) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", USER);
        return DriverManager.getConnection(jdbcUrl(database), props);
    }

    /** Creates a database and returns its name. */
    public String createDatabase(String name) {
        execute("postgres", "CREATE DATABASE " + name);
        return name;
    }

    /** Runs statements in autocommit mode. */
    public void execute(String database, String... sql) {
        try (Connection c = connect(database); Statement s = c.createStatement()) {
            for (String statement : sql) {
                s.execute(statement);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot execute SQL on " + database + ": " + e.getMessage(), e);
        }
    }

    /** Runs a query and returns every row as a list of column values rendered as text. */
    public List<List<String>> query(String database, String sql) {
        try (Connection c = connect(database); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            List<List<String>> rows = new ArrayList<>();
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> row = new ArrayList<>(n);
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getString(i));
                }
                rows.add(row);
            }
            return rows;
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot query " + database + ": " + e.getMessage(), e);
        }
    }

    public String queryOne(String database, String sql) {
        List<List<String>> rows = query(database, sql);
        return rows.isEmpty() ? null : rows.get(0).get(0);
    }

    /**
     * Checksums rows read from somewhere else (the lake) with PostgreSQL's own rendering: copies them
     * into a scratch table shaped like {@code likeTable}, runs {@code checksumSql} with {@code %s}
     * replaced by the scratch table's name, and drops it. Comparing the result with the same SQL on
     * {@code likeTable} compares the two row sets independently of order and of client formatting.
     */
    public List<String> checksumRows(String database, String likeTable, List<List<Object>> rows, String checksumSql) {
        String scratch = "scratch_" + likeTable;
        execute(database, "DROP TABLE IF EXISTS " + scratch, "CREATE TABLE " + scratch + " (LIKE " + likeTable + ")");
        try (Connection c = connect(database)) {
            c.setAutoCommit(false);
            int n = rows.isEmpty() ? 0 : rows.get(0).size();
            try (java.sql.PreparedStatement ps = c.prepareStatement("INSERT INTO " + scratch + " VALUES (" + String.join(", ", java.util.Collections.nCopies(n, "?")) + ")")) {
                for (List<Object> row : rows) {
                    for (int i = 0; i < n; i++) {
                        ps.setObject(i + 1, row.get(i));
                    }
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            c.commit();
        } catch (SQLException e) {
            throw new IllegalStateException("Cannot copy rows into " + scratch + ": " + e.getMessage(), e);
        }
        List<String> result = query(database, checksumSql.formatted(scratch)).get(0);
        execute(database, "DROP TABLE " + scratch);
        return result;
    }

    /**
     * How {@link #restart} and {@link #stop} shut the server down: the postmaster's signals of
     * PostgreSQL "Shutting Down the Server" (section 19.5), sent to the postmaster directly.
     */
    public enum ShutdownMode {
        /** SIGINT: rolls back transactions, ends connections, checkpoints. */
        FAST("INT"),
        /** SIGQUIT: aborts every process at once, as a crash would; crash recovery runs at the next start. */
        IMMEDIATE("QUIT");

        private final String signal;

        ShutdownMode(String signal) {
            this.signal = signal;
        }
    }

    /** Stops the server and starts it again on the same port and data directory. */
    public void restart(ShutdownMode mode) {
        stop(mode);
        start();
    }

    /** Stops the server and waits until its postmaster has exited; {@link #start()} starts it again with the same settings. */
    public void stop(ShutdownMode mode) {
        if (startCommand == null) {
            // The command line the server was started with, to start it again the same way.
            dataDirectory = Path.of(queryOne("postgres", "SHOW data_directory"));
            try {
                startCommand = commandLine(Files.readString(dataDirectory.resolve("postmaster.opts")).strip());
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read postmaster.opts of " + dataDirectory, e);
            }
        }
        long pid;
        try {
            pid = Long.parseLong(Files.readAllLines(dataDirectory.resolve("postmaster.pid")).get(0).strip());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read postmaster.pid of " + dataDirectory, e);
        }
        ProcessHandle postmaster = ProcessHandle.of(pid).orElseThrow(() -> new IllegalStateException("No postmaster with pid " + pid));
        run(List.of("kill", "-" + mode.signal, Long.toString(pid)));
        try {
            postmaster.onExit().get(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("PostgreSQL did not stop within 60 s", e);
        }
    }

    /** Starts a server {@link #stop stopped} before, waiting until it accepts connections. */
    public void start() {
        if (startCommand == null) {
            throw new IllegalStateException("The server was not stopped");
        }
        try {
            if (restartLog == null) {
                restartLog = Files.createTempFile("tributary-postgres-restart", ".log");
            }
            List<String> command = new ArrayList<>();
            if ("root".equals(System.getProperty("user.name"))) {
                // PostgreSQL refuses to run as root; like the library, start it in a user namespace.
                command.addAll(List.of("unshare", "-U"));
            }
            command.addAll(startCommand);
            restarted = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(restartLog.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start PostgreSQL", e);
        }
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try (Connection c = connect("postgres")) {
                return;
            } catch (SQLException e) {
                if (System.nanoTime() > deadline || !restarted.isAlive()) {
                    String log;
                    try {
                        log = Files.readString(restartLog);
                    } catch (IOException unreadable) {
                        log = unreadable.toString();
                    }
                    throw new IllegalStateException("PostgreSQL did not accept connections after a restart: " + e.getMessage() + "; its log: " + log, e);
                }
                try {
                    restarted.waitFor(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("Interrupted while PostgreSQL restarts", interrupted);
                }
            }
        }
    }

    /** Splits postmaster.opts: the binary, then each argument in double quotes. */
    private static List<String> commandLine(String opts) {
        List<String> out = new ArrayList<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"([^\"]*)\"|(\\S+)").matcher(opts);
        while (m.find()) {
            out.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        return out;
    }

    private static void run(List<String> command) {
        try {
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IllegalStateException("Command failed: " + command);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("Interrupted while running " + command, e);
        }
    }

    /** Drops every replication slot that is not in use, so tests leave nothing behind. */
    public void dropInactiveSlots() {
        execute("postgres", "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE NOT active");
    }

    @Override
    public void close() {
        if (restarted != null && restarted.isAlive()) {
            // Started by this fixture, not by the library, which cannot stop it then.
            stop(ShutdownMode.FAST);
        }
        try {
            server.close();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot stop embedded PostgreSQL", e);
        }
    }
}
