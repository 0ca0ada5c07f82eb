package io.tributary.spi;

import static java.util.Objects.requireNonNull;

/**
 * An opaque resume token of a source, stored in the lake with each commit and handed back to the
 * source on restart (for the PostgreSQL source: Debezium's offset map as JSON). Only the source
 * that produced it interprets it.
 */
public record SourceOffset(String token) {
    /**
     * Recorded instead of a source's own offset when the operator asks for a new initial snapshot
     * ({@code tributary resnapshot}), e.g. after the replication slot lost changes: the next run
     * does not resume but snapshots every table again, replacing silver.
     */
    public static final SourceOffset NEW_INITIAL_SNAPSHOT = new SourceOffset("tributary:new-initial-snapshot");

    public SourceOffset {
        requireNonNull(token, "token is null");
    }

    /** Whether this is {@link #NEW_INITIAL_SNAPSHOT}. */
    public boolean requestsInitialSnapshot() {
        return equals(NEW_INITIAL_SNAPSHOT);
    }
}
