package io.tributary.source.postgres;

import io.tributary.spi.SourcePosition;

/**
 * A PostgreSQL log sequence number: a byte position in the write-ahead log, written {@code X/Y}
 * (two hexadecimal halves of a 64-bit value). See PostgreSQL "pg_lsn Type" (section 8.20).
 */
public record Lsn(long value) implements Comparable<Lsn> {
    public static final Lsn ZERO = new Lsn(0);

    public Lsn {
        if (value < 0) {
            throw new IllegalArgumentException("LSN must not be negative, got " + value);
        }
    }

    /**
     * Parses the textual form {@code 16/B374D848}.
     *
     * @throws IllegalArgumentException when the text is not two hexadecimal numbers separated by '/'
     */
    public static Lsn parse(String text) {
        int slash = text.indexOf('/');
        if (slash <= 0 || slash == text.length() - 1) {
            throw new IllegalArgumentException("LSN must look like '16/B374D848', got '" + text + "'");
        }
        try {
            long high = Long.parseLong(text.substring(0, slash), 16);
            long low = Long.parseLong(text.substring(slash + 1), 16);
            return new Lsn((high << 32) | low);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("LSN must look like '16/B374D848', got '" + text + "'", e);
        }
    }

    /**
     * The position of event {@code eventIndex} of the transaction committed at this LSN (for
     * snapshot reads: of the snapshot's consistent point), in {@link SourcePosition}'s version-1 form.
     */
    public SourcePosition position(long eventIndex) {
        return SourcePosition.ofSequence(value, eventIndex);
    }

    /**
     * The commit LSN of a PostgreSQL position.
     *
     * @throws IllegalArgumentException when the position is not in the version-1 (LSN) form, i.e.
     *         was written by another kind of source
     */
    public static Lsn of(SourcePosition position) {
        return new Lsn(position.sequence().orElseThrow(() -> new IllegalArgumentException(
                "Position " + position.encoded() + " was not written by a PostgreSQL source (its commit key is not an LSN)")));
    }

    /** Bytes of WAL between this position and a later one; 0 when {@code later} is not ahead. */
    public long bytesUntil(Lsn later) {
        return Math.max(0, later.value - value);
    }

    public boolean isBefore(Lsn other) {
        return compareTo(other) < 0;
    }

    @Override
    public int compareTo(Lsn other) {
        return Long.compareUnsigned(value, other.value);
    }

    @Override
    public String toString() {
        return Long.toHexString(value >>> 32).toUpperCase() + "/" + Long.toHexString(value & 0xFFFFFFFFL).toUpperCase();
    }
}
