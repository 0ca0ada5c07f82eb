package io.tributary.spi;

import java.util.Optional;

/**
 * Receives what a {@link ChangeSource} captures, on the source's capture thread, one call at a time.
 * A call may block to apply back-pressure: the source reads no further until it returns.
 */
public interface ChangeHandler {
    /**
     * Takes a batch; the handler may buffer it and commit later. An empty batch (a heartbeat, or a
     * fence) only says that everything up to {@link ChangeBatch#through()} has been delivered.
     *
     * @return the position through which the lake has durably committed what was delivered, if
     *         anything is committed yet; the source acknowledges exactly that much (for PostgreSQL
     *         the slot's {@code confirmed_flush_lsn} may then advance), never more
     */
    Optional<SourcePosition> accept(ChangeBatch batch);

    /**
     * Commits everything delivered so far before returning; called once when a source stops on
     * purpose (for example after catching up), so it can acknowledge the final position.
     *
     * @return as for {@link #accept(ChangeBatch)}
     */
    Optional<SourcePosition> drain();
}
