package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.lake.Lake;
import io.tributary.lake.commit.CommittedState;
import io.tributary.query.QueryEngine;
import io.tributary.spi.CrashPoint;
import io.tributary.source.postgres.Lsn;
import io.tributary.testing.ChildJvm;
import io.tributary.testing.SeededWorkload;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Exactly-once under crashes: {@code tributary run} as a child JVM against a seeded, continuous
 * workload, killed with SIGKILL at random moments and halted at every named crash point of the
 * commit path (the first time mid initial snapshot). After each death the slot must not be
 * acknowledged past the lake; after the last, one {@code run --once} catches up and every silver
 * table must equal the source (count and order-independent checksum of all columns), bronze must
 * hold no position twice, and every account's version chain in bronze must be unbroken (no change
 * lost or repeated), and the SCD2 history must be consistent and end in silver. The seed is printed; replay with {@code -Dtributary.crash.seed=<seed>}, and
 * run more kills with {@code -Dtributary.crash.kills=<n>}.
 */
class CrashRecoveryIT {
    private static final List<String> CRASH_POINTS = List.of(CrashPoint.FILES_WRITTEN, CrashPoint.TABLE_COMMITTED,
            CrashPoint.TABLES_COMMITTED, CrashPoint.WATERMARK_RECORDED);

    private Path dir;

