package io.tributary.spi;

import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import java.util.Optional;

/**
 * Where a capture-only pipeline writes what a {@link ChangeSource} captures instead of the lake
 * (for example Kafka topics). A sink keeps the source's position itself, written atomically with
 * the events, so the pipeline resumes from the sink alone.
 */
public interface ChangeSink extends Closeable {
    /**
     * What the sink holds last: the position through which it has every event, the source's resume
     * token there, and when it was written (empty when the sink does not say).
     */
    record Committed(SourcePosition position, SourceOffset offset, Optional<java.time.Instant> committedAt) {
        public Committed {
            requireNonNull(position, "position is null");
            requireNonNull(offset, "offset is null");
            requireNonNull(committedAt, "committedAt is null");
        }
    }

    /**
     * Takes over the sink for this pipeline, fencing any earlier writer of the same pipeline (its
     * uncommitted writes are discarded and its later writes fail), and returns what the sink holds.
     * Call once, before {@link #write}.
     *
     * @return empty when the sink holds nothing of this pipeline yet
     * @throws TributaryException EXTERNAL codes when the sink cannot be reached
     */
    Optional<Committed> open();

    /**
     * Writes the batch's events and its position and offset durably, all or nothing; returns once
     * the sink acknowledged them. An empty batch records only its position.
     *
     * @throws TributaryException {@link ErrorCode#PIPELINE_FENCED} when another writer took the sink
     *         over, EXTERNAL codes when it cannot be written
     */
    void write(ChangeBatch batch);

    /** Releases the sink's connections; what {@link #write} returned from stays written. */
    @Override
    void close();
}
