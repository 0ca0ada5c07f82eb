package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * How the pipeline reconnects after it lost the source (PostgreSQL restarted, the replication
 * connection cut): it retries with exponential backoff, starting at {@code initialBackoff} and
 * doubling up to {@code maxBackoff} between attempts, and gives up once the source has been
 * unavailable for {@code maxElapsed}.
 */
public record ReconnectConfig(Duration maxElapsed, Duration initialBackoff, Duration maxBackoff) {
    /** 5 minutes in all, 500 ms to 30 s between attempts. */
    public static final ReconnectConfig DEFAULT = new ReconnectConfig(Duration.ofMinutes(5), Duration.ofMillis(500), Duration.ofSeconds(30));

    public ReconnectConfig {
        requireNonNull(maxElapsed, "maxElapsed is null");
        requireNonNull(initialBackoff, "initialBackoff is null");
        requireNonNull(maxBackoff, "maxBackoff is null");
        if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.isNegative() || maxBackoff.isZero() || maxElapsed.isNegative()) {
            throw new IllegalArgumentException("Backoffs must be positive and max-elapsed not negative, got " + initialBackoff + ", " + maxBackoff + ", " + maxElapsed);
        }
        if (initialBackoff.compareTo(maxBackoff) > 0) {
            throw new IllegalArgumentException("initialBackoff " + initialBackoff + " must not exceed maxBackoff " + maxBackoff);
        }
    }

    /** The wait before attempt {@code attempt} (1 for the first retry): initialBackoff doubled per attempt, capped at maxBackoff. */
    public Duration backoff(int attempt) {
        Duration wait = initialBackoff;
        for (int i = 1; i < attempt && wait.compareTo(maxBackoff) < 0; i++) {
            wait = wait.multipliedBy(2);
        }
        return wait.compareTo(maxBackoff) > 0 ? maxBackoff : wait;
    }
}
