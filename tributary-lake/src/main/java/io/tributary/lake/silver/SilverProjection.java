package io.tributary.lake.silver;

import io.tributary.config.TableOptions;
import io.tributary.lake.layout.IcebergTypes;
import io.tributary.lake.layout.TableNames;
import io.tributary.spi.Column;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * How a source table's rows look in silver: snake_case column names, then the table's renames,
 * excluded columns dropped, hashed columns replaced by the hex SHA-256 of their text, casts applied.
 * Deterministic, so equality deletes computed from it match earlier writes.
 */
public final class SilverProjection {
    /** One silver column: its name, Iceberg type, source index and value transform. */
    public record Output(String name, Type type, boolean required, int sourceIndex, UnaryOperator<Object> transform) {
    }

    private final List<Output> outputs;
    private final List<String> keyNames;

    public SilverProjection(TableSchema schema, TableOptions options) {
        List<Output> out = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        AtomicInteger ids = new AtomicInteger(1000);
        for (int i = 0; i < schema.columns().size(); i++) {
            Column c = schema.columns().get(i);
            if (options.excluded().contains(c.name())) {
                if (schema.keyColumns().contains(c.name())) {
                    throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot exclude column " + c.name() + " of " + schema.table() + ": it is part of the primary key");
                }
                continue;
            }
            String name = options.renames().getOrDefault(c.name(), TableNames.snakeCase(c.name()));
            Type type = IcebergTypes.toIceberg(c.type(), ids::incrementAndGet);
            UnaryOperator<Object> transform = UnaryOperator.identity();
            if (options.hashed().contains(c.name())) {
                type = Types.StringType.get();
                transform = SilverProjection::sha256;
            }
            String cast = options.casts().get(name);
            if (cast != null) {
                Type target = castType(cast);
                UnaryOperator<Object> before = transform;
                transform = v -> castValue(before.apply(v), target);
                type = target;
            }
            boolean key = schema.keyColumns().contains(c.name());
            if (key) {
                keys.add(name);
            }
            out.add(new Output(name, type, key, i, transform));
        }
        this.outputs = List.copyOf(out);
        this.keyNames = List.copyOf(keys);
    }

    public List<Output> outputs() {
        return outputs;
    }

    public List<String> keyNames() {
        return keyNames;
    }

    public Object value(Output output, Row row) {
        return IcebergTypes.toIcebergValue(keyValue(output, row));
    }

    /** The value before conversion to Iceberg's writer classes: comparable with {@code equals} (UUIDs stay UUIDs). */
    public Object keyValue(Output output, Row row) {
        Object v = output.transform().apply(row.get(output.sourceIndex()));
        return v instanceof byte[] b ? java.nio.ByteBuffer.wrap(b) : v;
    }

    private static Object sha256(Object value) {
        if (value == null) {
            return null;
        }
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            String text = value instanceof byte[] b ? HexFormat.of().formatHex(b) : value.toString();
            return HexFormat.of().formatHex(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot hash a column: SHA-256 is not available", e);
        }
    }

    static Type castType(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT).replace(" ", "");
        if (t.startsWith("decimal(")) {
            String[] ps = t.substring(8, t.length() - 1).split(",");
            return Types.DecimalType.of(Integer.parseInt(ps[0]), Integer.parseInt(ps[1]));
        }
        return switch (t) {
            case "string" -> Types.StringType.get();
            case "int" -> Types.IntegerType.get();
            case "long" -> Types.LongType.get();
            case "double" -> Types.DoubleType.get();
            case "boolean" -> Types.BooleanType.get();
            case "date" -> Types.DateType.get();
            case "timestamp" -> Types.TimestampType.withoutZone();
            default -> throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot cast to '" + text + "': unknown type");
        };
    }

    static Object castValue(Object v, Type target) {
        if (v == null) {
            return null;
        }
        return switch (target.typeId()) {
            case STRING -> v instanceof BigDecimal d ? d.toPlainString() : v.toString();
            case INTEGER -> v instanceof Number n ? Integer.valueOf(Math.toIntExact(n.longValue())) : Integer.valueOf(v.toString().trim());
            case LONG -> v instanceof Number n ? Long.valueOf(n.longValue()) : Long.valueOf(v.toString().trim());
            case DOUBLE -> v instanceof Number n ? Double.valueOf(n.doubleValue()) : Double.valueOf(v.toString().trim());
            case BOOLEAN -> v instanceof Boolean b ? b : Boolean.valueOf(v.toString().trim());
            case DECIMAL -> (v instanceof BigDecimal d ? d : new BigDecimal(v.toString().trim())).setScale(((Types.DecimalType) target).scale(), RoundingMode.UNNECESSARY);
            case DATE -> v instanceof LocalDateTime t ? t.toLocalDate() : v instanceof OffsetDateTime o ? o.toLocalDate() : v instanceof LocalDate d ? d : LocalDate.parse(v.toString().trim());
            case TIMESTAMP -> v instanceof OffsetDateTime o ? o.toLocalDateTime() : v instanceof LocalDate d ? d.atStartOfDay() : v instanceof LocalDateTime t ? t : LocalDateTime.parse(v.toString().trim());
            default -> throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot cast to " + target);
        };
    }

}
