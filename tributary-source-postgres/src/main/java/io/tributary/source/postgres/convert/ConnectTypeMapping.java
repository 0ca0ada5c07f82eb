package io.tributary.source.postgres.convert;

import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.ColumnType.Primitive;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * Maps Debezium's Kafka Connect schemas for PostgreSQL columns (with {@code decimal.handling.mode=precise},
 * {@code time.precision.mode=adaptive_time_microseconds}, {@code binary.handling.mode=bytes},
 * {@code interval.handling.mode=numeric}) to Tributary column types, and converts values.
 * See Debezium's PostgreSQL connector documentation, "Data type mappings".
 */
public final class ConnectTypeMapping {
    private static final String SOURCE_TYPE = "__debezium.source.column.type";
    private static final String SOURCE_LENGTH = "__debezium.source.column.length";
    private static final String SOURCE_SCALE = "__debezium.source.column.scale";

    private ConnectTypeMapping() {
    }

    /** The column for one field of a Debezium row struct. */
    public static Column column(TableId table, Field field) {
        Schema schema = field.schema();
        String sourceType = sourceType(schema);
        ColumnType type = type(table, field.name(), schema);
        return schema.isOptional()
                ? Column.nullable(field.name(), type, sourceType)
                : Column.required(field.name(), type, sourceType);
    }

    private static String sourceType(Schema schema) {
        Map<String, String> params = schema.parameters();
        if (params != null && params.containsKey(SOURCE_TYPE)) {
            return params.get(SOURCE_TYPE).toLowerCase(Locale.ROOT);
        }
        return schema.name() != null ? schema.name() : schema.type().getName();
    }

    static ColumnType type(TableId table, String column, Schema schema) {
        String name = schema.name();
        if (name != null) {
            switch (name) {
                case "org.apache.kafka.connect.data.Decimal": {
                    int scale = Integer.parseInt(schema.parameters().get("scale"));
                    String precisionText = schema.parameters().get("connect.decimal.precision");
                    Map<String, String> params = schema.parameters();
                    if (precisionText == null && params.containsKey(SOURCE_LENGTH)) {
                        precisionText = params.get(SOURCE_LENGTH);
                    }
                    int precision = precisionText == null ? 0 : Integer.parseInt(precisionText);
                    if ("money".equals(params.get(SOURCE_TYPE) == null ? null : params.get(SOURCE_TYPE).toLowerCase(Locale.ROOT))) {
                        precision = 19;
                    }
                    if (precision >= 1 && precision <= ColumnType.Decimal.MAX_PRECISION && scale <= precision) {
                        return new ColumnType.Decimal(precision, scale);
                    }
                    return Primitive.STRING;
                }
                case "io.debezium.data.VariableScaleDecimal":
                    return Primitive.STRING;
                case "io.debezium.time.Date":
                    return Primitive.DATE;
                case "io.debezium.time.Time", "io.debezium.time.MicroTime", "io.debezium.time.NanoTime":
                    return Primitive.TIME;
                case "io.debezium.time.Timestamp", "io.debezium.time.MicroTimestamp", "io.debezium.time.NanoTimestamp":
                    return Primitive.TIMESTAMP;
                case "io.debezium.time.ZonedTimestamp":
                    return Primitive.TIMESTAMPTZ;
                case "io.debezium.time.ZonedTime":
                    return Primitive.STRING;
                case "io.debezium.time.MicroDuration":
                    return Primitive.INT64;
                case "io.debezium.data.Uuid":
                    return Primitive.UUID;
                case "io.debezium.data.Json":
                    return Primitive.JSON;
                case "io.debezium.data.Enum", "io.debezium.data.EnumSet", "io.debezium.data.Xml", "io.debezium.data.Ltree",
                        "io.debezium.data.Bits":
                    return name.equals("io.debezium.data.Bits") ? Primitive.BINARY : Primitive.STRING;
                default:
                    break;
            }
        }
        return switch (schema.type()) {
            case BOOLEAN -> Primitive.BOOLEAN;
            case INT8, INT16 -> Primitive.INT16;
            case INT32 -> Primitive.INT32;
            case INT64 -> Primitive.INT64;
            case FLOAT32 -> Primitive.FLOAT32;
            case FLOAT64 -> Primitive.FLOAT64;
            case STRING -> Primitive.STRING;
            case BYTES -> Primitive.BINARY;
            case ARRAY -> new ColumnType.ListOf(type(table, column, schema.valueSchema()));
            case MAP, STRUCT -> throw new TributaryException(ErrorCode.UNSUPPORTED_TYPE,
                    "Cannot map column " + column + " of " + table + ": PostgreSQL type '" + sourceType(schema) + "' (" + name + ") is not supported. "
                            + "Change the column to a supported type (e.g. ALTER TABLE " + table + " ALTER COLUMN " + column + " TYPE text) and snapshot the table again, "
                            + "or leave the table out of source.tables");
        };
    }

