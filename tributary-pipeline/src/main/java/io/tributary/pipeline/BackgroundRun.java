package io.tributary.pipeline;

import io.tributary.spi.ChangeSource;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/** A pipeline running on a thread of its own, for callers that do other work meanwhile (demo, benchmarks, tests). */
public final class BackgroundRun {
    private final Pipeline pipeline;
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private BackgroundRun(Pipeline pipeline) {
        this.pipeline = pipeline;
    }

    /** Starts {@link Pipeline#run} on a new thread named {@code tributary-pipeline}. */
    public static BackgroundRun start(Pipeline pipeline, ChangeSource.RunMode mode) {
        BackgroundRun run = new BackgroundRun(pipeline);
        Thread thread = new Thread(() -> {
            try {
                pipeline.run(mode);
            } catch (Throwable t) {
                run.failure.set(t);
            } finally {
                run.done.countDown();
            }
        }, "tributary-pipeline");
        thread.start();
        return run;
    }

    public boolean isRunning() {
        return done.getCount() > 0;
    }

    /** Waits up to {@code timeout} for the run to end; returns whether it ended. */
    public boolean await(Duration timeout) throws InterruptedException {
        return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /**
     * Stops capture and waits for the run to commit what was delivered and end.
     *
     * @throws TributaryException the run's own failure, or INTERNAL_ERROR when it did not end within {@code timeout}
     */
    public void stop(Duration timeout) throws InterruptedException {
        pipeline.close();
        if (!await(timeout)) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot stop the pipeline: it did not end within " + timeout.toSeconds() + " s");
        }
        Throwable t = failure.get();
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t != null) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "The pipeline failed: " + t, t);
        }
    }
}
