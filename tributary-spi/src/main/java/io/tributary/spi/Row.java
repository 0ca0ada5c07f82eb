package io.tributary.spi;

import java.util.Arrays;

/**
 * The values of one row image, positionally aligned with a {@link TableSchema}'s columns; Java
 * classes per {@link ColumnType}. Immutable by contract: callers must not modify the array they pass.
 */
public final class Row {
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
