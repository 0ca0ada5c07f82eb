package io.tributary.pipeline;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Looks for a micro-batch that became due between the source's deliveries: a source delivers
 * only when it has something (a change or a heartbeat), so without it the last events of a burst
 * waited for the next heartbeat, up to one more {@code commit.interval}. Every tenth of the
 * interval (10–50 ms) it runs the pipeline's check under the pipeline's buffer lock, skipping the
 * tick while the source's thread holds it; a failure is logged and left to the source's thread,
 * which meets the due buffer again at its next delivery.
 */
final class BatchTimer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(BatchTimer.class);

    private final ScheduledExecutorService timer;

    private BatchTimer(ScheduledExecutorService timer) {
        this.timer = timer;
    }

    /**
     * @param pipeline   the pipeline's name, for the log
     * @param interval   {@code commit.interval}
     * @param buffering  the lock the pipeline holds while it buffers, submits or drains
     * @param submitIfDue submits the buffer when it is due; runs with {@code buffering} held
     */
    static BatchTimer start(String pipeline, Duration interval, ReentrantLock buffering, Runnable submitIfDue) {
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tributary-batch-timer");
            t.setDaemon(true);
            return t;
        });
        long tick = tickMillis(interval);
        timer.scheduleWithFixedDelay(() -> {
            if (!buffering.tryLock()) {
                return;
            }
            try {
                submitIfDue.run();
            } catch (RuntimeException e) {
                // The schedule must go on; the source's thread meets the due buffer at its next delivery.
                LOG.warn("Pipeline {}: cannot submit a due micro-batch from the batch timer: {}", pipeline, e.toString());
            } finally {
                buffering.unlock();
            }
        }, tick, tick, TimeUnit.MILLISECONDS);
        return new BatchTimer(timer);
    }

    /** A tenth of {@code interval}, between 10 and 50 ms. */
    static long tickMillis(Duration interval) {
        return Math.max(10, Math.min(50, interval.toMillis() / 10));
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
