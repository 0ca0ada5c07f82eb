package io.tributary.lake.commit;

import static java.util.Objects.requireNonNull;

import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import java.time.Instant;

/**
 * What the lake has durably committed for a pipeline: the position every table is consistent at
 * (the watermark), the source's resume offset, and when.
 */
public record CommittedState(SourcePosition watermark, SourceOffset offset, Instant committedAt) {
    public CommittedState {
        requireNonNull(watermark, "watermark is null");
        requireNonNull(offset, "offset is null");
        requireNonNull(committedAt, "committedAt is null");
    }
}
