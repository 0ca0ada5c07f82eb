package io.tributary.source.postgres.convert;

import io.debezium.spi.converter.CustomConverter;
import io.debezium.spi.converter.RelationalColumn;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.Properties;
import org.apache.kafka.connect.data.SchemaBuilder;

/**
 * A Debezium custom converter (Debezium documentation, "Custom converters") for PostgreSQL numeric
 * columns an Iceberg decimal cannot hold: numeric without precision, or with more than 38 digits.
 * They become their exact decimal text, including {@code NaN}, {@code Infinity} and
 * {@code -Infinity}, which Debezium's precise decimals cannot carry (they would arrive as null).
 * Constrained numerics of at most 38 digits keep Debezium's decimal. Stateless, thread-safe.
 */
public final class ExactNumericConverter implements CustomConverter<SchemaBuilder, RelationalColumn> {
    /** The name Tributary registers the converter under in Debezium's {@code converters} property. */
    public static final String NAME = "exactnumeric";

    @Override
    public void configure(Properties props) {
    }

    @Override
    public void converterFor(RelationalColumn column, ConverterRegistration<SchemaBuilder> registration) {
        String type = column.typeName() == null ? "" : column.typeName().toLowerCase(Locale.ROOT);
        if (!type.equals("numeric") && !type.equals("decimal")) {
            return;
        }
        boolean fitsDecimal = column.length().isPresent() && column.length().getAsInt() >= 1
                && column.length().getAsInt() <= io.tributary.spi.ColumnType.Decimal.MAX_PRECISION && column.scale().isPresent();
        if (!fitsDecimal) {
            registration.register(SchemaBuilder.string().optional(), ExactNumericConverter::exact);
        }
    }

    /** The exact text of a numeric as the initial snapshot (JDBC) or the stream (pgoutput) hands it over. */
    static String exact(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof BigDecimal d) {
            return d.toPlainString();
        }
        if (value instanceof Double d && (d.isNaN() || d.isInfinite())) {
            return d.isNaN() ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
        }
        String text = value.toString();
        return switch (text) {
            case "NAN", "NaN" -> "NaN";
            case "POSITIVE_INFINITY", "Infinity" -> "Infinity";
            case "NEGATIVE_INFINITY", "-Infinity" -> "-Infinity";
            default -> new BigDecimal(text).toPlainString();
        };
    }
}
