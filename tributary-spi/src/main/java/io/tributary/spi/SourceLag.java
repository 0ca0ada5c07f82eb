package io.tributary.spi;

import static java.util.Objects.requireNonNull;

/**
 * How far a source is ahead of the lake, as the source reports it.
 *
 * @param position the source's current position in its own notation (PostgreSQL: the WAL insert
 *                 LSN, {@code 0/16B3748}, from {@code pg_current_wal_lsn()}; Kafka: the sum of
 *                 the partitions' end offsets)
 * @param behind   how much of the source the lake does not hold yet, in {@code unit}; 0 when the
 *                 lake is caught up
 * @param unit     what {@code behind} counts
 */
public record SourceLag(String position, long behind, Unit unit) {
    /** What a lag counts. */
    public enum Unit {
        /** Bytes of the source's log (PostgreSQL's WAL between the watermark and the insert LSN). */
        BYTES,
        /** Records (Kafka: end offset minus the lake's offset, summed over the partitions). */
        RECORDS
    }

    public SourceLag {
        requireNonNull(position, "position is null");
        requireNonNull(unit, "unit is null");
        if (behind < 0) {
            throw new IllegalArgumentException("behind must not be negative, got " + behind);
        }
    }

    /** A lag in bytes of the source's log. */
    public SourceLag(String position, long bytes) {
        this(position, bytes, Unit.BYTES);
    }

    /** {@code behind} and its unit for people, e.g. {@code 1024 bytes} or {@code 17 records}. */
    public String describeBehind() {
        return behind + " " + unit.name().toLowerCase(java.util.Locale.ROOT);
    }
}
