package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.testing.ChildJvm;
import io.tributary.testing.TestingPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The least-privilege set-up of docs/security.md (a role with only LOGIN REPLICATION and SELECT, the
 * publication created beforehand by the tables' owner), the superuser warning, secrets that never
 * appear in any output or file (a canary password given by {@code ${env:…}} and {@code ${file:…}},
 * in successful and failing runs), and {@code sslmode} reaching the connection. Every command runs
 * as a child JVM, so its whole output (stdout, stderr, logs) is captured.
 */
class SecurityIT {
    private static final String CANARY = "canary-7Hq2-Zx91-secret";
    private static final String WRONG_CANARY = "canary-wrong-Lp04-secret";
    private static final String PASSWORD_VARIABLE = "TRIBUTARY_TEST_PGPASSWORD";
    private static TestingPostgres postgres;

    @TempDir
    static Path dir;

    @BeforeAll
    static void start() throws Exception {
        // The superuser keeps trust for the fixture; every other role must give a password (SCRAM).
        Path hba = dir.resolve("pg_hba.conf");
        Files.writeString(hba, """
                local all all trust
                host all postgres 127.0.0.1/32 trust
                host all all 127.0.0.1/32 scram-sha-256
                """);
        postgres = new TestingPostgres(List.of("hba_file=" + hba));
        postgres.createDatabase("shop");
        postgres.execute("shop", "CREATE TABLE orders (id int PRIMARY KEY, customer text)",
                "INSERT INTO orders VALUES (1, 'ada'), (2, 'bob'), (3, 'cy')",
                // As in docs/security.md: the owner publishes, the capturing role only reads.
                "CREATE PUBLICATION tributary_least FOR TABLE public.orders",
                "CREATE ROLE replicator WITH LOGIN REPLICATION PASSWORD '" + CANARY + "'",
                "GRANT SELECT ON public.orders TO replicator");
        Files.writeString(dir.resolve("pg.secret"), CANARY);
        Files.writeString(dir.resolve("wrong.secret"), WRONG_CANARY);
    }

    @AfterAll
    static void stop() {
        postgres.dropInactiveSlots();
        postgres.close();
    }

    record Run(int exitCode, String output) {
    }

    private static final List<Path> LOGS = new ArrayList<>();

    private static Run tributary(String name, Map<String, String> environment, String... args) throws Exception {
        Path log = dir.resolve(name + ".log");
        LOGS.add(log);
        try (ChildJvm jvm = ChildJvm.start(Main.class.getName(), List.of(), List.of(args), log, environment)) {
            OptionalInt exit = jvm.waitFor(Duration.ofSeconds(120));
            assertThat(exit).as("%s did not end; log: %s", name, log).isPresent();
            return new Run(exit.getAsInt(), Files.readString(log));
        }
    }

    private static Path config(String file, String name, String user, String password, int port, String sslmode) throws Exception {
        Path path = dir.resolve(file);
        Files.writeString(path, """
                name: %s
                source:
                  host: 127.0.0.1
                  port: %d
                  database: shop
                  user: %s
                  %s
                  sslmode: %s
                  tables: [public.orders]
                  publication: tributary_least
                lake:
                  warehouse: ./%s-lake
                commit:
                  interval: 200ms
                """.formatted(name, port, user, password == null ? "" : "password: " + password, sslmode, name));
        return path;
    }

    @Test
    void leastPrivilegeRoleCapturesWithoutWarningAndNoSecretLeaks() throws Exception {
        Map<String, String> env = Map.of(PASSWORD_VARIABLE, CANARY);
        Path least = config("least.yaml", "least", "replicator", "${env:" + PASSWORD_VARIABLE + "}", postgres.port(), "disable");

        Run run = tributary("least-run", env, "run", "-c", least.toString(), "--once");
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).contains("Caught up with the source").doesNotContain("Capturing as superuser");
        try (Lake lake = Lake.open(new LakeConfig(dir.resolve("least-lake"), LakeConfig.RawLayer.ENABLED), "least", t -> TableOptions.DEFAULT);
             QueryEngine q = QueryEngine.open(lake.tables())) {
            assertThat(q.query("SELECT id, customer FROM silver.orders ORDER BY id").rows().stream().map(r -> r.get(0) + ":" + r.get(1)).toList())
                    .isEqualTo(postgres.query("shop", "SELECT id, customer FROM orders ORDER BY id").stream().map(r -> r.get(0) + ":" + r.get(1)).toList());
        }
        postgres.execute("shop", "INSERT INTO orders VALUES (4, 'di')");
        Path byFile = config("least-file.yaml", "least", "replicator", "${file:pg.secret}", postgres.port(), "disable");
        Run again = tributary("least-file-run", Map.of(), "run", "-c", byFile.toString(), "--once");
        assertThat(again.exitCode()).as(again.output()).isZero();
        Run status = tributary("least-status", env, "status", "-c", least.toString(), "--json");
        assertThat(status.exitCode()).as(status.output()).isZero();
        assertThat(status.output()).contains("\"rows\" : 4");
        Run sql = tributary("least-sql", env, "sql", "-c", least.toString(), "--format", "csv", "SELECT count(*) AS n FROM silver.orders");
        assertThat(sql.output()).contains("n\n4");
        Run badSql = tributary("least-bad-sql", env, "sql", "-c", least.toString(), "SELECT nope FROM silver.orders");
        assertThat(badSql.exitCode()).isEqualTo(3);

        Path superuser = config("super.yaml", "super", "postgres", null, postgres.port(), "disable");
        Run asSuperuser = tributary("super-run", Map.of(), "run", "-c", superuser.toString(), "--once");
        assertThat(asSuperuser.exitCode()).as(asSuperuser.output()).isZero();
        assertThat(asSuperuser.output()).contains("Capturing as superuser postgres", "Least privilege");

        // Failing runs: the wrong password, an unreachable server, TLS the server does not offer.
        Path wrong = config("wrong.yaml", "wrong", "replicator", "${file:wrong.secret}", postgres.port(), "disable");
        Run wrongPassword = tributary("wrong-password", Map.of(), "run", "-c", wrong.toString(), "--once");
        assertThat(wrongPassword.exitCode()).isEqualTo(4);
        assertThat(wrongPassword.output()).contains("authentication failed", "${file:wrong.secret}");
        Run wrongStatus = tributary("wrong-status", Map.of(), "status", "-c", wrong.toString());
        assertThat(wrongStatus.output()).contains("authentication failed");
        Path unreachable = config("unreachable.yaml", "gone", "replicator", "${env:" + PASSWORD_VARIABLE + "}", 1, "disable");
        Run gone = tributary("unreachable", env, "run", "-c", unreachable.toString(), "--once", "--debug");
        assertThat(gone.exitCode()).isEqualTo(4);
        assertThat(gone.output()).contains("127.0.0.1:1");

        List<String> files;
        try (Stream<Path> walk = Files.walk(dir)) {
            files = walk.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().endsWith(".secret")).map(Path::toString).collect(Collectors.toList());
        }
        assertThat(files).as("every log and lake file").hasSizeGreaterThan(LOGS.size());
        for (String file : files) {
            String content = new String(Files.readAllBytes(Path.of(file)), StandardCharsets.ISO_8859_1);
            assertThat(content).as(file).doesNotContain(CANARY).doesNotContain(WRONG_CANARY);
        }
    }

    @Test
    void sslmodeReachesTheConnection() throws Exception {
        Path require = config("require.yaml", "tls", "postgres", null, postgres.port(), "require");
        Run refused = tributary("sslmode-require", Map.of(), "run", "-c", require.toString(), "--once");
        assertThat(refused.exitCode()).isEqualTo(4);
        assertThat(refused.output()).contains("source.sslmode require", "does not support SSL").doesNotContain("\tat ");
        Path disable = config("disable.yaml", "tls", "postgres", null, postgres.port(), "disable");
        Run plain = tributary("sslmode-disable", Map.of(), "run", "-c", disable.toString(), "--once");
        assertThat(plain.exitCode()).as(plain.output()).isZero();
    }
}
