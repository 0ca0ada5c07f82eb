package io.tributary.source.postgres.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.spi.ColumnType;
import io.tributary.spi.ColumnType.Primitive;
import io.tributary.spi.Row;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.List;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.junit.jupiter.api.Test;

class ConnectTypeMappingTest {
    private static final Schema DATE = SchemaBuilder.int32().name("io.debezium.time.Date").optional().build();
    private static final Schema MICRO_TIMESTAMP = SchemaBuilder.int64().name("io.debezium.time.MicroTimestamp").optional().build();

    @Test
    void placeholdersOfUnchangedToastedValuesAreUnavailable() {
        String text = "__debezium_unavailable_value";
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        assertThat(ConnectTypeMapping.value(Primitive.STRING, Schema.OPTIONAL_STRING_SCHEMA, text)).isSameAs(Row.UNAVAILABLE);
        assertThat(ConnectTypeMapping.value(Primitive.JSON, Schema.OPTIONAL_STRING_SCHEMA, text)).isSameAs(Row.UNAVAILABLE);
        assertThat(ConnectTypeMapping.value(Primitive.BINARY, Schema.OPTIONAL_BYTES_SCHEMA, ByteBuffer.wrap(bytes))).isSameAs(Row.UNAVAILABLE);
        Schema textArray = SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build();
        assertThat(ConnectTypeMapping.value(new ColumnType.ListOf(Primitive.STRING), textArray, List.of(text))).isSameAs(Row.UNAVAILABLE);
        // Ordinary values are not placeholders.
        assertThat(ConnectTypeMapping.value(Primitive.STRING, Schema.OPTIONAL_STRING_SCHEMA, text + " ")).isEqualTo(text + " ");
        assertThat(ConnectTypeMapping.value(new ColumnType.ListOf(Primitive.STRING), textArray, List.of(text, text))).isEqualTo(List.of(text, text));
    }

    @Test
    void infiniteDatesAndTimestampsBecomeTheExtremeValues() {
        LocalDate max = LocalDate.ofEpochDay(Integer.MAX_VALUE);
        LocalDate min = LocalDate.ofEpochDay(-Integer.MAX_VALUE);
        assertThat(ConnectTypeMapping.value(Primitive.DATE, DATE, -622_191_234)).isEqualTo(max);
        assertThat(ConnectTypeMapping.value(Primitive.DATE, DATE, -2_147_472_692)).isEqualTo(max);
        assertThat(ConnectTypeMapping.value(Primitive.DATE, DATE, -625_821_272)).isEqualTo(min);
        assertThat(ConnectTypeMapping.value(Primitive.DATE, DATE, -2_147_472_691)).isEqualTo(min);
        assertThat(ConnectTypeMapping.value(Primitive.DATE, DATE, -2_440_588)).isEqualTo(LocalDate.parse("-4713-11-24"));
        assertThatThrownBy(() -> ConnectTypeMapping.value(Primitive.DATE, DATE, -3_000_000)).isInstanceOf(IllegalArgumentException.class);
        assertThat(ConnectTypeMapping.value(Primitive.TIMESTAMP, MICRO_TIMESTAMP, 9_223_372_036_825_200_000L))
                .isEqualTo(ConnectTypeMapping.POSITIVE_INFINITY.toLocalDateTime());
        assertThat(ConnectTypeMapping.value(Primitive.TIMESTAMPTZ, Schema.OPTIONAL_STRING_SCHEMA, "-infinity")).isEqualTo(ConnectTypeMapping.NEGATIVE_INFINITY);
    }

    @Test
    void exactNumericTextKeepsSpecialValues() {
        assertThat(ExactNumericConverter.exact(new java.math.BigDecimal("1234567890123456789012345678901234567890.0100"))).isEqualTo("1234567890123456789012345678901234567890.0100");
        assertThat(ExactNumericConverter.exact(Double.NaN)).isEqualTo("NaN");
        assertThat(ExactNumericConverter.exact(Double.NEGATIVE_INFINITY)).isEqualTo("-Infinity");
        assertThat(ExactNumericConverter.exact(io.debezium.data.SpecialValueDecimal.POSITIVE_INF)).isEqualTo("Infinity");
        assertThat(ExactNumericConverter.exact(io.debezium.data.SpecialValueDecimal.NOT_A_NUMBER)).isEqualTo("NaN");
        assertThat(ExactNumericConverter.exact(new io.debezium.data.SpecialValueDecimal(new java.math.BigDecimal("1E+3")))).isEqualTo("1000");
        assertThat(ExactNumericConverter.exact(null)).isNull();
    }
}
