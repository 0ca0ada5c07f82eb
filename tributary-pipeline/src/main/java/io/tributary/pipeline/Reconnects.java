package io.tributary.pipeline;

import io.tributary.config.SourceConfig;
import io.tributary.config.ReconnectConfig;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Decides whether and when to reconnect after the source failed: only for errors of the source
 * connection (unreachable, or failed mid-stream, e.g. a restart or a terminated walsender), with
 * exponential backoff, until the source has been unavailable for {@code source.reconnect.max-elapsed}.
 * A streak of failures ends once an attempt delivered something. Pipeline thread only.
 */
final class Reconnects {
    private final SourceConfig source;
    private final ReconnectConfig config;
    private final Clock clock;
    private int attempt;
    private Instant since;

    Reconnects(SourceConfig source, Clock clock) {
        this.source = source;
        this.config = source.reconnect();
        this.clock = clock;
    }

    /** Configuration, authentication, slot gaps and lake failures are not cured by reconnecting. */
    static boolean retryable(TributaryException e) {
        return e.errorCode() == ErrorCode.SOURCE_UNREACHABLE || e.errorCode() == ErrorCode.SOURCE_FAILED;
    }

    /**
     * Records a failure and returns how long to wait before the next attempt.
     *
     * @param progressed whether the failed attempt delivered anything (it connected): a new streak begins
     * @throws TributaryException SOURCE_UNREACHABLE once the streak has lasted {@code max-elapsed}
     */
    Duration failed(TributaryException error, boolean progressed) {
        Instant now = clock.instant();
        if (since == null || progressed) {
            since = now;
            attempt = 0;
        }
        attempt++;
        Duration elapsed = Duration.between(since, now);
        if (elapsed.compareTo(config.maxElapsed()) >= 0) {
            throw new TributaryException(ErrorCode.SOURCE_UNREACHABLE, "Cannot reconnect to " + source.describe() + ": unavailable for " + elapsed.toSeconds() + " s over " + attempt
                    + " attempt(s), past source.reconnect.max-elapsed (" + config.maxElapsed().toSeconds() + " s); last error: " + error.getMessage()
                    + ". Check that the server runs, then start the pipeline again: it resumes from the lake", error);
        }
        return config.backoff(attempt);
    }

    int attempt() {
        return attempt;
    }
}
