package io.tributary.pipeline;

import io.tributary.config.PipelineConfig;
import io.tributary.spi.ChangeBatch;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeHandler;
import io.tributary.spi.ChangeSink;
import io.tributary.spi.ChangeSinkFactory;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.SourceSession;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * A capture-only pipeline: what the source captures goes to the pipeline's sink (Kafka topics)
 * instead of the lake. The sink keeps the source position, written atomically with the events;
 * the pipeline resumes from it, and acknowledges the source (for PostgreSQL: the slot's
 * {@code confirmed_flush_lsn}) only through what the sink has committed. Batches from the source
 * are gathered into one sink write per {@code commit.interval} or {@code commit.max-events}, as
 * the lake pipeline gathers micro-batches. A lost source connection is reconnected as in
 * {@link Pipeline}. Runs on the calling thread; {@link #close()} from another thread stops it.
 */
public final class CapturePipeline implements ChangeHandler, Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(CapturePipeline.class);

    private final PipelineConfig config;
    private final Clock clock = Clock.systemUTC();
    private final AtomicReference<ChangeSource> source = new AtomicReference<>();
    private volatile boolean closed;
    private final CloseLatch closing = new CloseLatch();
    private ChangeSink sink;
    private SourcePosition committed = SourcePosition.BEGINNING;
    private SourceOffset committedOffset;
    private final List<ChangeEvent> buffer = new ArrayList<>();
    private final Set<TableId> snapshotStarted = new LinkedHashSet<>();
    private final Set<TableId> snapshotCompleted = new LinkedHashSet<>();
    private SourcePosition bufferedThrough;
    private SourceOffset bufferedOffset;
    private SourcePosition bufferedConsistent;
    private Instant bufferStarted;
    private Instant lastWrite = Instant.EPOCH;
    private volatile long written;
    /** Guards the buffer: the source's thread delivers and drains, the {@link BatchTimer} writes a buffer that became due in between. */
    private final java.util.concurrent.locks.ReentrantLock buffering = new java.util.concurrent.locks.ReentrantLock();
    /** Batches the source delivered in this run, heartbeats included. */
    private long delivered;

    /**
     * @throws IllegalArgumentException when {@code config} has no sink
     */
    public CapturePipeline(PipelineConfig config) {
        if (config.sink().isEmpty()) {
            throw new IllegalArgumentException("Pipeline " + config.name() + " has no sink");
        }
        this.config = config;
    }

    /** The events written to the sink so far by this run. */
    public long eventsWritten() {
        return written;
    }

    /**
     * Captures until {@link #close()} ({@code CONTINUOUS}) or until caught up with the source ({@code CATCH_UP}).
     *
     * @throws TributaryException when the source or the sink fails
     */
    public void run(ChangeSource.RunMode mode) {
        MDC.put("pipeline", config.name());
        ChangeSinkFactory<?> factory = ChangeSinkFactory.forType(io.tributary.config.KafkaSinkConfig.TYPE);
        // Before the sink fences its other writers: a second process of a running pipeline stops
        // here, and does not take the sink away from the one that holds the source.
        Sources.requireNotCapturing(config);
        try (ChangeSink opened = open(factory)) {
            sink = opened;
            Optional<ChangeSink.Committed> resume = sink.open();
            resume.ifPresent(c -> {
                committed = c.position();
                committedOffset = c.offset();
            });
            Reconnects reconnects = new Reconnects(config.source(), clock);
            long deliveredBefore;
            // Closed before the sink: no write from the timer once the sink closes.
            try (BatchTimer timer = BatchTimer.start(config.name(), config.commit().interval(), buffering, this::flushIfDue)) {
                while (!closed) {
                    // The sink's own record is the truth: a crash may have acknowledged nothing it lacks.
                    ChangeSource capture = Sources.open(config, new SourceSession(Optional.ofNullable(committedOffset), committed, true,
                            config.commit().interval(), config.commit().maxEvents(), true));
                    source.set(capture);
                    if (closed) {
                        break;
                    }
                    deliveredBefore = delivered;
                    try {
                        capture.run(this, mode);
                        drain();
                        break;
                    } catch (TributaryException e) {
                        // A source unreachable from the start is more likely misconfigured than restarting.
                        if (closed || !Reconnects.retryable(e) || delivered == 0) {
                            throw e;
                        }
                        drain();
                        Duration wait = reconnects.failed(e, delivered > deliveredBefore);
                        LOG.warn("Lost the source ({}); reconnecting in {} ms, attempt {} (giving up after source.reconnect.max-elapsed {} s)",
                                e.getMessage(), wait.toMillis(), reconnects.attempt(), config.source().reconnect().maxElapsed().toSeconds());
                        if (closing.await(wait)) {
                            break;
                        }
                    } finally {
                        source.set(null);
                    }
                }
                drain();
            }
        }
    }

    private <S> ChangeSink open(ChangeSinkFactory<S> factory) {
        return factory.open(factory.settings(config.sink().get()), config.name());
    }

    @Override
    public Optional<SourcePosition> accept(ChangeBatch batch) {
        buffering.lock();
        try {
            return buffer(batch);
        } finally {
            buffering.unlock();
        }
    }

    /** {@link #accept} with the buffer held. */
    private Optional<SourcePosition> buffer(ChangeBatch batch) {
        delivered++;
        if (!buffer.isEmpty() && buffer.size() + batch.events().size() > config.commit().maxEvents()) {
            flush();
        }
        if (!batch.events().isEmpty() && bufferStarted == null) {
            bufferStarted = clock.instant();
        }
        buffer.addAll(batch.events());
        snapshotStarted.addAll(batch.snapshotStarted());
        snapshotCompleted.addAll(batch.snapshotCompleted());
        bufferedThrough = batch.through();
        bufferedOffset = batch.offset();
        bufferedConsistent = batch.consistent();
        Instant now = clock.instant();
        boolean due = buffer.size() >= config.commit().maxEvents()
                || dueByTime()
                || !batch.snapshotCompleted().isEmpty()
                // Only heartbeats moved the position: record it at most once per source.heartbeat, so the slot moves on.
                || buffer.isEmpty() && bufferedThrough.isAfter(committed) && !now.isBefore(lastWrite.plus(config.source().heartbeatInterval()));
        if (due) {
            flush();
        }
        return acknowledgeable();
    }

    @Override
    public Optional<SourcePosition> drain() {
        buffering.lock();
        try {
            if (bufferedThrough != null && (!buffer.isEmpty() || bufferedThrough.isAfter(committed))) {
                flush();
            }
            return acknowledgeable();
        } finally {
            buffering.unlock();
        }
    }

    /** Runs on the {@link BatchTimer} with the buffer held: writes the buffer once {@code commit.interval} has passed since its first event. */
    private void flushIfDue() {
        if (!closed && !buffer.isEmpty() && dueByTime()) {
            flush();
        }
    }

    /** Whether {@code commit.interval} has passed since the first buffered event. */
    private boolean dueByTime() {
        return bufferStarted != null && !clock.instant().isBefore(bufferStarted.plus(config.commit().interval()));
    }

    private Optional<SourcePosition> acknowledgeable() {
        return committed.equals(SourcePosition.BEGINNING) ? Optional.empty() : Optional.of(committed);
    }

    /** Writes what is buffered as one sink write; the source may then be acknowledged through it. */
    private void flush() {
        if (bufferedThrough == null) {
            return;
        }
        ChangeBatch batch = new ChangeBatch(buffer, bufferedThrough, bufferedOffset, List.copyOf(snapshotStarted), List.copyOf(snapshotCompleted),
                bufferedConsistent);
        long started = System.nanoTime();
        sink.write(batch);
        written += batch.events().size();
        if (!batch.events().isEmpty()) {
            LOG.info("Wrote {} change event(s) through {} to the sink in {} ms", batch.events().size(), batch.through(),
                    (System.nanoTime() - started) / 1_000_000);
        }
        committed = bufferedThrough;
        committedOffset = bufferedOffset;
        buffer.clear();
        snapshotStarted.clear();
        snapshotCompleted.clear();
        bufferStarted = null;
        lastWrite = clock.instant();
    }

    /** Stops {@link #run} after the source's current call returns; what was delivered is written first. */
    @Override
    public void close() {
        closed = true;
        closing.close();
        ChangeSource running = source.get();
        if (running != null) {
            running.close();
        }
    }
}
