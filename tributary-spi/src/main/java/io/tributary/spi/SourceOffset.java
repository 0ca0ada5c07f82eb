package io.tributary.spi;

import static java.util.Objects.requireNonNull;

/**
 * An opaque resume token of a source, stored in the lake with each commit and handed back to the
 * source on restart (for the PostgreSQL source: Debezium's offset map as JSON). Only the source
 * that produced it interprets it.
 */
public record SourceOffset(String token) {
    public SourceOffset {
        requireNonNull(token, "token is null");
    }
}
