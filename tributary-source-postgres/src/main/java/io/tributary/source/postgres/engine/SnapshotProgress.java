package io.tributary.source.postgres.engine;

import io.tributary.spi.TableId;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs the progress of an initial snapshot per table: rows done against the planner's estimate
 * ({@code pg_class.reltuples}) and the rate, at most every few seconds, plus a line when a table finishes.
 */
public final class SnapshotProgress {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotProgress.class);
    private static final Duration EVERY = Duration.ofSeconds(5);

    private final Map<TableId, Long> estimates;
    private final Map<TableId, Long> rows = new HashMap<>();
    private final Map<TableId, Instant> started = new HashMap<>();
    private Instant lastLog = Instant.now();

    public SnapshotProgress(Map<TableId, Long> estimates) {
        this.estimates = Map.copyOf(estimates);
    }

    void row(TableId table) {
        long done = rows.merge(table, 1L, Long::sum);
        if (done == 1) {
            started.put(table, Instant.now());
            LOG.info("Initial snapshot of {} started (~{} rows estimated)", table, estimates.getOrDefault(table, 0L));
        }
        // Reading the clock for every row costs more than the row's bookkeeping: look every 1,024 rows.
        if ((done & 1023) != 0) {
            return;
        }
        Instant now = Instant.now();
        if (Duration.between(lastLog, now).compareTo(EVERY) >= 0) {
            lastLog = now;
            long estimate = Math.max(estimates.getOrDefault(table, 0L), done);
            LOG.info("Initial snapshot of {}: {} / ~{} rows ({}%), {} rows/s", table, done, estimate,
                    estimate == 0 ? 100 : done * 100 / estimate, rate(table, done, now));
        }
    }

    void finished(TableId table) {
        long done = rows.getOrDefault(table, 0L);
        LOG.info("Initial snapshot of {} finished: {} rows, {} rows/s", table, done, rate(table, done, Instant.now()));
    }

    private long rate(TableId table, long done, Instant now) {
        long millis = Math.max(1, Duration.between(started.getOrDefault(table, now), now).toMillis());
        return done * 1000 / millis;
    }
}
