package io.tributary.source.postgres.convert;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.spi.RawRecord;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.json.JsonConverterConfig;

/**
 * A Debezium change event as it stands on a Kafka topic: the value (the envelope) and the key
 * struct as JSON, without their schemas ({@link ConnectJson}: Kafka Connect's {@code JsonConverter}
 * with {@code schemas.enable=false}, {@code decimal.format=NUMERIC}) or with them (what the same
 * converter writes with {@code schemas.enable=true}: {@code {"schema":…,"payload":…}}, each
 * distinct schema rendered once). Either live, over the record's structs, or spilled, over bytes an
 * open transaction wrote to disk ({@link #spilled}). Thread-safe: rendered on the commit or sink thread.
 */
public final class DebeziumRecordJson implements RawRecord {
    private static final byte[] SCHEMA_PREFIX = "{\"schema\":".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PAYLOAD_PREFIX = ",\"payload\":".getBytes(StandardCharsets.UTF_8);
    /** Kafka's converter renders schemas as JSON; its own cache is synchronized. */
    private static final JsonConverter SCHEMAS = new JsonConverter();
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Each Connect schema's JSON, by identity: Debezium keeps one schema instance per table version. */
    private static final Map<Schema, byte[]> SCHEMA_JSON = new IdentityHashMap<>();

    static {
        SCHEMAS.configure(Map.of(JsonConverterConfig.SCHEMAS_ENABLE_CONFIG, "true", JsonConverterConfig.DECIMAL_FORMAT_CONFIG, "NUMERIC"), false);
    }

    private final Schema keySchema;
    private final Object key;
    private final Schema valueSchema;
    private final Struct value;
    private final byte[] keySchemaJson;
    private final byte[] keyPayload;
    private final byte[] valueSchemaJson;
    private final byte[] valuePayload;

    private DebeziumRecordJson(Schema keySchema, Object key, Schema valueSchema, Struct value, byte[] keySchemaJson, byte[] keyPayload,
                               byte[] valueSchemaJson, byte[] valuePayload) {
        this.keySchema = keySchema;
        this.key = key;
        this.valueSchema = valueSchema;
        this.value = value;
        this.keySchemaJson = keySchemaJson;
        this.keyPayload = keyPayload;
        this.valueSchemaJson = valueSchemaJson;
        this.valuePayload = valuePayload;
    }

    /** Over a record's key and value; {@code key} null for a record without one. */
    public static DebeziumRecordJson of(Schema keySchema, Object key, Schema valueSchema, Struct value) {
        return new DebeziumRecordJson(keySchema, key, valueSchema, value, null, null, null, null);
    }

    /**
     * Over bytes written by an earlier instance's {@link #keyPayload()}, {@link #keySchemaJson()},
     * {@link #valueSchemaJson()} and {@link #writeTo}; the key's null when the record had none.
     */
    public static DebeziumRecordJson spilled(byte[] keySchemaJson, byte[] keyPayload, byte[] valueSchemaJson, byte[] valuePayload) {
        return new DebeziumRecordJson(null, null, null, null, keySchemaJson, keyPayload, valueSchemaJson, valuePayload);
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        if (valuePayload != null) {
            out.write(valuePayload);
        } else {
            ConnectJson.write(valueSchema, value, out);
        }
    }

    @Override
    public void writeWithSchemaTo(OutputStream out) throws IOException {
        out.write(SCHEMA_PREFIX);
        out.write(valueSchemaJson());
        out.write(PAYLOAD_PREFIX);
        writeTo(out);
        out.write('}');
    }

    @Override
    public Optional<byte[]> key(boolean withSchema) {
        byte[] payload = keyPayload();
        if (payload == null) {
            return Optional.empty();
        }
        if (!withSchema) {
            return Optional.of(payload);
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 256);
        out.writeBytes(SCHEMA_PREFIX);
        out.writeBytes(keySchemaJson());
        out.writeBytes(PAYLOAD_PREFIX);
        out.writeBytes(payload);
        out.write('}');
        return Optional.of(out.toByteArray());
    }

    /** The key without its schema, or null for a record without a key. */
    public byte[] keyPayload() {
        if (keyPayload != null || key == null) {
            return keyPayload;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(64);
        try {
            ConnectJson.write(keySchema, key, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** The key's schema as JSON (one array per schema, shared), or null for a record without a key. */
    public byte[] keySchemaJson() {
        return keySchemaJson != null || key == null ? keySchemaJson : schemaJson(keySchema);
    }

    /** The value's schema as JSON (one array per schema, shared). */
    public byte[] valueSchemaJson() {
        return valueSchemaJson != null ? valueSchemaJson : schemaJson(valueSchema);
    }

    private static byte[] schemaJson(Schema schema) {
        synchronized (SCHEMA_JSON) {
            byte[] json = SCHEMA_JSON.get(schema);
            if (json == null) {
                try {
                    json = JSON.writeValueAsBytes(SCHEMAS.asJsonSchema(schema));
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new UncheckedIOException(e);
                }
                if (SCHEMA_JSON.size() >= 4096) {
                    SCHEMA_JSON.clear();
                }
                SCHEMA_JSON.put(schema, json);
            }
            return json;
        }
    }
}
