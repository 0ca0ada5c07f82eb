package io.tributary.lake.scan;

import static java.util.Objects.requireNonNull;

import io.tributary.spi.SourcePosition;
import java.util.List;
import java.util.Optional;

/**
 * Every table of a lake read at one transaction-consistent position ({@link ConsistentSnapshots}):
 * each source transaction shows in all its tables, or in none. {@code consistent} is empty for a
 * lake without a recorded state (nothing committed by a pipeline): its tables are then read at
 * their current snapshots.
 */
public record LakeView(Optional<SourcePosition> consistent, List<LakeTable> tables) {
    public LakeView {
        requireNonNull(consistent, "consistent is null");
        tables = List.copyOf(requireNonNull(tables, "tables is null"));
    }
}
