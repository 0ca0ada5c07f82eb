package io.tributary.spi;

import java.io.Closeable;

/**
 * Captures the changes of a source database and delivers them to a {@link ChangeHandler} in commit
 * order. Delivery is at-least-once from the last acknowledged position; the lake deduplicates by
 * {@link SourcePosition}.
 */
public interface ChangeSource extends Closeable {
    /**
     * Captures on the calling thread until {@link #close()} is called from another thread, the
     * handler throws, or the source fails.
     *
     * @throws TributaryException with an EXTERNAL code when the source cannot be read, a USER code
     *         when its configuration is wrong
     */
    void run(ChangeHandler handler, RunMode mode);

    /** How long {@link #run} captures. */
    enum RunMode {
        /** Until {@link #close()}. */
        CONTINUOUS,
        /**
         * Until every transaction committed on the source before capture started streaming has
         * been delivered; then {@link ChangeHandler#drain()} is called and {@code run} returns.
         */
        CATCH_UP
    }

    /**
     * After {@link #run} returned from a clean stop: a position later than {@code committed} up to
     * which the source holds nothing to capture, or empty. The pipeline records it as the lake's
     * watermark, so the next start does not mistake the difference for a gap. The default: none.
     */
    default java.util.Optional<SourcePosition> quietPositionAfter(SourcePosition committed) {
        return java.util.Optional.empty();
    }

    /** Stops {@link #run} as soon as the current call to the handler returns. Idempotent. */
    @Override
    void close();
}
