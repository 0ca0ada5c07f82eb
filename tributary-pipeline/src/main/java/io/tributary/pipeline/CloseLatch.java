package io.tributary.pipeline;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** A pipeline's close, which a wait between reconnects ends at once. Thread-safe. */
final class CloseLatch {
    private final CountDownLatch closing = new CountDownLatch(1);

    /** Marks the pipeline closed; every wait returns. */
    void close() {
        closing.countDown();
    }

    /** Waits up to {@code wait}; true when the pipeline was closed meanwhile (or the thread interrupted). */
    boolean await(Duration wait) {
        try {
            return closing.await(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }
}
