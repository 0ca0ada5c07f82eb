package io.tributary.lake.commit;

import static java.util.Objects.requireNonNull;

import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import java.time.Instant;

/**
 * What the lake has durably committed for a pipeline: the position every table has committed
 * through (the watermark, where a restart resumes), the source's resume offset, when, and the
 * transaction-consistent position: the end of the last source transaction every table holds in
 * full, never after the watermark (before it while a transaction larger than a micro-batch is
 * committed in parts). Readers read every table at {@code consistent} (see
 * {@code io.tributary.lake.scan.ConsistentSnapshots}).
 */
public record CommittedState(SourcePosition watermark, SourceOffset offset, Instant committedAt, SourcePosition consistent) {
    public CommittedState {
        requireNonNull(watermark, "watermark is null");
        requireNonNull(offset, "offset is null");
        requireNonNull(committedAt, "committedAt is null");
        requireNonNull(consistent, "consistent is null");
        if (consistent.isAfter(watermark)) {
            throw new IllegalArgumentException("Consistent position " + consistent + " is after the watermark " + watermark);
        }
    }

    /** A state whose watermark is transaction-consistent (as recorded by lakes before the consistent position existed). */
    public CommittedState(SourcePosition watermark, SourceOffset offset, Instant committedAt) {
        this(watermark, offset, committedAt, watermark);
    }
}
