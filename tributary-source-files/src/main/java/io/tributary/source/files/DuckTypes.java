package io.tributary.source.files;

import io.tributary.spi.ColumnType;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Between the types DuckDB's file readers infer (or a table's {@code types} override names) and
 * Tributary's {@link ColumnType}s. A file column gets one of {@link #SUPPORTED}; the others are
 * widened to one of them (unsigned integers to the next wider signed type, HUGEINT to
 * DECIMAL(38,0), timestamps of other precisions to TIMESTAMP) or read as their text (lists,
 * structs, intervals): nothing is dropped.
 */
final class DuckTypes {
    /** The types a file column is read as. */
    static final java.util.List<String> SUPPORTED = java.util.List.of("BOOLEAN", "SMALLINT", "INTEGER", "BIGINT", "FLOAT", "DOUBLE", "DECIMAL(p,s)",
            "VARCHAR", "DATE", "TIME", "TIMESTAMP", "TIMESTAMPTZ", "BLOB", "UUID", "JSON");
    private static final Pattern DECIMAL = Pattern.compile("(?:DECIMAL|NUMERIC)\\s*\\(\\s*(\\d+)\\s*,\\s*(\\d+)\\s*\\)");

    private DuckTypes() {
    }

    /** A DuckDB type name (as DESCRIBE prints it, or a {@code types} override) as one of {@link #SUPPORTED}. */
    static String normalize(String duckType) {
        String t = duckType.trim().toUpperCase(Locale.ROOT);
        Matcher m = DECIMAL.matcher(t);
        if (m.matches()) {
            return "DECIMAL(" + m.group(1) + "," + m.group(2) + ")";
        }
        return switch (t) {
            case "BOOLEAN", "BOOL" -> "BOOLEAN";
            case "TINYINT", "UTINYINT", "SMALLINT" -> "SMALLINT";
            case "USMALLINT", "INTEGER", "INT" -> "INTEGER";
            case "UINTEGER", "BIGINT" -> "BIGINT";
            case "UBIGINT", "HUGEINT", "UHUGEINT" -> "DECIMAL(38,0)";
            case "FLOAT", "REAL" -> "FLOAT";
            case "DOUBLE" -> "DOUBLE";
            case "DATE" -> "DATE";
            case "TIME" -> "TIME";
            case "TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "DATETIME" -> "TIMESTAMP";
            case "TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE" -> "TIMESTAMPTZ";
            case "BLOB", "BYTEA" -> "BLOB";
            case "UUID" -> "UUID";
            case "JSON" -> "JSON";
            default -> "VARCHAR";
        };
    }

    /** The SQL type DuckDB casts a column to for a {@link #normalize normalized} type. */
    static String sqlType(String normalized) {
        return normalized.equals("TIMESTAMPTZ") ? "TIMESTAMP WITH TIME ZONE" : normalized;
    }

    /** Tributary's type of a {@link #normalize normalized} type. */
    static ColumnType columnType(String normalized) {
        Matcher m = DECIMAL.matcher(normalized);
        if (m.matches()) {
            int precision = Integer.parseInt(m.group(1));
            int scale = Integer.parseInt(m.group(2));
            return new ColumnType.Decimal(Math.min(Math.max(precision, 1), ColumnType.Decimal.MAX_PRECISION), Math.min(scale, precision));
        }
        return switch (normalized) {
            case "BOOLEAN" -> ColumnType.Primitive.BOOLEAN;
            case "SMALLINT" -> ColumnType.Primitive.INT16;
            case "INTEGER" -> ColumnType.Primitive.INT32;
            case "BIGINT" -> ColumnType.Primitive.INT64;
            case "FLOAT" -> ColumnType.Primitive.FLOAT32;
            case "DOUBLE" -> ColumnType.Primitive.FLOAT64;
            case "DATE" -> ColumnType.Primitive.DATE;
            case "TIME" -> ColumnType.Primitive.TIME;
            case "TIMESTAMP" -> ColumnType.Primitive.TIMESTAMP;
            case "TIMESTAMPTZ" -> ColumnType.Primitive.TIMESTAMPTZ;
            case "BLOB" -> ColumnType.Primitive.BINARY;
            case "UUID" -> ColumnType.Primitive.UUID;
            case "JSON" -> ColumnType.Primitive.JSON;
            default -> ColumnType.Primitive.STRING;
        };
    }

    /** Column {@code index} (1-based) of the current row as the Java value {@link io.tributary.spi.Row} holds for {@code type}; null for SQL NULL. */
    static Object value(ResultSet rs, int index, ColumnType type) throws SQLException {
        Object v;
        if (type instanceof ColumnType.Decimal d) {
            BigDecimal b = rs.getBigDecimal(index);
            return b == null ? null : b.setScale(d.scale(), RoundingMode.UNNECESSARY);
        }
        switch ((ColumnType.Primitive) type) {
            case BOOLEAN -> v = rs.getBoolean(index);
            case INT16, INT32 -> v = rs.getInt(index);
            case INT64 -> v = rs.getLong(index);
            case FLOAT32 -> v = rs.getFloat(index);
            case FLOAT64 -> v = rs.getDouble(index);
            case DATE -> v = rs.getObject(index, LocalDate.class);
            case TIME -> v = rs.getObject(index, LocalTime.class);
            case TIMESTAMP -> v = rs.getObject(index, LocalDateTime.class);
            case TIMESTAMPTZ -> {
                OffsetDateTime t = rs.getObject(index, OffsetDateTime.class);
                v = t == null ? null : t.withOffsetSameInstant(ZoneOffset.UTC);
            }
            case BINARY -> v = rs.getBytes(index);
            case UUID -> v = rs.getObject(index, UUID.class);
            default -> v = rs.getString(index);
        }
        return rs.wasNull() ? null : v;
    }
}
