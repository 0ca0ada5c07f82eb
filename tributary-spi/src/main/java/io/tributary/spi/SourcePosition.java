package io.tributary.spi;

import static java.util.Objects.requireNonNull;

import java.util.OptionalLong;

/**
 * The order key of a change event, the same for every kind of source: the {@code commitKey} of the
 * unit the source commits (a transaction, a file) and the index of the event inside that unit.
 * Events are applied, deduplicated and acknowledged in this order. Which commit key a source uses is
 * the source's business, with one rule: within one source, commit keys sort as text in commit order.
 *
 * <ul>
 * <li>Version 1, PostgreSQL: the commit LSN of the source transaction as 16 upper-case hexadecimal
 * digits ({@link #ofSequence}), never the LSN of the individual change record: concurrent
 * transactions interleave their change records in the WAL but are decoded in commit order
 * (PostgreSQL "Logical Decoding Concepts", section 49.2). Rows read by an initial snapshot carry the
 * LSN of the snapshot's consistent point and their ordinal in the snapshot. Every lake written
 * before commit keys were neutral holds this form.</li>
 * <li>Later versions (other sources) start with a letter, so they sort after {@link #BEGINNING} and
 * can never be mistaken for version 1.</li>
 * </ul>
 *
 * <p>The {@link #encoded()} form, {@code <commitKey>-<12 decimal digits>}, sorts lexicographically
 * in position order within one source; it is what the lake stores in {@code _position} columns and
 * snapshot summaries.
 */
public record SourcePosition(String commitKey, long eventIndex) implements Comparable<SourcePosition> {
    // Before BEGINNING: static fields are initialized in order.
    private static final int INDEX_DIGITS = 12;
    private static final long MAX_INDEX = 999_999_999_999L;
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    /** Before every change: nothing committed yet. */
    public static final SourcePosition BEGINNING = ofSequence(0, 0);

    /**
     * @throws IllegalArgumentException when the commit key is empty or holds a control or space
     *         character, or the event index is negative or above 12 decimal digits
     */
    public SourcePosition {
        requireNonNull(commitKey, "commitKey is null");
        if (commitKey.isEmpty()) {
            throw new IllegalArgumentException("Commit key must not be empty");
        }
        for (int i = 0; i < commitKey.length(); i++) {
            char c = commitKey.charAt(i);
            if (c <= ' ' || c == 0x7F) {
                throw new IllegalArgumentException("Commit key must not hold spaces or control characters, got '" + commitKey + "'");
            }
        }
        if (eventIndex < 0 || eventIndex > MAX_INDEX) {
            throw new IllegalArgumentException("Event index must be between 0 and " + MAX_INDEX + ", got " + eventIndex);
        }
    }

    /**
     * The position of event {@code eventIndex} of the unit committed at {@code sequence}, a
     * non-negative 64-bit sequence number (for PostgreSQL the commit LSN), as version 1: 16
     * upper-case hexadecimal digits, which sort as text as the numbers do.
     *
     * @throws IllegalArgumentException when {@code sequence} or {@code eventIndex} is negative
     */
    public static SourcePosition ofSequence(long sequence, long eventIndex) {
        if (sequence < 0) {
            throw new IllegalArgumentException("Sequence must not be negative, got " + sequence);
        }
        return new SourcePosition(sequenceKey(sequence), eventIndex);
    }

    /** The version-1 commit key of a non-negative sequence number: 16 upper-case hexadecimal digits. */
    public static String sequenceKey(long sequence) {
        char[] out = new char[16];
        long v = sequence;
        for (int i = 15; i >= 0; i--) {
            out[i] = HEX[(int) (v & 0xF)];
            v >>>= 4;
        }
        return new String(out);
    }

    /** The sequence number of a version-1 commit key ({@link #ofSequence}); empty for any other form. */
    public OptionalLong sequence() {
        if (commitKey.length() != 16) {
            return OptionalLong.empty();
        }
        long v = 0;
        for (int i = 0; i < 16; i++) {
            char c = commitKey.charAt(i);
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0) {
                return OptionalLong.empty();
            }
            v = (v << 4) | d;
        }
        return v < 0 ? OptionalLong.empty() : OptionalLong.of(v);
    }

    /** The commit key, a dash, 12 decimal digits of the event index. */
    public String encoded() {
        // Hot path (one call per event per layer): no String.format.
        char[] out = new char[commitKey.length() + 1 + INDEX_DIGITS];
        commitKey.getChars(0, commitKey.length(), out, 0);
        out[commitKey.length()] = '-';
        long index = eventIndex;
        for (int i = out.length - 1; i > commitKey.length(); i--) {
            out[i] = (char) ('0' + index % 10);
            index /= 10;
        }
        return new String(out);
    }

    /**
     * Parses the {@link #encoded()} form.
     *
     * @throws IllegalArgumentException when the text is not in that form
     */
    public static SourcePosition decode(String encoded) {
        requireNonNull(encoded, "encoded is null");
        int dash = encoded.length() - INDEX_DIGITS - 1;
        if (dash < 1 || encoded.charAt(dash) != '-') {
            throw new IllegalArgumentException("Source position must look like '<commit key>-000000000000', e.g. '0000000001A2B3C4-000000000000', got '" + encoded + "'");
        }
        long index = 0;
        for (int i = dash + 1; i < encoded.length(); i++) {
            char c = encoded.charAt(i);
            if (c < '0' || c > '9') {
                throw new IllegalArgumentException("Source position must end in 12 decimal digits, got '" + encoded + "'");
            }
            index = index * 10 + (c - '0');
        }
        return new SourcePosition(encoded.substring(0, dash), index);
    }

    public boolean isAfter(SourcePosition other) {
        return compareTo(other) > 0;
    }

    @Override
    public int compareTo(SourcePosition other) {
        int c = commitKey.compareTo(other.commitKey);
        return c != 0 ? c : Long.compare(eventIndex, other.eventIndex);
    }

    /** Version 1 as {@code X/Y#index} (the sequence in PostgreSQL's LSN notation), any other as {@code key#index}. */
    @Override
    public String toString() {
        OptionalLong sequence = sequence();
        if (sequence.isPresent()) {
            long v = sequence.getAsLong();
            return Long.toHexString(v >>> 32).toUpperCase() + "/" + Long.toHexString(v & 0xFFFFFFFFL).toUpperCase() + "#" + eventIndex;
        }
        return commitKey + "#" + eventIndex;
    }
}
