package io.tributary.spi;

import static java.util.Objects.requireNonNull;

/**
 * The order key of a change event: the commit LSN of its source transaction and the index of the
 * event inside that transaction. Events are applied, deduplicated and acknowledged in this order,
 * never by the LSN of the individual change record: concurrent transactions interleave their
 * change records in the WAL but are decoded in commit order (PostgreSQL "Logical Decoding
 * Concepts", section 49.2).
 *
 * <p>Rows read by an initial snapshot carry the LSN of the snapshot's consistent point and their
 * ordinal in the snapshot.
 *
 * <p>The {@link #encoded()} form is fixed-width and sorts lexicographically in position order; it is
 * what the lake stores in {@code _position} columns and snapshot summaries.
 */
public record SourcePosition(Lsn commitLsn, long eventIndex) implements Comparable<SourcePosition> {
    /** Before every change: nothing committed yet. */
    public static final SourcePosition BEGINNING = new SourcePosition(Lsn.ZERO, 0);

    public SourcePosition {
        requireNonNull(commitLsn, "commitLsn is null");
        if (eventIndex < 0) {
            throw new IllegalArgumentException("Event index must not be negative, got " + eventIndex);
        }
    }

    /** 16 hex digits of the commit LSN, a dash, 12 decimal digits of the event index. */
    public String encoded() {
        // Hot path (one call per event per layer): no String.format.
        char[] out = new char[29];
        long lsn = commitLsn.value();
        for (int i = 15; i >= 0; i--) {
            out[i] = HEX[(int) (lsn & 0xF)];
            lsn >>>= 4;
        }
        out[16] = '-';
        long index = eventIndex;
        for (int i = 28; i >= 17; i--) {
            out[i] = (char) ('0' + index % 10);
            index /= 10;
        }
        return new String(out);
    }

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /**
     * Parses the {@link #encoded()} form.
     *
     * @throws IllegalArgumentException when the text is not in that form
     */
    public static SourcePosition decode(String encoded) {
        requireNonNull(encoded, "encoded is null");
        int dash = encoded.indexOf('-');
        if (dash != 16 || encoded.length() != 29) {
            throw new IllegalArgumentException("Source position must look like '0000000001A2B3C4-000000000000', got '" + encoded + "'");
        }
        try {
            return new SourcePosition(new Lsn(Long.parseUnsignedLong(encoded.substring(0, 16), 16)), Long.parseLong(encoded.substring(17)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Source position must look like '0000000001A2B3C4-000000000000', got '" + encoded + "'", e);
        }
    }

    public boolean isAfter(SourcePosition other) {
        return compareTo(other) > 0;
    }

    @Override
    public int compareTo(SourcePosition other) {
        int c = commitLsn.compareTo(other.commitLsn);
        return c != 0 ? c : Long.compare(eventIndex, other.eventIndex);
    }

    @Override
    public String toString() {
        return commitLsn + "#" + eventIndex;
    }
}
