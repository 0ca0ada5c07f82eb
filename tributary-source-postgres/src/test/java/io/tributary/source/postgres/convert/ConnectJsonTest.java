package io.tributary.source.postgres.convert;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.Test;

class ConnectJsonTest {
    private static final Schema ROW = SchemaBuilder.struct().name("shop.public.orders.Value")
            .field("i8", Schema.OPTIONAL_INT8_SCHEMA)
            .field("i16", Schema.OPTIONAL_INT16_SCHEMA)
            .field("i32", Schema.INT32_SCHEMA)
            .field("i64", Schema.OPTIONAL_INT64_SCHEMA)
            .field("f32", Schema.OPTIONAL_FLOAT32_SCHEMA)
            .field("f64", Schema.OPTIONAL_FLOAT64_SCHEMA)
            .field("flag", Schema.OPTIONAL_BOOLEAN_SCHEMA)
            .field("text", Schema.OPTIONAL_STRING_SCHEMA)
            .field("bytes", Schema.OPTIONAL_BYTES_SCHEMA)
            .field("buffer", Schema.OPTIONAL_BYTES_SCHEMA)
            .field("amount", Decimal.builder(2).optional().build())
            .field("day", Date.builder().optional().build())
            .field("at", Timestamp.builder().optional().build())
            .field("defaulted", SchemaBuilder.int32().optional().defaultValue(42).build())
            .field("tags", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).optional().build())
            .field("attrs", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.OPTIONAL_STRING_SCHEMA).optional().build())
            .field("pairs", SchemaBuilder.map(Schema.INT32_SCHEMA, Schema.FLOAT64_SCHEMA).optional().build())
            .field("nested", SchemaBuilder.struct().name("io.debezium.data.VariableScaleDecimal").optional()
                    .field("scale", Schema.INT32_SCHEMA).field("value", Schema.BYTES_SCHEMA).build())
            .build();
    private static final Schema ENVELOPE = SchemaBuilder.struct().name("shop.public.orders.Envelope")
            .field("before", ROW.schema()).field("after", ROW.schema()).field("op", Schema.STRING_SCHEMA).field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA).build();

    @Test
    void writesWhatJsonConverterWrites() throws Exception {
        Struct full = new Struct(ROW)
                .put("i8", (byte) -7).put("i16", (short) 300).put("i32", Integer.MIN_VALUE).put("i64", Long.MAX_VALUE)
                .put("f32", 1.1f).put("f64", -0.000123456789e-300).put("flag", true)
                .put("text", "quote \" backslash \\ tab \t newline \n emoji \uD83D\uDE00 nul-free \u00e9\u4e2d")
                .put("bytes", new byte[] {0, 1, 2, (byte) 255}).put("buffer", ByteBuffer.wrap("xyz".getBytes(StandardCharsets.UTF_8)))
                .put("amount", new BigDecimal("-12345678901234567890123456789012.34")).put("day", new java.util.Date(86_400_000L * 19_000))
                .put("at", new java.util.Date(1_700_000_000_123L)).put("tags", Arrays.asList("a", null, "c"))
                .put("attrs", new LinkedHashMap<>(Map.of("k", "v"))).put("pairs", new LinkedHashMap<>(Map.of(1, 2.5)))
                .put("nested", new Struct(ROW.field("nested").schema()).put("scale", 3).put("value", new BigDecimal("1E+3").unscaledValue().toByteArray()));
        Struct sparse = new Struct(ROW).put("i32", 0).put("amount", new BigDecimal("1E+3")).put("f64", Double.NaN).put("f32", Float.NEGATIVE_INFINITY);
        for (Struct row : List.of(full, sparse)) {
            Struct envelope = new Struct(ENVELOPE).put("before", row).put("after", row).put("op", "u").put("ts_ms", 1L);
            assertThat(render(envelope)).contains("\"op\":\"u\"").isEqualTo(jsonConverter(envelope));
        }
    }

    private static String render(Struct value) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ConnectJson.write(value.schema(), value, out);
        return out.toString(StandardCharsets.UTF_8);
    }

    private static String jsonConverter(Struct value) {
        JsonConverter converter = new JsonConverter();
        converter.configure(Map.of("schemas.enable", "false", "decimal.format", "NUMERIC"), false);
        return new String(converter.fromConnectData("topic", value.schema(), value), StandardCharsets.UTF_8);
    }
}