    /**
     * Converts a Debezium value of {@code schema} into the Java class {@link ColumnType} documents for
     * {@code type}, or {@link io.tributary.spi.Row#UNAVAILABLE} for the placeholder of an unchanged TOASTed value.
     */
    public static Object value(ColumnType type, Schema schema, Object value) {
        // Only a whole column value is a placeholder: an array element that happens to read the same is data.
        return UnavailablePlaceholder.matches(value) ? io.tributary.spi.Row.UNAVAILABLE : convert(type, schema, value);
    }

    private static Object convert(ColumnType type, Schema schema, Object value) {
        if (value == null) {
            return null;
        }
        if (type instanceof ColumnType.Decimal decimal) {
            BigDecimal d = (BigDecimal) value;
            return d.scale() == decimal.scale() ? d : d.setScale(decimal.scale());
        }
        if (type instanceof ColumnType.ListOf list) {
            List<?> in = (List<?>) value;
            List<Object> out = new ArrayList<>(in.size());
            for (Object element : in) {
                out.add(convert(list.element(), schema.valueSchema(), element));
            }
            return out;
        }
        Primitive p = (Primitive) type;
        String name = schema.name();
        return switch (p) {
            case BOOLEAN, FLOAT32, FLOAT64 -> value;
            case INT16 -> ((Number) value).intValue();
            case INT32 -> value;
            case INT64 -> value;
            case STRING -> stringValue(name, value);
            case JSON -> value.toString();
            case BINARY -> value instanceof ByteBuffer b ? bytes(b) : value;
            case DATE -> date(((Number) value).longValue());
            case TIME -> time(name, ((Number) value).longValue());
            case TIMESTAMP -> timestamp(name, ((Number) value).longValue());
            case TIMESTAMPTZ -> timestampTz((String) value);
            case UUID -> UUID.fromString((String) value);
        };
    }

    private static String stringValue(String schemaName, Object value) {
        if (value instanceof Struct s && "io.debezium.data.VariableScaleDecimal".equals(schemaName)) {
            int scale = s.getInt32("scale");
            byte[] unscaled = s.getBytes("value");
            return new BigDecimal(new BigInteger(unscaled), scale).toPlainString();
        }
        if (value instanceof BigDecimal d) {
            return d.toPlainString();
        }
        return value.toString();
    }

    /**
     * PostgreSQL's {@code infinity} and {@code -infinity} (Debezium passes them as text) become the
     * largest and smallest microsecond values, the encoding DuckDB reads back as {@code infinity}.
     */
    static final OffsetDateTime POSITIVE_INFINITY = micros(Long.MAX_VALUE);
    static final OffsetDateTime NEGATIVE_INFINITY = micros(-Long.MAX_VALUE);

