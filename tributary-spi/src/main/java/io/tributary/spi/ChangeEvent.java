package io.tributary.spi;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Optional;

/**
 * One change of one row (or, for {@link ChangeOperation#TRUNCATE}, of a whole table), in
 * Tributary's own model.
 *
 * <ul>
 * <li>{@code before}: the row image before the change; present for UPDATE and DELETE (with at
 * least the key columns; other columns may be null under {@code REPLICA IDENTITY DEFAULT}).</li>
 * <li>{@code after}: the row image after the change; present for READ, CREATE and UPDATE. For
 * UPDATE (and the CREATE half of a key change) it may hold {@link Row#UNAVAILABLE} for an unchanged
 * TOASTed value the source did not send; the lake replaces it with the row's previous value.</li>
 * <li>{@code position}: the order key, see {@link SourcePosition}.</li>
 * <li>{@code transactionId}: the source transaction id (PostgreSQL xid), 0 for snapshot reads.</li>
 * <li>{@code commitTimestamp}: when the source transaction committed (snapshot reads: when the
 * snapshot read the row).</li>
 * <li>{@code rawRecord}: renders the event as the source delivered it (a Debezium JSON envelope),
 * for the raw layer; null when the raw layer is off. Rendering is deferred so it runs on the commit
 * thread, not the capture thread.</li>
 * </ul>
 */
public record ChangeEvent(
        ChangeOperation operation,
        TableSchema schema,
        Row before,
        Row after,
        SourcePosition position,
        long transactionId,
        Instant commitTimestamp,
        RawRecord rawRecord) {

    public ChangeEvent {
        requireNonNull(operation, "operation is null");
        requireNonNull(schema, "schema is null");
        requireNonNull(position, "position is null");
        requireNonNull(commitTimestamp, "commitTimestamp is null");
        switch (operation) {
            case READ, CREATE -> requireNonNull(after, "after is null for " + operation);
            case UPDATE -> requireNonNull(after, "after is null for UPDATE");
            case DELETE -> requireNonNull(before, "before is null for DELETE");
            case TRUNCATE -> { }
        }
    }

    public TableId table() {
        return schema.table();
    }

    /** The image that describes the row after this event: {@code after}, or {@code before} for a delete. */
    public Row image() {
        return after != null ? after : before;
    }

    public Optional<String> raw() {
        return rawRecord == null ? Optional.empty() : Optional.of(rawRecord.asString());
    }

    public boolean hasRaw() {
        return rawRecord != null;
    }

    /**
     * A rough size of the event in memory, for bounding batches: a fixed overhead plus the lengths
     * of its string and binary values (twice: lake writers copy each value at least once).
     */
    public long estimatedBytes() {
        return 256 + 2 * (valueBytes(before) + valueBytes(after));
    }

    /** The sum of the events' {@link #estimatedBytes()}. */
    public static long estimatedBytes(java.util.List<ChangeEvent> events) {
        long bytes = 0;
        for (ChangeEvent e : events) {
            bytes += e.estimatedBytes();
        }
        return bytes;
    }

    private static long valueBytes(Row row) {
        if (row == null) {
            return 0;
        }
        long bytes = 0;
        for (int i = 0; i < row.size(); i++) {
            Object v = row.get(i);
            if (v instanceof String s) {
                bytes += s.length();
            } else if (v instanceof byte[] b) {
                bytes += b.length;
            } else if (v != null) {
                bytes += 16;
            }
        }
        return bytes;
    }
}
