package io.tributary.lake.layout;

import io.tributary.spi.ColumnType;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Maps Tributary column types to Iceberg types (Iceberg table spec, "Schemas and Data Types") and
 * row values to the Java classes Iceberg's generic records hold.
 */
public final class IcebergTypes {
    private IcebergTypes() {
    }

    public static Type toIceberg(ColumnType type, IntSupplier nextId) {
        if (type instanceof ColumnType.Decimal d) {
            return Types.DecimalType.of(d.precision(), d.scale());
        }
        if (type instanceof ColumnType.ListOf list) {
            int elementId = nextId.getAsInt();
            return Types.ListType.ofOptional(elementId, toIceberg(list.element(), nextId));
        }
        return switch ((ColumnType.Primitive) type) {
            case BOOLEAN -> Types.BooleanType.get();
            case INT16, INT32 -> Types.IntegerType.get();
            case INT64 -> Types.LongType.get();
            case FLOAT32 -> Types.FloatType.get();
            case FLOAT64 -> Types.DoubleType.get();
            case STRING, JSON -> Types.StringType.get();
            case BINARY -> Types.BinaryType.get();
            case DATE -> Types.DateType.get();
            case TIME -> Types.TimeType.get();
            case TIMESTAMP -> Types.TimestampType.withoutZone();
            case TIMESTAMPTZ -> Types.TimestampType.withZone();
            case UUID -> Types.UUIDType.get();
        };
    }

    /**
     * A row value in the class Iceberg's generic writers expect for a column of {@code type}: as
     * {@link #toIcebergValue(Object)}, and widened for a column whose type was promoted after the
     * value's schema (int to long, float to double).
     */
    public static Object toIcebergValue(Object value, Type type) {
        Object v = toIcebergValue(value);
        if (v instanceof Integer i && type.typeId() == Type.TypeID.LONG) {
            return i.longValue();
        }
        if (v instanceof Float f && type.typeId() == Type.TypeID.DOUBLE) {
            return f.doubleValue();
        }
        return v;
    }

    /** A row value in the class Iceberg's generic writers expect. */
    public static Object toIcebergValue(Object value) {
        if (value == null || value instanceof String || value instanceof Long || value instanceof Integer) {
            // The common classes first, by exact class: the List test below searches a class's interfaces.
            return value;
        }
        if (value instanceof byte[] bytes) {
            return ByteBuffer.wrap(bytes);
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object element : list) {
                out.add(toIcebergValue(element));
            }
            return out;
        }
        return value;
    }
}
