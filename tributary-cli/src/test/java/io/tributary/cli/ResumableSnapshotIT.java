package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.commit.CommittedState;
import io.tributary.query.QueryEngine;
import io.tributary.testing.ChildJvm;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The initial snapshot of a large table resumes where it stopped: a pipeline is killed with SIGKILL
 * after some chunks of its initial snapshot were committed, while a writer updates, deletes and
 * inserts rows on both sides of the crash point; the restarted pipeline must not read the committed
 * chunks again, silver must equal the source exactly and bronze must hold no position twice. A
 * keyless table beside it takes the blocking snapshot. Logs and the lake stay under
 * {@code target/resumable-snapshot/}.
 */
class ResumableSnapshotIT {
    private static final int BIG_ROWS = Integer.getInteger("tributary.resumable.rows", 300_000);
    private static final int SMALL_ROWS = 60_000;
    private static final int CHUNK = 5_000;

    private static final String BIG_SUM = "SELECT count(*)::text, coalesce(sum(hashtext(id::text || '|' || grp::text || '|' || label || '|' || amount::text)::bigint), 0)::text FROM %s";
    private static final String SMALL_SUM = "SELECT count(*)::text, coalesce(sum(hashtext(id::text || '|' || coalesce(name, '<null>') || '|' || qty::text)::bigint), 0)::text FROM %s";
    private static final String LOOSE_SUM = "SELECT count(*)::text, coalesce(sum(hashtext(a::text || '|' || b)::bigint), 0)::text FROM %s";

    @Test
    void aKilledInitialSnapshotResumesFromItsLastCommittedChunk() throws Exception {
        Path dir = emptyDir("resumable-snapshot");
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("resnap");
            postgres.execute(db, "CREATE TABLE big (id bigint PRIMARY KEY, grp int NOT NULL, label text NOT NULL, amount numeric(12,2) NOT NULL)",
                    "INSERT INTO big SELECT g, g % 97, 'row ' || g, (g % 100000) / 100.0 FROM generate_series(1, " + BIG_ROWS + ") g",
                    "CREATE TABLE small (id int PRIMARY KEY, name text, qty int NOT NULL)",
                    "INSERT INTO small SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE 'item ' || g END, g % 13 FROM generate_series(1, " + SMALL_ROWS + ") g",
                    "CREATE TABLE loose (a int, b text NOT NULL)", "ALTER TABLE loose REPLICA IDENTITY FULL",
                    "INSERT INTO loose SELECT g % 1000, 'same ' || (g % 1000) FROM generate_series(1, 3000) g",
                    "ANALYZE big", "ANALYZE small", "ANALYZE loose");
            Path config = dir.resolve("pipeline.yaml");
            Files.writeString(config, """
                    name: resnap
                    source:
                      host: 127.0.0.1
                      port: %d
                      database: %s
                      user: postgres
                      sslmode: disable
                      tables: [public.big, public.small, public.loose]
                      snapshot: {chunk-size: %d, resumable-above: 50000}
                    lake: {warehouse: ./lake}
                    commit: {interval: 200ms, max-events: 5000}
                    """.formatted(postgres.port(), db, CHUNK));
            LakeConfig lakeConfig = new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED);

