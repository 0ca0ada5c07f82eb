package io.tributary.pipeline;

import io.tributary.lake.commit.CommitSummary;
import io.tributary.spi.SourcePosition;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/** Live counters of a running pipeline, safe to read from any thread. */
public final class PipelineStatus {
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong committedEvents = new AtomicLong();
    private final AtomicLong commits = new AtomicLong();
    private final AtomicReference<SourcePosition> deliveredThrough = new AtomicReference<>(SourcePosition.BEGINNING);
    private final AtomicReference<SourcePosition> committedThrough = new AtomicReference<>(SourcePosition.BEGINNING);
    private final AtomicReference<Instant> lastCommit = new AtomicReference<>();
    private final AtomicLong deliveredBatches = new AtomicLong();
    private final AtomicReference<Reconnecting> reconnecting = new AtomicReference<>();

    /** The pipeline lost its source and is reconnecting: the attempt made last and the error that ended the one before. */
    public record Reconnecting(int attempt, String lastError, Instant since) {
    }

    void delivered(int events, SourcePosition through) {
        delivered.addAndGet(events);
        deliveredThrough.set(through);
        deliveredBatches.incrementAndGet();
        reconnecting.set(null);
    }

    void reconnecting(int attempt, String lastError) {
        Reconnecting before = reconnecting.get();
        reconnecting.set(new Reconnecting(attempt, lastError, before == null ? Instant.now() : before.since()));
    }

    void connected() {
        reconnecting.set(null);
    }

    long deliveredBatches() {
        return deliveredBatches.get();
    }

    /** Present while the pipeline is reconnecting to its source. */
    public java.util.Optional<Reconnecting> reconnecting() {
        return java.util.Optional.ofNullable(reconnecting.get());
    }

    void committed(CommitSummary summary, SourcePosition through, Instant at) {
        committedEvents.addAndGet(summary.events());
        commits.incrementAndGet();
        committedThrough.set(through);
        lastCommit.set(at);
    }

    public long deliveredEvents() {
        return delivered.get();
    }

    public long committedEvents() {
        return committedEvents.get();
    }

    public long commits() {
        return commits.get();
    }

    public SourcePosition committedThrough() {
        return committedThrough.get();
    }

    public SourcePosition deliveredThrough() {
        return deliveredThrough.get();
    }

    public Instant lastCommit() {
        return lastCommit.get();
    }
}