    private static OffsetDateTime micros(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L).atOffset(ZoneOffset.UTC);
    }

    private static OffsetDateTime timestampTz(String text) {
        return switch (text) {
            case "infinity" -> POSITIVE_INFINITY;
            case "-infinity" -> NEGATIVE_INFINITY;
            default -> OffsetDateTime.parse(text, DateTimeFormatter.ISO_OFFSET_DATE_TIME).withOffsetSameInstant(ZoneOffset.UTC);
        };
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] out = new byte[buffer.remaining()];
        buffer.duplicate().get(out);
        return out;
    }

    private static LocalTime time(String schemaName, long value) {
        long nanos = switch (schemaName == null ? "" : schemaName) {
            case "io.debezium.time.Time" -> value * 1_000_000L;
            case "io.debezium.time.NanoTime" -> value;
            default -> value * 1_000L;
        };
        return LocalTime.ofNanoOfDay(Math.floorMod(nanos, 86_400_000_000_000L));
    }

    /**
     * PostgreSQL's date {@code infinity} and {@code -infinity} become epoch day ±2147483647, DuckDB's
     * date infinities. Debezium 2.7 delivers them as overflowed day numbers far before PostgreSQL's
     * earliest date (4714-11-24 BC): -622191234 / -625821272 from the initial snapshot (±2 for the
     * JVM's time zone), -2147472692 / -2147472691 from streaming.
     */
    static final LocalDate DATE_POSITIVE_INFINITY = LocalDate.ofEpochDay(Integer.MAX_VALUE);
    static final LocalDate DATE_NEGATIVE_INFINITY = LocalDate.ofEpochDay(-Integer.MAX_VALUE);
    private static final long EARLIEST_POSTGRES_DATE = -2_440_588;

    private static LocalDate date(long epochDay) {
        if (epochDay >= EARLIEST_POSTGRES_DATE) {
            return LocalDate.ofEpochDay(epochDay);
        }
        if (epochDay == -2_147_472_692L || Math.abs(epochDay + 622_191_234L) <= 2) {
            return DATE_POSITIVE_INFINITY;
        }
        if (epochDay == -2_147_472_691L || Math.abs(epochDay + 625_821_272L) <= 2) {
            return DATE_NEGATIVE_INFINITY;
        }
        throw new IllegalArgumentException("Date value out of PostgreSQL's range: epoch day " + epochDay);
    }

    /** PostgreSQL JDBC's encodings of timestamp ±infinity (PGStatement.DATE_POSITIVE/NEGATIVE_INFINITY), which Debezium passes on as microseconds. */
    private static final long DEBEZIUM_TIMESTAMP_POSITIVE_INFINITY = 9_223_372_036_825_200_000L;
    private static final long DEBEZIUM_TIMESTAMP_NEGATIVE_INFINITY = -9_223_372_036_832_400_000L;

    private static LocalDateTime timestamp(String schemaName, long value) {
        if (!"io.debezium.time.Timestamp".equals(schemaName) && !"io.debezium.time.NanoTimestamp".equals(schemaName)) {
            if (value == DEBEZIUM_TIMESTAMP_POSITIVE_INFINITY) {
                return POSITIVE_INFINITY.toLocalDateTime();
            }
            if (value == DEBEZIUM_TIMESTAMP_NEGATIVE_INFINITY) {
                return NEGATIVE_INFINITY.toLocalDateTime();
            }
        }
        Instant instant = switch (schemaName == null ? "" : schemaName) {
            case "io.debezium.time.Timestamp" -> Instant.ofEpochMilli(value);
            case "io.debezium.time.NanoTimestamp" -> Instant.ofEpochSecond(Math.floorDiv(value, 1_000_000_000L), Math.floorMod(value, 1_000_000_000L));
            default -> Instant.ofEpochSecond(Math.floorDiv(value, 1_000_000L), Math.floorMod(value, 1_000_000L) * 1_000L);
        };
        return LocalDateTime.ofInstant(instant, ZoneOffset.UTC);
    }
}
