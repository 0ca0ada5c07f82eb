package io.tributary.source.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.spi.ChangeBatch;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeHandler;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.ErrorCode;
import io.tributary.source.postgres.Lsn;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import io.tributary.testing.TestingPostgres;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PostgresChangeSourceIT {
    private static TestingPostgres postgres;

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
    }

    @AfterAll
    static void stop() {
        postgres.close();
    }

    private static PostgresSourceConfig config(String database, List<TableId> tables, String slot) {
        return new PostgresSourceConfig(postgres.host(), postgres.port(), database, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                tables, slot, slot, Duration.ofMillis(500), Duration.ofSeconds(5));
    }

    @Test
    void snapshotsThenStreamsInCommitOrder() throws Exception {
        String db = postgres.createDatabase("capture");
        postgres.execute(db, "CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2))",
                "INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 100) g");
        List<ChangeBatch> batches = new CopyOnWriteArrayList<>();
        PostgresChangeSource source = new PostgresChangeSource(config(db, List.of(new TableId("public", "items")), "slot_capture"),
                Optional.empty(), SourcePosition.BEGINNING, PostgresChangeSource.RawEvents.KEEP);
        ChangeHandler handler = new ChangeHandler() {
            @Override
            public Optional<SourcePosition> accept(ChangeBatch batch) {
                batches.add(batch);
                return Optional.of(batch.through());
            }

            @Override
            public Optional<SourcePosition> drain() {
                return batches.isEmpty() ? Optional.empty() : Optional.of(batches.get(batches.size() - 1).through());
            }
        };
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        Thread capture = new Thread(() -> {
            try {
                source.run(handler, ChangeSource.RunMode.CONTINUOUS);
            } catch (RuntimeException e) {
                failures.add(e);
            }
        });
        capture.start();
        try {
            await(() -> events(batches).size() >= 100, failures);
            assertThat(events(batches)).hasSize(100).allMatch(e -> e.operation() == ChangeOperation.READ);
            assertThat(batches.stream().flatMap(b -> b.snapshotCompleted().stream())).contains(new TableId("public", "items"));
            assertThat(events(batches).get(0).after().get(2)).isEqualTo(new BigDecimal("1.50"));

            // Two interleaved transactions: the one that commits first must come first.
            try (var a = postgres.connect(db); var b = postgres.connect(db)) {
                a.setAutoCommit(false);
                b.setAutoCommit(false);
                a.createStatement().execute("INSERT INTO items VALUES (1001, 'a1', 1)");
                b.createStatement().execute("INSERT INTO items VALUES (2001, 'b1', 2)");
                a.createStatement().execute("UPDATE items SET name = 'a2' WHERE id = 1");
                b.createStatement().execute("DELETE FROM items WHERE id = 2");
                b.commit();
                a.commit();
            }
            source.emitFence();
            await(() -> events(batches).size() >= 104, failures);
            List<ChangeEvent> streamed = events(batches).subList(100, events(batches).size());
            assertThat(streamed).extracting(ChangeEvent::operation)
                    .containsExactly(ChangeOperation.CREATE, ChangeOperation.DELETE, ChangeOperation.CREATE, ChangeOperation.UPDATE);
            assertThat(streamed.get(0).after().get(0)).isEqualTo(2001);
            assertThat(Lsn.of(streamed.get(0).position())).isEqualTo(Lsn.of(streamed.get(1).position()));
            assertThat(streamed.get(1).position().eventIndex()).isEqualTo(1);
            assertThat(Lsn.of(streamed.get(2).position())).isGreaterThan(Lsn.of(streamed.get(1).position()));
            assertThat(streamed.get(2).transactionId()).isNotEqualTo(streamed.get(0).transactionId());
            assertThat(streamed.get(0).commitTimestamp()).isBefore(Instant.now().plusSeconds(1));
            assertThat(streamed.get(0).raw()).get().asString().contains("\"op\":\"c\"");
            for (int i = 1; i < events(batches).size(); i++) {
                assertThat(events(batches).get(i).position()).isGreaterThan(events(batches).get(i - 1).position());
            }
        } finally {
            source.close();
            capture.join(30_000);
        }
        String confirmed = postgres.queryOne(db, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = 'slot_capture'");
        assertThat(Lsn.parse(confirmed)).isGreaterThan(Lsn.ZERO);
        postgres.execute(db, "SELECT pg_drop_replication_slot('slot_capture')");
    }

    @Test
    void missingTableIsAClearError() {
        String db = postgres.createDatabase("missing");
        postgres.execute(db, "CREATE TABLE present (id int PRIMARY KEY)");
        PostgresChangeSource source = new PostgresChangeSource(
                config(db, List.of(new TableId("public", "present"), new TableId("public", "absent")), "slot_missing"),
                Optional.empty(), SourcePosition.BEGINNING, PostgresChangeSource.RawEvents.DROP);
        assertThatThrownBy(source::prepare)
                .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.TABLE_NOT_FOUND))
                .hasMessageContaining("public.absent").hasMessageNotContaining("public.present,");
    }

    @Test
    void unreachableServerIsAClearError() {
        PostgresSourceConfig config = new PostgresSourceConfig("127.0.0.1", 1, "x", "u", Optional.empty(), SslMode.DISABLE, List.of(), "s", "s",
                Duration.ofSeconds(1), Duration.ofSeconds(2));
        assertThatThrownBy(() -> new PostgresChangeSource(config, Optional.empty(), SourcePosition.BEGINNING, PostgresChangeSource.RawEvents.DROP).prepare())
                .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.SOURCE_UNREACHABLE))
                .hasMessageContaining("127.0.0.1:1");
    }

    private static List<ChangeEvent> events(List<ChangeBatch> batches) {
        return batches.stream().flatMap(b -> b.events().stream()).toList();
    }

    private static void await(BooleanSupplier condition, List<Throwable> failures) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (!failures.isEmpty()) {
                throw new AssertionError("Capture failed", failures.get(0));
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("Condition not met within 60 s");
            }
            Thread.onSpinWait();
            synchronized (PostgresChangeSourceIT.class) {
                PostgresChangeSourceIT.class.wait(20);
            }
        }
    }
}
