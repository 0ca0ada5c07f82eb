package io.tributary.source.postgres.convert;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.junit.jupiter.api.Test;

/** The record as it stands on a topic: byte for byte what Kafka's JsonConverter writes, live and after a spill. */
public class DebeziumRecordJsonTest {
    public static final Schema KEY = SchemaBuilder.struct().name("tributary.public.orders.Key").field("id", Schema.INT64_SCHEMA).build();
    public static final Schema ROW = SchemaBuilder.struct().name("tributary.public.orders.Value").optional()
            .field("id", Schema.INT64_SCHEMA).field("amount", Decimal.builder(2).optional().build()).field("note", Schema.OPTIONAL_STRING_SCHEMA).build();
    public static final Schema ENVELOPE = SchemaBuilder.struct().name("tributary.public.orders.Envelope")
            .field("before", ROW).field("after", ROW).field("op", Schema.STRING_SCHEMA).field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA).build();

    public static Struct key(long id) {
        return new Struct(KEY).put("id", id);
    }

    public static Struct envelope(long id) {
        Struct after = new Struct(ROW).put("id", id).put("amount", new BigDecimal("12.50")).put("note", "é \"quoted\"");
        return new Struct(ENVELOPE).put("after", after).put("op", "c").put("ts_ms", 1_700_000_000_000L);
    }

    private static byte[] converted(boolean schemas, boolean isKey, Schema schema, Object value) {
        try (JsonConverter converter = new JsonConverter()) {
            converter.configure(Map.of("schemas.enable", Boolean.toString(schemas), "decimal.format", "NUMERIC"), isKey);
            return converter.fromConnectData("shop.public.orders", schema, value);
        }
    }

    private static String withSchema(DebeziumRecordJson record) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        record.writeWithSchemaTo(out);
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void liveAndSpilledRecordsAreWhatJsonConverterWrites() throws IOException {
        DebeziumRecordJson live = DebeziumRecordJson.of(KEY, key(7), ENVELOPE, envelope(7));
        String value = new String(converted(true, false, ENVELOPE, envelope(7)), StandardCharsets.UTF_8);
        String keyJson = new String(converted(true, true, KEY, key(7)), StandardCharsets.UTF_8);
        assertThat(withSchema(live)).isEqualTo(value);
        assertThat(live.asString()).isEqualTo(new String(converted(false, false, ENVELOPE, envelope(7)), StandardCharsets.UTF_8));
        assertThat(new String(live.key(true).orElseThrow(), StandardCharsets.UTF_8)).isEqualTo(keyJson);
        assertThat(new String(live.key(false).orElseThrow(), StandardCharsets.UTF_8)).isEqualTo("{\"id\":7}");

        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        live.writeTo(payload);
        DebeziumRecordJson spilled = DebeziumRecordJson.spilled(live.keySchemaJson(), live.keyPayload(), live.valueSchemaJson(), payload.toByteArray());
        assertThat(withSchema(spilled)).isEqualTo(value);
        assertThat(new String(spilled.key(true).orElseThrow(), StandardCharsets.UTF_8)).isEqualTo(keyJson);
        // One rendering per schema: the arrays are shared.
        assertThat(DebeziumRecordJson.of(KEY, key(8), ENVELOPE, envelope(8)).valueSchemaJson()).isSameAs(live.valueSchemaJson());
    }

    @Test
    void aRecordWithoutKeyHasNone() {
        DebeziumRecordJson keyless = DebeziumRecordJson.of(null, null, ENVELOPE, envelope(1));
        assertThat(keyless.key(true)).isEmpty();
        assertThat(keyless.key(false)).isEmpty();
        assertThat(keyless.keyPayload()).isNull();
    }
}
