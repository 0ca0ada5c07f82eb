package io.tributary.source.postgres.convert;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Map;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;

/**
 * Writes Kafka Connect data as JSON straight to a stream, byte for byte what Kafka's
 * {@code JsonConverter} produces with {@code schemas.enable=false} and {@code decimal.format=NUMERIC}
 * (the form a Debezium event takes on a Kafka topic), without building a JSON tree first. Follows
 * {@code JsonConverter}'s rules: a null with a schema default writes the default, bytes are base64,
 * maps with string keys are objects and other maps arrays of [key, value] pairs. Thread-safe.
 */
public final class ConnectJson {
    // Closing a generator neither closes nor flushes the target: the caller's buffered (gzip) stream
    // decides when bytes move on, instead of one deflate call per event.
    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(com.fasterxml.jackson.core.StreamWriteFeature.AUTO_CLOSE_TARGET)
            .disable(com.fasterxml.jackson.core.StreamWriteFeature.FLUSH_PASSED_TO_STREAM)
            .build();

    private ConnectJson() {
    }

    /**
     * Writes {@code value} (of {@code schema}) to {@code out}, leaving {@code out} open and unflushed.
     *
     * @throws DataException when a value does not match its schema, as {@code JsonConverter} would
     */
    public static void write(Schema schema, Object value, OutputStream out) throws IOException {
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            write(g, schema, value);
        }
    }

    private static void write(JsonGenerator g, Schema schema, Object logical) throws IOException {
        if (logical == null) {
            if (schema != null && schema.defaultValue() != null) {
                write(g, schema, schema.defaultValue());
                return;
            }
            if (schema != null && !schema.isOptional()) {
                throw new DataException("Conversion error: null value for field that is required and has no default value");
            }
            g.writeNull();
            return;
        }
        Object value = logical;
        String name = schema == null ? null : schema.name();
        if (name != null) {
            switch (name) {
                case Decimal.LOGICAL_NAME -> {
                    g.writeNumber((BigDecimal) logical);
                    return;
                }
                case Date.LOGICAL_NAME -> value = Date.fromLogical(schema, (java.util.Date) logical);
                case Time.LOGICAL_NAME -> value = Time.fromLogical(schema, (java.util.Date) logical);
                case Timestamp.LOGICAL_NAME -> value = Timestamp.fromLogical(schema, (java.util.Date) logical);
                default -> { }
            }
        }
        Schema.Type type = schema != null ? schema.type() : org.apache.kafka.connect.data.ConnectSchema.schemaType(value.getClass());
        if (type == null) {
            throw new DataException("Java class " + value.getClass() + " does not have corresponding schema type.");
        }
        switch (type) {
            case INT8 -> g.writeNumber((Byte) value);
            case INT16 -> g.writeNumber((Short) value);
            case INT32 -> g.writeNumber((Integer) value);
            case INT64 -> g.writeNumber((Long) value);
            case FLOAT32 -> g.writeNumber((Float) value);
            case FLOAT64 -> g.writeNumber((Double) value);
            case BOOLEAN -> g.writeBoolean((Boolean) value);
            case STRING -> g.writeString(value.toString());
            case BYTES -> {
                if (value instanceof byte[] bytes) {
                    g.writeBinary(bytes);
                } else if (value instanceof ByteBuffer buffer) {
                    g.writeBinary(buffer.array());
                } else {
                    throw new DataException("Invalid type for bytes type: " + value.getClass());
                }
            }
            case ARRAY -> {
                g.writeStartArray();
                for (Object element : (Collection<?>) value) {
                    write(g, schema == null ? null : schema.valueSchema(), element);
                }
                g.writeEndArray();
            }
            case MAP -> writeMap(g, schema, (Map<?, ?>) value);
            case STRUCT -> {
                Struct struct = (Struct) value;
                g.writeStartObject();
                for (Field field : schema.fields()) {
                    g.writeFieldName(field.name());
                    write(g, field.schema(), struct.get(field));
                }
                g.writeEndObject();
            }
        }
    }

    private static void writeMap(JsonGenerator g, Schema schema, Map<?, ?> map) throws IOException {
        boolean objectMode = schema == null ? map.keySet().stream().allMatch(k -> k instanceof String) : schema.keySchema().type() == Schema.Type.STRING;
        Schema keySchema = schema == null ? null : schema.keySchema();
        Schema valueSchema = schema == null ? null : schema.valueSchema();
        if (objectMode) {
            g.writeStartObject();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                g.writeFieldName(String.valueOf(entry.getKey()));
                write(g, valueSchema, entry.getValue());
            }
            g.writeEndObject();
        } else {
            g.writeStartArray();
            for (Map.Entry<?, ?> entry : map.entrySet()) {
                g.writeStartArray();
                write(g, keySchema, entry.getKey());
                write(g, valueSchema, entry.getValue());
                g.writeEndArray();
            }
            g.writeEndArray();
        }
    }
}