    @Test
    void survivesKillsAndCrashPoints() throws Exception {
        long seed = Long.getLong("tributary.crash.seed", System.nanoTime());
        int kills = Integer.getInteger("tributary.crash.kills", 30);
        // Kept after the run: the lake and every child's log, for a failure's post-mortem.
        dir = Path.of("target", "crash-recovery", Long.toString(seed)).toAbsolutePath();
        if (Files.exists(dir)) {
            try (var old = Files.walk(dir)) {
                old.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        Files.createDirectories(dir);
        System.out.printf("CrashRecoveryIT seed %d, %d kills, logs in %s (replay: -Dtributary.crash.seed=%d)%n", seed, kills, dir, seed);
        Random random = new Random(seed);
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("crash");
            Path config = dir.resolve("pipeline.yaml");
            Files.writeString(config, """
                    name: crash
                    source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                    lake: {warehouse: ./lake}
                    commit: {interval: 200ms, max-events: 5000}
                    """.formatted(postgres.port(), db));
            int survived = 0;
            int crashPoints = 0;
            try (SeededWorkload workload = new SeededWorkload(postgres, db, seed)) {
                workload.create(30_000);
                workload.start(150);
                for (int i = 0; i < kills; i++) {
                    Path log = dir.resolve("run-" + i + ".log");
                    String point = i == 0 ? CrashPoint.TABLE_COMMITTED + "@2"
                            : i % 3 == 1 ? CRASH_POINTS.get(random.nextInt(CRASH_POINTS.size())) + "@" + (1 + random.nextInt(3)) : null;
                    try (ChildJvm run = ChildJvm.start(Main.class.getName(), point == null ? List.of() : List.of("-D" + CrashPoint.PROPERTY + "=" + point),
                            List.of("run", "-c", config.toString()), log)) {
                        if (point != null) {
                            OptionalInt exit = run.waitFor(Duration.ofSeconds(60));
                            assertThat(exit).as("run %d should halt at %s; log %s", i, point, log).isPresent();
                            assertThat(exit.getAsInt()).as("run %d exit code; log: %s", i, Files.readString(log)).isEqualTo(CrashPoint.EXIT_CODE);
                            crashPoints++;
                        } else {
                            assertThat(run.waitFor(Duration.ofMillis(1_000 + random.nextInt(4_000)))).as("run %d died early: %s", i, log).isEmpty();
                            run.kill();
                        }
                    }
                    survived++;
                    assertSlotNotAheadOfLake(postgres, db);
                    if (i == 0) {
                        // The initial snapshot died half-way: a catch-up run starts it over and completes it.
                        catchUp(config, dir.resolve("run-0-catch-up.log"));
                    }
                }
            }
            // The source is quiet now: one catch-up run, then the lake must equal the source.
            catchUp(config, dir.resolve("run-final.log"));
            System.out.printf("CrashRecoveryIT survived %d deaths (%d at named crash points)%n", survived, crashPoints);
            assertLakeEqualsSource(postgres, db);
        }
    }

    private static void catchUp(Path config, Path log) throws Exception {
        try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of(), List.of("run", "-c", config.toString(), "--once"), log)) {
            OptionalInt exit = run.waitFor(Duration.ofSeconds(180));
            assertThat(exit).as("catch-up run finished; log %s", log).isPresent();
            assertThat(exit.getAsInt()).as(Files.readString(log)).isZero();
        }
    }

    /** The slot's confirmed_flush_lsn may not pass the last transaction the lake committed. */
    private void assertSlotNotAheadOfLake(TestingPostgres postgres, String db) {
        List<List<String>> slot = postgres.query(db, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'tributary_crash'");
        Optional<CommittedState> state;
        try (Lake lake = Lake.open(new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED), "crash", t -> io.tributary.config.TableOptions.DEFAULT)) {
            state = lake.committedState();
        }
        if (slot.isEmpty() || slot.get(0).get(0) == null || state.isEmpty()) {
            return;
        }
        Lsn confirmed = Lsn.parse(slot.get(0).get(0));
        Lsn committed = Lsn.of(state.get().watermark());
        assertThat(confirmed).as("slot confirmed_flush_lsn %s vs lake watermark %s", confirmed, committed).isLessThanOrEqualTo(committed);
    }

    private void assertLakeEqualsSource(TestingPostgres postgres, String db) throws Exception {
        String accounts = "SELECT count(*)::text, coalesce(sum(hashtext(id::text || '|' || owner || '|' || balance::text || '|' || version::text || '|' || coalesce(note, '<null>'))::bigint), 0)::text FROM %s";
        String ledger = "SELECT count(*)::text, coalesce(sum(hashtext(id::text || '|' || account_id::text || '|' || amount::text || '|' || coalesce(memo, '<null>'))::bigint), 0)::text FROM %s";
        try (Lake lake = Lake.open(new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED), "crash", t -> io.tributary.config.TableOptions.DEFAULT);
             QueryEngine q = QueryEngine.open(lake.tables())) {
            assertThat(postgres.checksumRows(db, "accounts", q.query("SELECT id, owner, balance, version, note FROM silver.accounts").rows(), accounts))
                    .isEqualTo(postgres.query(db, accounts.formatted("accounts")).get(0));
            assertThat(postgres.checksumRows(db, "ledger", q.query("SELECT id, account_id, amount, memo FROM silver.ledger").rows(), ledger))
                    .isEqualTo(postgres.query(db, ledger.formatted("ledger")).get(0));
            for (String table : List.of("accounts", "ledger")) {
                assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze." + table).rows().get(0).get(0))
                        .as("positions written twice in bronze.%s", table).isEqualTo(0L);
            }
            // Per account, in position order: starts with a snapshot read or an insert; an insert
            // (version 1) only first or after a delete; every update exactly one version up; a
            // snapshot read again only right after one (a restarted initial snapshot).
            String breaks = """
                    WITH v AS (SELECT id, _op, version, lag(_op) OVER w AS prev_op, lag(version) OVER w AS prev_version, row_number() OVER w AS n
                               FROM bronze.accounts WINDOW w AS (PARTITION BY id ORDER BY _position))
                    SELECT id, n, _op, version, prev_op, prev_version FROM v WHERE
                           (n = 1 AND _op NOT IN ('r', 'c'))
                        OR (_op = 'c' AND (version <> 1 OR n > 1 AND prev_op <> 'd'))
                        OR (_op = 'u' AND (prev_op = 'd' OR version <> prev_version + 1))
                        OR (_op = 'r' AND n > 1 AND prev_op <> 'r')
                        OR (_op = 'd' AND n > 1 AND prev_op = 'd')
                    ORDER BY id, n LIMIT 20""";
            assertThat(q.query(breaks).rows()).as("breaks in the version chain of bronze.accounts").isEmpty();
            assertThat((Long) q.query("SELECT count(*) FROM bronze.accounts WHERE _op = 'u'").rows().get(0).get(0)).isGreaterThan(0L);
            assertHistory(q, "accounts", "id, owner, balance, version, note");
            assertHistory(q, "ledger", "id, account_id, amount, memo");
        }
    }

    /**
     * The SCD2 history survived the deaths too: per id the versions chain without gap or overlap
     * and only the last is open, at most one is current, no position twice, the current versions
     * are silver, and every change in bronze is exactly one version (the history may also hold the
     * reads of the abandoned first snapshot attempt, which bronze replaced, closed by the restart).
     */
    private static void assertHistory(QueryEngine q, String table, String columns) {
        String history = "silver." + table + "_history";
        assertThat(q.query("SELECT id, _position FROM (SELECT *, lead(_valid_from) OVER w AS next_from, row_number() OVER w AS n, count(*) OVER (PARTITION BY id)"
                + " AS versions FROM " + history + " WINDOW w AS (PARTITION BY id ORDER BY _valid_from, _position))"
                + " WHERE (n < versions AND (_valid_to IS NULL OR _valid_to <> next_from)) OR (n = versions AND _valid_to IS NOT NULL) OR _valid_to < _valid_from LIMIT 20").rows())
                .as("gaps, overlaps or open versions before the last in %s", history).isEmpty();
        assertThat(q.query("SELECT id FROM " + history + " WHERE _is_current GROUP BY id HAVING count(*) > 1 LIMIT 20").rows()).as("several current versions in %s", history).isEmpty();
        assertThat(q.query("SELECT count(*) FROM " + history + " WHERE _is_current <> (_valid_to IS NULL AND NOT _is_deleted)").rows().get(0).get(0)).isEqualTo(0L);
        assertThat(q.query("SELECT id, _position FROM " + history + " GROUP BY ALL HAVING count(*) > 1 LIMIT 20").rows()).as("a position twice for an id in %s", history).isEmpty();
        assertThat(q.query("SELECT " + columns + " FROM " + history + " WHERE _is_current EXCEPT ALL SELECT " + columns + " FROM silver." + table).rows())
                .as("current versions of %s not in silver", history).isEmpty();
        assertThat(q.query("SELECT " + columns + " FROM silver." + table + " EXCEPT ALL SELECT " + columns + " FROM " + history + " WHERE _is_current").rows())
                .as("silver rows without a current version in %s", history).isEmpty();
        assertThat(q.query("SELECT _op, _position, id FROM bronze." + table + " WHERE _op <> 't' EXCEPT ALL SELECT _op, _position, id FROM " + history).rows())
                .as("changes of bronze.%s without a version", table).isEmpty();
        assertThat(q.query("SELECT _op, _position, id FROM " + history + " WHERE _op NOT IN ('r', 't') EXCEPT ALL SELECT _op, _position, id FROM bronze." + table).rows())
                .as("versions of %s without a change", history).isEmpty();
    }
}
