package io.tributary.models;

import static java.util.Objects.requireNonNull;

import io.tributary.spi.SourcePosition;
import java.time.Instant;
import java.util.Optional;

/**
 * What an incremental build of a gold model starts from: the source position the table was last
 * built through, and the latest source commit time ({@code _commit_ts}) bronze held then, empty
 * when bronze held no change.
 */
public record LastBuild(SourcePosition position, Optional<Instant> builtAt) {
    public LastBuild {
        requireNonNull(position, "position is null");
        requireNonNull(builtAt, "builtAt is null");
    }
}
