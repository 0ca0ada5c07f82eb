package io.tributary.spi;

import static java.util.Objects.requireNonNull;

/**
 * Tributary's logical column types, between the source's types and Iceberg's. The Java class a
 * {@link Row} holds for each type:
 *
 * <table>
 * <tr><th>type</th><th>Java value</th></tr>
 * <tr><td>BOOLEAN</td><td>{@link Boolean}</td></tr>
 * <tr><td>INT16, INT32</td><td>{@link Integer}</td></tr>
 * <tr><td>INT64</td><td>{@link Long}</td></tr>
 * <tr><td>FLOAT32 / FLOAT64</td><td>{@link Float} / {@link Double}</td></tr>
 * <tr><td>{@link Decimal}</td><td>{@link java.math.BigDecimal} with exactly the type's scale</td></tr>
 * <tr><td>STRING, JSON</td><td>{@link String}</td></tr>
 * <tr><td>BINARY</td><td>{@code byte[]}</td></tr>
 * <tr><td>DATE</td><td>{@link java.time.LocalDate}</td></tr>
 * <tr><td>TIME</td><td>{@link java.time.LocalTime}, microseconds</td></tr>
 * <tr><td>TIMESTAMP</td><td>{@link java.time.LocalDateTime}, microseconds, no time zone</td></tr>
 * <tr><td>TIMESTAMPTZ</td><td>{@link java.time.OffsetDateTime} in UTC, microseconds</td></tr>
 * <tr><td>UUID</td><td>{@link java.util.UUID}</td></tr>
 * <tr><td>{@link ListOf}</td><td>{@link java.util.List} of the element's Java value</td></tr>
 * </table>
 *
 * <p>A source's infinite dates and timestamps are the extreme values the lake's encodings allow, the
 * ones DuckDB reads as {@code infinity} and {@code -infinity}: epoch day ±2147483647 for DATE, and
 * ±(2<sup>63</sup>−1) microseconds from the epoch for TIMESTAMP and TIMESTAMPTZ.
 */
public sealed interface ColumnType permits ColumnType.Primitive, ColumnType.Decimal, ColumnType.ListOf {

    /** Types without parameters. */
    enum Primitive implements ColumnType {
        BOOLEAN, INT16, INT32, INT64, FLOAT32, FLOAT64, STRING, JSON, BINARY, DATE, TIME, TIMESTAMP, TIMESTAMPTZ, UUID
    }

    /**
     * A fixed-point decimal. Iceberg decimals hold at most 38 digits; the source maps wider or
     * unconstrained numerics to {@link Primitive#STRING} holding the exact decimal text.
     */
    record Decimal(int precision, int scale) implements ColumnType {
        public static final int MAX_PRECISION = 38;

        public Decimal {
            if (precision < 1 || precision > MAX_PRECISION) {
                throw new IllegalArgumentException("Decimal precision must be between 1 and 38, got " + precision);
            }
            if (scale < 0 || scale > precision) {
                throw new IllegalArgumentException("Decimal scale must be between 0 and the precision " + precision + ", got " + scale);
            }
        }

        @Override
        public String toString() {
            return "DECIMAL(" + precision + "," + scale + ")";
        }
    }

    /** A one-dimensional array of nullable elements. */
    record ListOf(ColumnType element) implements ColumnType {
        public ListOf {
            requireNonNull(element, "element is null");
        }

        @Override
        public String toString() {
            return "LIST<" + element + ">";
        }
    }
}