            // Changes throughout: rows the snapshot has read (low ids) and rows it has not (high ids).
            AtomicBoolean writing = new AtomicBoolean(true);
            AtomicInteger transactions = new AtomicInteger();
            AtomicReference<Throwable> writeFailure = new AtomicReference<>();
            Thread writer = new Thread(() -> {
                try {
                    for (int i = 1; writing.get(); i++) {
                        int low = 1 + (i * 7919) % 20_000;
                        int high = BIG_ROWS - (i * 104_729) % 40_000;
                        // One change per transaction: Debezium emits a chunk inside the transaction whose
                        // change closed its window, and the chunk's progress is committed with that
                        // transaction's end (see docs/guarantees.md, initial snapshot).
                        postgres.execute(db,
                                "UPDATE big SET label = 'low " + i + "', amount = amount + 1 WHERE id = " + low,
                                "UPDATE big SET label = 'high " + i + "', grp = grp + 1 WHERE id = " + high,
                                "DELETE FROM big WHERE id IN (" + (low + 20_000) + ", " + (high - 40_000) + ")",
                                "INSERT INTO big VALUES (" + (BIG_ROWS + i) + ", 1, 'new " + i + "', 0.5)",
                                "UPDATE small SET qty = qty + 1, name = 'changed " + i + "' WHERE id = " + (1 + (i * 31) % SMALL_ROWS),
                                "DELETE FROM small WHERE id = " + (1 + (i * 53) % SMALL_ROWS),
                                "INSERT INTO loose VALUES (" + (i % 1000) + ", 'same " + (i % 1000) + "')");
                        transactions.incrementAndGet();
                        Thread.sleep(20);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    writeFailure.set(e);
                }
            }, "resumable-snapshot-writer");
            writer.start();

            Path killedLog = dir.resolve("run-killed.log");
            long readBeforeKill;
            try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", config.toString()), killedLog)) {
                long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
                long reads = 0;
                boolean progressCommitted = false;
                // Killed once several chunks and the snapshot's progress are committed: a chunk read
                // inside a transaction is committed with the offset before that transaction, and its
                // progress with the transaction's end.
                while (reads < 6L * CHUNK || !progressCommitted) {
                    assertThat(System.nanoTime()).as("chunks of big and their progress committed in time; log %s", killedLog).isLessThan(deadline);
                    assertThat(run.isAlive()).as("the pipeline died early: %s", killedLog).isTrue();
                    Thread.sleep(300);
                    reads = bigReads(lakeConfig);
                    progressCommitted = committedState(lakeConfig).map(s -> s.offset().token()).filter(t -> t.contains("incremental_snapshot_collections")
                            && t.contains("public.big")).isPresent();
                }
                run.kill();
            }
            readBeforeKill = bigReads(lakeConfig);
            Optional<CommittedState> atKill = committedState(lakeConfig);
            assertThat(readBeforeKill).as("the crash came in the middle of the snapshot of big").isGreaterThanOrEqualTo(6L * CHUNK).isLessThan(BIG_ROWS - 2L * CHUNK);
            assertThat(atKill).isPresent();
            assertThat(atKill.get().offset().token()).as("the committed offset records the snapshot's progress").contains("incremental_snapshot_collections", "public.big");
            assertThat(postgres.queryOne(db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'tributary_resnap'")).isEqualTo("1");
            CliRun status = CliRun.tributary("status", "-c", config.toString());
            assertThat(status.exitCode()).as(status.err()).isZero();
            assertThat(status.out()).contains("initial snapshot running for public.big, public.small");
            int atKillTransactions = transactions.get();
            // More changes while the pipeline is down.
            long moreBy = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (transactions.get() < atKillTransactions + 50) {
                assertThat(writer.isAlive()).as("the source writer stopped early").isTrue();
                assertThat(System.nanoTime()).as("50 more source transactions in time").isLessThan(moreBy);
                Thread.sleep(50);
            }

            Path resumedLog = dir.resolve("run-resumed.log");
            try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", config.toString(), "--once"), resumedLog)) {
                OptionalInt exit = run.waitFor(Duration.ofMinutes(10));
                assertThat(exit).as("resumed run finished; log %s", resumedLog).isPresent();
                assertThat(exit.getAsInt()).as(Files.readString(resumedLog)).isZero();
            }
            writing.set(false);
            writer.join();
            assertThat(writeFailure.get()).isNull();
            String resumed = Files.readString(resumedLog);
            assertThat(resumed).as("the restart resumed the snapshot on the same slot").contains("Resuming the snapshot of table(s) [public.big")
                    .doesNotContain("Dropped replication slot");
            // What the writer committed after the resumed run's fence arrives with one more run.
            Path settleLog = dir.resolve("run-settle.log");
            try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", config.toString(), "--once"), settleLog)) {
                OptionalInt exit = run.waitFor(Duration.ofMinutes(5));
                assertThat(exit).as("settling run finished; log %s", settleLog).isPresent();
                assertThat(exit.getAsInt()).as(Files.readString(settleLog)).isZero();
            }

