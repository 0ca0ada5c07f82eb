package io.tributary.testing;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A continuous, seeded OLTP workload for fault-injection tests: small transactions over
 * {@code accounts} (inserts, re-inserts of deleted ids, updates, deletes) and {@code ledger}
 * (an insert in the same transaction as every balance update). Every account row carries a
 * {@code version} that starts at 1 on insert and grows by exactly 1 per update, so a lost or
 * duplicated change shows as a break in the version chain of the change log. The same seed gives
 * the same sequence of operations.
 */
public final class SeededWorkload implements AutoCloseable {
    public static final String[] SCHEMA = {
        "CREATE TABLE accounts (id bigint PRIMARY KEY, owner text NOT NULL, balance numeric(14,2) NOT NULL, version int NOT NULL, note text)",
        "CREATE TABLE ledger (id bigserial PRIMARY KEY, account_id bigint NOT NULL, amount numeric(14,2) NOT NULL, memo text)",
    };

    private final TestingPostgres postgres;
    private final String database;
    private final Random random;
    private final List<Long> live = new ArrayList<>();
    private final List<Long> deleted = new ArrayList<>();
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicLong transactions = new AtomicLong();
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private long nextId;
    private Thread thread;

    public SeededWorkload(TestingPostgres postgres, String database, long seed) {
        this.postgres = postgres;
        this.database = database;
        this.random = new Random(seed);
    }

    /** Creates the tables and {@code accounts} initial rows (ids 1..accounts). */
    public void create(int accounts) {
        postgres.execute(database, SCHEMA);
        postgres.execute(database, "INSERT INTO accounts SELECT g, 'owner ' || g, 100.00, 1, NULL FROM generate_series(1, " + accounts + ") g");
        for (long id = 1; id <= accounts; id++) {
            live.add(id);
        }
        nextId = accounts + 1L;
    }

    /** Starts writing on a background thread, at most {@code perSecond} transactions a second. */
    public void start(int perSecond) {
        running.set(true);
        thread = new Thread(() -> run(perSecond), "seeded-workload");
        thread.setDaemon(true);
        thread.start();
    }

    /** Stops writing and waits for the last transaction to end; rethrows a failure of the workload. */
    @Override
    public void close() throws Exception {
        running.set(false);
        if (thread != null) {
            thread.join(30_000);
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    public long committedTransactions() {
        return transactions.get();
    }

    private void run(int perSecond) {
        long interval = 1_000_000_000L / Math.max(1, perSecond);
        try (Connection c = postgres.connect(database);
             PreparedStatement insert = c.prepareStatement("INSERT INTO accounts VALUES (?, ?, ?, 1, ?)");
             PreparedStatement update = c.prepareStatement("UPDATE accounts SET balance = balance + ?, version = version + 1, note = ? WHERE id = ?");
             PreparedStatement delete = c.prepareStatement("DELETE FROM accounts WHERE id = ?");
             PreparedStatement book = c.prepareStatement("INSERT INTO ledger (account_id, amount, memo) VALUES (?, ?, ?)")) {
            c.setAutoCommit(false);
            long next = System.nanoTime();
            while (running.get()) {
                List<Long> addedLive = new ArrayList<>();
                List<Long> removedLive = new ArrayList<>();
                int ops = 1 + random.nextInt(4);
                for (int i = 0; i < ops; i++) {
                    int dice = random.nextInt(100);
                    if (dice < 15 || live.size() - removedLive.size() < 10) {
                        long id = !deleted.isEmpty() && random.nextBoolean() ? deleted.remove(random.nextInt(deleted.size())) : nextId++;
                        insert.setLong(1, id);
                        insert.setString(2, "owner " + id);
                        insert.setBigDecimal(3, java.math.BigDecimal.valueOf(random.nextInt(100_000), 2));
                        insert.setString(4, random.nextInt(4) == 0 ? null : "opened " + random.nextInt(1000));
                        insert.executeUpdate();
                        addedLive.add(id);
                    } else {
                        long id = live.get(random.nextInt(live.size()));
                        if (removedLive.contains(id)) {
                            continue;
                        }
                        if (dice < 25) {
                            delete.setLong(1, id);
                            delete.executeUpdate();
                            removedLive.add(id);
                        } else {
                            java.math.BigDecimal amount = java.math.BigDecimal.valueOf(random.nextInt(20_000) - 10_000, 2);
                            update.setBigDecimal(1, amount);
                            update.setString(2, "n" + random.nextInt(1_000_000));
                            update.setLong(3, id);
                            update.executeUpdate();
                            book.setLong(1, id);
                            book.setBigDecimal(2, amount);
                            book.setString(3, "transfer " + transactions.get());
                            book.executeUpdate();
                        }
                    }
                }
                c.commit();
                live.removeAll(removedLive);
                deleted.addAll(removedLive);
                live.addAll(addedLive);
                transactions.incrementAndGet();
                next += interval;
                long sleep = next - System.nanoTime();
                if (sleep > 0) {
                    java.util.concurrent.locks.LockSupport.parkNanos(sleep);
                } else {
                    next = System.nanoTime();
                }
            }
        } catch (SQLException | RuntimeException e) {
            failure.set(e);
        }
    }
}
