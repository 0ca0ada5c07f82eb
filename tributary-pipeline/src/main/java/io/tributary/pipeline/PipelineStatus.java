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

    void delivered(int events, SourcePosition through) {
        delivered.addAndGet(events);
        deliveredThrough.set(through);
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
