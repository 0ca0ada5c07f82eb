package io.tributary.cli;

import static io.tributary.cli.CliRun.tributary;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tributary.config.ConfigLoader;
import io.tributary.config.PipelineConfig;
import io.tributary.lake.Lake;
import io.tributary.pipeline.Pipeline;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ErrorCode;
import io.tributary.source.postgres.Lsn;
import io.tributary.spi.TributaryException;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replication slot that lost changes while the pipeline was down (dropped, dropped and created
 * again, invalidated past {@code max_slot_wal_keep_size}): the pipeline refuses to start with
 * SLOT_GAP naming the slot and both positions, and {@code tributary resnapshot} is the way out,
 * after which silver equals the source again.
 */
class SlotGapIT {
    private static TestingPostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        // A slot may keep at most 1 MB of WAL beyond max_wal_size, so a few WAL segments and a
        // checkpoint invalidate an inactive one.
        postgres = new TestingPostgres(List.of("max_slot_wal_keep_size=1MB", "max_wal_size=32MB", "min_wal_size=32MB"));
    }

    @AfterAll
    static void stop() {
        postgres.dropInactiveSlots();
        postgres.close();
    }

    private Path pipeline(String name) throws Exception {
        postgres.createDatabase(name);
        postgres.execute(name, "CREATE TABLE items (id int PRIMARY KEY, label text)",
                "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 50) g");
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                name: %s
                source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                lake: {warehouse: ./%s-lake}
                commit: {interval: 200ms}
                """.formatted(name, postgres.port(), name, name));
        CliRun first = tributary("run", "-c", file.toString(), "--once");
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertSilverEqualsSource(file, name);
        return file;
    }

    /** Changes made while the pipeline is down; some land in the gap. */
    private static void changeWhileDown(String db) {
        postgres.execute(db, "INSERT INTO items SELECT g, 'late ' || g FROM generate_series(51, 80) g",
                "UPDATE items SET label = 'changed' WHERE id % 7 = 0", "DELETE FROM items WHERE id % 11 = 0");
    }

    private static Lsn lakeLsn(Path file) {
        PipelineConfig config = new ConfigLoader().load(file);
        try (Lake lake = Lake.open(config.lake(), config.name(), config::optionsFor)) {
            return Lsn.of(lake.committedState().orElseThrow().watermark());
        }
    }

    private static TributaryException refusal(Path file) {
        PipelineConfig config = new ConfigLoader().load(file);
        try (Pipeline pipeline = Pipeline.open(config)) {
            TributaryException e = catchThrowableOfType(() -> pipeline.run(ChangeSource.RunMode.CATCH_UP), TributaryException.class);
            pipeline.lake().close();
            assertThat(e).as("the pipeline must refuse to start").isNotNull();
            assertThat(e.errorCode()).isEqualTo(ErrorCode.SLOT_GAP);
            return e;
        }
    }

    private void resnapshotAndCatchUp(Path file, String db) {
        CliRun resnapshot = tributary("resnapshot", "-c", file.toString());
        assertThat(resnapshot.exitCode()).as(resnapshot.err()).isZero();
        assertThat(resnapshot.out()).contains("new initial snapshot");
        CliRun run = tributary("run", "-c", file.toString(), "--once");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertSilverEqualsSource(file, db);
        // Resumes normally afterwards: later changes stream in.
        postgres.execute(db, "UPDATE items SET label = 'after' WHERE id = 1", "INSERT INTO items VALUES (1000, 'new')");
        CliRun again = tributary("run", "-c", file.toString(), "--once");
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertSilverEqualsSource(file, db);
    }

    private static void assertSilverEqualsSource(Path file, String db) {
        CliRun silver = tributary("sql", "-c", file.toString(), "--format", "csv", "SELECT id, label FROM silver.items ORDER BY id");
        assertThat(silver.exitCode()).as(silver.err()).isZero();
        String source = "id,label" + System.lineSeparator() + postgres.query(db, "SELECT id, label FROM items ORDER BY id").stream()
                .map(row -> String.join(",", row)).collect(Collectors.joining(System.lineSeparator())) + System.lineSeparator();
        assertThat(silver.out()).isEqualTo(source);
    }

    @Test
    void slotDroppedWhileDown() throws Exception {
        Path file = pipeline("dropped");
        postgres.execute("postgres", "SELECT pg_drop_replication_slot('tributary_dropped')");
        changeWhileDown("dropped");

        TributaryException e = refusal(file);
        assertThat(e.getMessage()).contains("replication slot tributary_dropped", "does not exist", lakeLsn(file).toString(),
                "tributary resnapshot -c");
        CliRun cli = tributary("run", "-c", file.toString(), "--once");
        assertThat(cli.exitCode()).isEqualTo(4);
        assertThat(cli.err()).contains("tributary_dropped", "tributary resnapshot").doesNotContain("\tat ");

        resnapshotAndCatchUp(file, "dropped");
    }

    @Test
    void slotDroppedAndCreatedAgainWhileDown() throws Exception {
        Path file = pipeline("recreated");
        changeWhileDown("recreated");
        postgres.execute("recreated", "SELECT pg_drop_replication_slot('tributary_recreated')",
                "SELECT pg_create_logical_replication_slot('tributary_recreated', 'pgoutput')");
        postgres.execute("recreated", "UPDATE items SET label = 'after the new slot' WHERE id = 2");
        String slotLsn = postgres.queryOne("postgres", "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'tributary_recreated'");

        TributaryException e = refusal(file);
        assertThat(e.getMessage()).contains("replication slot tributary_recreated", "confirmed through " + slotLsn, "ahead of the lake's " + lakeLsn(file),
                "tributary resnapshot -c");

        resnapshotAndCatchUp(file, "recreated");
    }

    @Test
    void slotInvalidatedWhileDown() throws Exception {
        Path file = pipeline("invalidated");
        changeWhileDown("invalidated");
        // Past max_slot_wal_keep_size, the next checkpoint removes WAL the inactive slot still needs.
        postgres.execute("postgres", "CREATE TABLE IF NOT EXISTS filler (payload text)");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (!"lost".equals(postgres.queryOne("postgres", "SELECT wal_status FROM pg_replication_slots WHERE slot_name = 'tributary_invalidated'"))) {
            assertThat(Instant.now()).as("slot should be invalidated").isBefore(deadline);
            postgres.execute("postgres", "INSERT INTO filler SELECT repeat('x', 1000) FROM generate_series(1, 2000)", "SELECT pg_switch_wal()", "CHECKPOINT");
        }
        postgres.execute("postgres", "TRUNCATE filler");

        TributaryException e = refusal(file);
        assertThat(e.getMessage()).contains("replication slot tributary_invalidated", "invalidated", "wal_status lost", lakeLsn(file).toString(),
                "tributary resnapshot -c");

        resnapshotAndCatchUp(file, "invalidated");
    }

    @Test
    void resnapshotIsRefusedWhileThePipelineRuns() throws Exception {
        Path file = pipeline("running");
        postgres.execute("running", "SELECT pg_drop_replication_slot('tributary_running')");
        try (java.sql.Connection replication = postgres.connect("running"); java.sql.Statement s = replication.createStatement()) {
            // Holds the slot the way a running pipeline's walsender does.
            s.execute("SELECT pg_create_logical_replication_slot('tributary_running', 'pgoutput', true)");
            CliRun r = tributary("resnapshot", "-c", file.toString());
            assertThat(r.exitCode()).isEqualTo(3);
            assertThat(r.err()).contains("tributary_running", "in use by a running pipeline");
        }
    }
}
