package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How micro-batches are cut: committed every {@code interval}, or earlier when {@code maxEvents}
 * change events are buffered.
 */
public record CommitConfig(Duration interval, int maxEvents) {
    public CommitConfig {
        requireNonNull(interval, "interval is null");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("Commit interval must be positive, got " + interval);
        }
        if (maxEvents < 1) {
            throw new IllegalArgumentException("maxEvents must be positive, got " + maxEvents);
        }
    }
}
