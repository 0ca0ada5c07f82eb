package io.tributary.spi;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * Change events in source commit order, as one delivery from a source.
 *
 * <ul>
 * <li>{@code events}: possibly empty (a heartbeat), ascending by {@link SourcePosition}.</li>
 * <li>{@code through}: the position acknowledging this batch would confirm; not before the last event.</li>
 * <li>{@code offset}: the source's resume token for a restart after this batch.</li>
 * <li>{@code snapshotStarted}: tables whose initial snapshot begins in this batch: their current
 * state is replaced by what the snapshot reads (a snapshot restarted after a crash must not keep
 * rows it no longer sees).</li>
 * <li>{@code snapshotCompleted}: tables whose initial snapshot finished with this batch.</li>
 * </ul>
 */
public record ChangeBatch(List<ChangeEvent> events, SourcePosition through, SourceOffset offset, List<TableId> snapshotStarted,
                          List<TableId> snapshotCompleted) {
    public ChangeBatch {
        events = List.copyOf(requireNonNull(events, "events is null"));
        requireNonNull(through, "through is null");
        requireNonNull(offset, "offset is null");
        snapshotStarted = List.copyOf(requireNonNull(snapshotStarted, "snapshotStarted is null"));
        snapshotCompleted = List.copyOf(requireNonNull(snapshotCompleted, "snapshotCompleted is null"));
        if (!events.isEmpty() && events.get(events.size() - 1).position().isAfter(through)) {
            throw new IllegalArgumentException("Batch position " + through + " is before its last event " + events.get(events.size() - 1).position());
        }
    }
}
