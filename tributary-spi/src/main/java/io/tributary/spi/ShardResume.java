package io.tributary.spi;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * Where a pipeline resumes a shard it just claimed ({@link ChangeHandler#claim}): the position the
 * lake committed the shard through, and its resume token; empty for a shard the lake has never
 * committed (read from its beginning).
 *
 * @param position the shard's committed position ({@link SourcePosition#BEGINNING} for a new shard);
 *                 the pipeline's later events of the shard come after it
 * @param offset   the shard's resume token as its {@link ShardProgress#offset()} last recorded it
 */
public record ShardResume(SourcePosition position, Optional<SourceOffset> offset) {
    public ShardResume {
        requireNonNull(position, "position is null");
        requireNonNull(offset, "offset is null");
    }

    /** A shard the lake holds nothing of. */
    public static final ShardResume NEW = new ShardResume(SourcePosition.BEGINNING, Optional.empty());
}
