package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.testing.TestingPostgres;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real command line against a real PostgreSQL: results, exit codes, messages, secret masking. */
class CommandLineIT {
    private static final String CANARY = "canary-Pa55word-7f3a";
    private static TestingPostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
        postgres.createDatabase("shop");
        postgres.execute("shop", "CREATE TABLE orders (id int PRIMARY KEY, customer text, amount numeric(10,2))",
                "INSERT INTO orders VALUES (1, 'ada', 10.50), (2, 'bob', 20.00), (3, 'cy, \"the\" third', 30.25)");
    }

    @AfterAll
    static void stop() {
        postgres.close();
    }

    record Result(int exitCode, String out, String err) {
    }

    private static Result tributary(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        java.io.PrintStream originalErr = System.err;
        java.io.ByteArrayOutputStream logs = new java.io.ByteArrayOutputStream();
        System.setErr(new java.io.PrintStream(logs, true));
        int code;
        try {
            code = Main.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        } finally {
            System.setErr(originalErr);
        }
        return new Result(code, out.toString(), err + logs.toString());
    }

    private Path config(String database, int port, String extra) throws Exception {
        Files.writeString(dir.resolve("pg.secret"), CANARY);
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, """
                name: shop
                source:
                  host: 127.0.0.1
                  port: %d
                  database: %s
                  user: postgres
                  password: ${file:pg.secret}
                  sslmode: disable
                lake:
                  warehouse: ./lake
                commit:
                  interval: 200ms
                %s
                """.formatted(port, database, extra));
        return file;
    }

    @Test
    void runsOnceThenQueriesAndReportsStatus() throws Exception {
        Path config = config("shop", postgres.port(), "");
        Result run = tributary("run", "-c", config.toString(), "--once");
        assertThat(run.exitCode()).as(run.err()).isZero();

        Result table = tributary("sql", "-c", config.toString(), "SELECT id, customer, amount FROM silver.orders ORDER BY id");
        assertThat(table.exitCode()).isZero();
        assertThat(table.out()).contains("id | customer", "10.50", "(3 rows)");

        Result csv = tributary("sql", "-c", config.toString(), "--format", "csv", "SELECT id, customer FROM silver.orders ORDER BY id");
        assertThat(csv.out()).isEqualTo(String.join(System.lineSeparator(), "id,customer", "1,ada", "2,bob", "3,\"cy, \"\"the\"\" third\"") + System.lineSeparator());

        Result json = tributary("sql", "-c", config.toString(), "--format", "json", "SELECT id, amount FROM silver.orders WHERE id = 3");
        assertThat(json.out().replaceAll("\\s", "")).isEqualTo("[{\"id\":3,\"amount\":30.25}]");

        Result status = tributary("status", "-c", config.toString(), "--json");
        assertThat(status.exitCode()).isZero();
        assertThat(status.out()).contains("\"table\" : \"silver.orders\"", "\"rows\" : 3", "\"lagBytes\"");

        Result bad = tributary("sql", "-c", config.toString(), "SELECT nope FROM silver.orders");
        assertThat(bad.exitCode()).isEqualTo(3);
        assertThat(bad.err()).contains("nope").doesNotContain("\tat ");

        for (Result r : List.of(run, table, csv, json, status, bad)) {
            assertThat(r.out() + r.err()).doesNotContain(CANARY);
        }
    }

    @Test
    void configurationErrorsListEveryProblem() throws Exception {
        Path file = dir.resolve("bad.yaml");
        Files.writeString(file, """
                source:
                  host: 127.0.0.1
                  port: seventy
                lake:
                  warehose: ./lake
                """);
        Result r = tributary("run", "-c", file.toString());
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).contains("source.port", "source.database", "source.user", "lake.warehouse", "lake.warehose", "did you mean 'warehouse'?")
                .doesNotContain("\tat ");
    }

    @Test
    void unreachableDatabaseIsAnExternalError() throws Exception {
        Path config = config("shop", 1, "");
        Result r = tributary("run", "-c", config.toString(), "--once");
        assertThat(r.exitCode()).isEqualTo(4);
        assertThat(r.err()).contains("127.0.0.1:1", "Check that the server runs").doesNotContain("\tat ").doesNotContain(CANARY);
    }

    @Test
    void walLevelOtherThanLogicalNamesTheFix() throws Exception {
        try (TestingPostgres replica = new TestingPostgres(List.of("wal_level=replica"))) {
            Path config = config("postgres", replica.port(), "");
            Result r = tributary("run", "-c", config.toString(), "--once");
            assertThat(r.exitCode()).isEqualTo(4);
            assertThat(r.err()).contains("wal_level is 'replica'", "ALTER SYSTEM SET wal_level = logical");
        }
    }

    @Test
    void missingTableIsAUserError() throws Exception {
        Path config = config("shop", postgres.port(), "").resolveSibling("missing.yaml");
        Files.writeString(config, Files.readString(dir.resolve("pipeline.yaml")).replace("sslmode: disable", "sslmode: disable\n  tables: [public.orders, public.nothere]\n  slot: tributary_missing\n  publication: tributary_missing"));
        Result r = tributary("run", "-c", config.toString(), "--once");
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).contains("public.nothere", "no such table");
    }

    @Test
    void wrongPasswordIsAnExternalErrorThatNamesTheReference() throws Exception {
        // The superuser keeps trust for the fixture; every other role must give a password (SCRAM).
        Path hba = dir.resolve("pg_hba.conf");
        Files.writeString(hba, """
                local all all trust
                host all postgres 127.0.0.1/32 trust
                host all all 127.0.0.1/32 scram-sha-256
                """);
        try (TestingPostgres secured = new TestingPostgres(List.of("hba_file=" + hba))) {
            secured.execute("postgres", "CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD 'the-right-one'");
            Path config = config("postgres", secured.port(), "");
            Files.writeString(config, Files.readString(config).replace("user: postgres", "user: replicator"));
            Result r = tributary("run", "-c", config.toString(), "--once");
            assertThat(r.exitCode()).isEqualTo(4);
            assertThat(r.err()).contains("authentication failed", "${file:pg.secret}").doesNotContain(CANARY).doesNotContain("\tat ");
        }
    }
}