            CliRun settled = CliRun.tributary("status", "-c", config.toString());
            assertThat(settled.exitCode()).as(settled.err()).isZero();
            assertThat(settled.out()).doesNotContain("initial snapshot running");
            int inserted = transactions.get();
            try (Lake lake = Lake.open(lakeConfig, "resnap", t -> TableOptions.DEFAULT); QueryEngine q = QueryEngine.open(lake.tables())) {
                long reads = ((Number) q.query("SELECT count(*) FROM bronze.big WHERE _op = 'r'").rows().get(0).get(0)).longValue();
                System.out.printf("ResumableSnapshotIT: %,d reads of big committed before the kill, %,d in all (%,d rows, %,d writer rounds of eight single-change transactions)%n",
                        readBeforeKill, reads, BIG_ROWS, inserted);
                // Each row is read once; the chunk in flight at the crash, and one committed inside a
                // transaction whose end was not committed, may be read again; rows inserted during the
                // snapshot may be read as well as streamed.
                assertThat(reads).as("the restart did not read the committed chunks again").isLessThanOrEqualTo((long) BIG_ROWS + 2L * CHUNK + inserted);
                assertThat(postgres.checksumRows(db, "big", q.query("SELECT id, grp, label, amount FROM silver.big").rows(), BIG_SUM))
                        .as("silver.big").isEqualTo(postgres.query(db, BIG_SUM.formatted("big")).get(0));
                assertThat(postgres.checksumRows(db, "small", q.query("SELECT id, name, qty FROM silver.small").rows(), SMALL_SUM))
                        .as("silver.small").isEqualTo(postgres.query(db, SMALL_SUM.formatted("small")).get(0));
                assertThat(postgres.checksumRows(db, "loose", q.query("SELECT a, b FROM silver.loose").rows(), LOOSE_SUM))
                        .as("silver.loose").isEqualTo(postgres.query(db, LOOSE_SUM.formatted("loose")).get(0));
                for (String table : List.of("big", "small", "loose")) {
                    assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze." + table).rows().get(0).get(0))
                            .as("positions written twice in bronze.%s", table).isEqualTo(0L);
                }
                assertThat(((Number) q.query("SELECT count(*) FROM bronze.loose WHERE _op = 'r'").rows().get(0).get(0)).longValue())
                        .as("the keyless table took the blocking snapshot").isGreaterThanOrEqualTo(3000L);
            }
            postgres.dropInactiveSlots();
        }
    }

    /**
     * The pipeline dies at the crash point between committing a micro-batch of chunk rows to its
     * tables and recording it in the state table, then some of those rows are deleted at the source:
     * the chunk read again after the restart is shorter, so its rows take other positions than the
     * first time. The tables must be rolled back to the state table's watermark, or the rows that now
     * fall at positions the tables already hold would be skipped.
     */
    @Test
    void aChunkCommittedToItsTablesButNotRecordedIsReadAgainWhole() throws Exception {
        Path dir = emptyDir("resumable-snapshot-crash-point");
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("chunkcrash");
            postgres.execute(db, "CREATE TABLE big (id bigint PRIMARY KEY, grp int NOT NULL, label text NOT NULL, amount numeric(12,2) NOT NULL)",
                    "INSERT INTO big SELECT g, g % 97, 'row ' || g, (g % 100000) / 100.0 FROM generate_series(1, 40000) g", "ANALYZE big");
            Path config = dir.resolve("pipeline.yaml");
            Files.writeString(config, """
                    name: chunkcrash
                    source:
                      host: 127.0.0.1
                      port: %d
                      database: %s
                      user: postgres
                      sslmode: disable
                      tables: [public.big]
                      snapshot: {chunk-size: 2000, resumable-above: 10000}
                    lake: {warehouse: ./lake}
                    commit: {interval: 200ms, max-events: 1500}
                    """.formatted(postgres.port(), db));
            LakeConfig lakeConfig = new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED);
            List<Long> ahead = List.of();
            for (int crashAt = 3; ahead.isEmpty(); crashAt += 2) {
                assertThat(crashAt).as("a micro-batch of chunk rows was committed to the tables and not recorded; logs in %s", dir).isLessThan(20);
                Path log = dir.resolve("run-crash-" + crashAt + ".log");
                try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of("-D" + io.tributary.spi.CrashPoint.PROPERTY + "=" + io.tributary.spi.CrashPoint.TABLES_COMMITTED + "@" + crashAt),
                        List.of("run", "-c", config.toString()), log)) {
                    OptionalInt exit = run.waitFor(Duration.ofMinutes(3));
                    assertThat(exit).as("the pipeline reached the crash point; log %s", log).isPresent();
                    assertThat(exit.getAsInt()).as(Files.readString(log)).isEqualTo(io.tributary.spi.CrashPoint.EXIT_CODE);
                }
                Optional<CommittedState> state = committedState(lakeConfig);
                if (state.isEmpty()) {
                    continue;
                }
                try (Lake lake = Lake.open(lakeConfig, "chunkcrash", t -> TableOptions.DEFAULT); QueryEngine q = QueryEngine.open(lake.tables())) {
                    if (lake.tables().stream().anyMatch(t -> t.qualifiedName().equals("bronze.big"))) {
                        ahead = q.query("SELECT id FROM bronze.big WHERE _op = 'r' AND _position > '" + state.get().watermark().encoded() + "' ORDER BY id").rows()
                                .stream().map(r -> ((Number) r.get(0)).longValue()).toList();
                    }
                }
            }
            // Rows of the unrecorded micro-batch disappear before the restart reads their chunk again.
            List<Long> deleted = ahead.subList(0, Math.min(10, ahead.size()));
            postgres.execute(db, "DELETE FROM big WHERE id IN (" + String.join(", ", deleted.stream().map(String::valueOf).toList()) + ")",
                    "UPDATE big SET label = 'changed' WHERE id = " + ahead.get(ahead.size() - 1));

            Path resumedLog = dir.resolve("run-resumed.log");
            try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", config.toString(), "--once"), resumedLog)) {
                OptionalInt exit = run.waitFor(Duration.ofMinutes(5));
                assertThat(exit).as("resumed run finished; log %s", resumedLog).isPresent();
                assertThat(exit.getAsInt()).as(Files.readString(resumedLog)).isZero();
            }
            try (Lake lake = Lake.open(lakeConfig, "chunkcrash", t -> TableOptions.DEFAULT); QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(postgres.checksumRows(db, "big", q.query("SELECT id, grp, label, amount FROM silver.big").rows(), BIG_SUM))
                        .as("silver.big after %d rows of the unrecorded micro-batch were deleted", deleted.size()).isEqualTo(postgres.query(db, BIG_SUM.formatted("big")).get(0));
                assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze.big").rows().get(0).get(0)).as("positions written twice in bronze.big").isEqualTo(0L);
            }
            assertThat(Files.readString(resumedLog)).contains("Rolled back bronze.big", "Rolled back silver.big");
            postgres.dropInactiveSlots();
        }
    }

    /** {@code target/<name>}, emptied: logs and the lake of a test stay there for a look after it. */
    private static Path emptyDir(String name) throws java.io.IOException {
        Path dir = Path.of("target", name).toAbsolutePath();
        if (Files.exists(dir)) {
            try (var old = Files.walk(dir)) {
                old.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        return Files.createDirectories(dir);
    }

    private static long bigReads(LakeConfig config) {
        try (Lake lake = Lake.open(config, "resnap", t -> TableOptions.DEFAULT)) {
            if (lake.tables().stream().noneMatch(t -> t.qualifiedName().equals("bronze.big"))) {
                return 0;
            }
            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                return ((Number) q.query("SELECT count(*) FROM bronze.big WHERE _op = 'r'").rows().get(0).get(0)).longValue();
            }
        }
    }

    private static Optional<CommittedState> committedState(LakeConfig config) {
        try (Lake lake = Lake.open(config, "resnap", t -> TableOptions.DEFAULT)) {
            return lake.committedState();
        }
    }
}
