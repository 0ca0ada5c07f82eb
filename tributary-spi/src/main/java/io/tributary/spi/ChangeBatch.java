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
 * <li>{@code consistent}: the end of the last source transaction this batch completes, not after
 * {@code through}: equal to {@code through} when the batch ends between transactions, and before
 * the first event of a transaction the batch holds only a part of (a transaction larger than a
 * batch is handed over in several). Readers of the lake read every table at this position, so they
 * never see part of a transaction.</li>
 * <li>{@code shards}: for a source shared by several pipelines ({@link ChangeHandler#claim}), where
 * each shard this pipeline holds stands after the batch; empty for a source one pipeline reads.</li>
 * </ul>
 */
public record ChangeBatch(List<ChangeEvent> events, SourcePosition through, SourceOffset offset, List<TableId> snapshotStarted,
                          List<TableId> snapshotCompleted, SourcePosition consistent, java.util.Map<String, ShardProgress> shards) {
    public ChangeBatch {
        shards = java.util.Map.copyOf(requireNonNull(shards, "shards is null"));
        requireNonNull(consistent, "consistent is null");
        events = List.copyOf(requireNonNull(events, "events is null"));
        requireNonNull(through, "through is null");
        requireNonNull(offset, "offset is null");
        snapshotStarted = List.copyOf(requireNonNull(snapshotStarted, "snapshotStarted is null"));
        snapshotCompleted = List.copyOf(requireNonNull(snapshotCompleted, "snapshotCompleted is null"));
        if (!events.isEmpty() && events.get(events.size() - 1).position().isAfter(through)) {
            throw new IllegalArgumentException("Batch position " + through + " is before its last event " + events.get(events.size() - 1).position());
        }
        if (consistent.isAfter(through)) {
            throw new IllegalArgumentException("Consistent position " + consistent + " is after the batch position " + through);
        }
    }

    /** A batch of a source one pipeline reads. */
    public ChangeBatch(List<ChangeEvent> events, SourcePosition through, SourceOffset offset, List<TableId> snapshotStarted,
                       List<TableId> snapshotCompleted, SourcePosition consistent) {
        this(events, through, offset, snapshotStarted, snapshotCompleted, consistent, java.util.Map.of());
    }

    /** A batch that ends between transactions: consistent through {@code through}. */
    public ChangeBatch(List<ChangeEvent> events, SourcePosition through, SourceOffset offset, List<TableId> snapshotStarted,
                       List<TableId> snapshotCompleted) {
        this(events, through, offset, snapshotStarted, snapshotCompleted, through);
    }
}
