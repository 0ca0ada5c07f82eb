package io.tributary.spi;

import java.util.Arrays;

/**
 * The values of one row image, positionally aligned with a {@link TableSchema}'s columns; Java
 * classes per {@link ColumnType}. A value the source did not send is {@link #UNAVAILABLE} (see
 * there); every other value is null or of its column type's class. Immutable by contract: callers
 * must not modify the array they pass.
 */
public final class Row {
    /**
     * Stands for a value the source did not send: PostgreSQL leaves an unchanged TOASTed value out of
     * the new row image of an UPDATE (PostgreSQL "Logical Replication Message Formats", TupleData
     * kind 'u'; Debezium's {@code unavailable.value.placeholder}). Such a value is the row's previous
     * value; the lake resolves it before writing, so no layer ever stores it.
     */
    public static final Object UNAVAILABLE = Unavailable.VALUE;

    private enum Unavailable { VALUE }

    private final Object[] values;

    private Row(Object[] values) {
        this.values = values;
    }

    public static Row of(Object... values) {
        return new Row(values);
    }

    public Object get(int index) {
        return values[index];
    }

    public int size() {
        return values.length;
    }

    /** Whether the value at {@code index} was sent by the source (it may still be null). */
    public boolean isAvailable(int index) {
        return values[index] != UNAVAILABLE;
    }

    /** Whether any value of this image is {@link #UNAVAILABLE}. */
    public boolean hasUnavailable() {
        for (Object v : values) {
            if (v == UNAVAILABLE) {
                return true;
            }
        }
        return false;
    }

    /** A copy of this row with the value at {@code index} replaced. */
    public Row with(int index, Object value) {
        Object[] copy = values.clone();
        copy[index] = value;
        return new Row(copy);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Row other && Arrays.deepEquals(values, other.values);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(values);
    }

    @Override
    public String toString() {
        // Row values may be personal data: never print them.
        return "Row[" + values.length + " values]";
    }
}
