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

    /**
     * For a source several pipelines share (lake workers of a Kafka consumer group): takes
     * {@code shards} for this pipeline before the source reads them, after the lake's tables of
     * each were brought back to the shard's committed position (a pipeline that died may have
     * committed a table past it). Blocks while another pipeline that may still be alive holds one
     * of them (at most its lease's timeout).
     *
     * @return for every shard, where to resume
     * @throws TributaryException {@link ErrorCode#PIPELINE_FENCED} when a shard stays held by a live pipeline
     * @throws UnsupportedOperationException when this handler does not share its source
     */
    default java.util.Map<String, ShardResume> claim(java.util.Set<String> shards) {
        throw new UnsupportedOperationException("This pipeline does not share its source with other pipelines");
    }

    /**
     * For a source several pipelines share: commits everything delivered so far, then gives
     * {@code shards} up, so another pipeline can claim them at once.
     *
     * @throws UnsupportedOperationException when this handler does not share its source
     */
    default void release(java.util.Set<String> shards) {
        throw new UnsupportedOperationException("This pipeline does not share its source with other pipelines");
    }
}
