package io.tributary.source.kafka;

import io.tributary.spi.SourcePosition;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Reads a Kafka record written in Debezium's JSON format with embedded schemas (Kafka Connect's
 * {@code JsonConverter}, {@code schemas.enable=true}: {@code {"schema": …, "payload": …}}) back
 * into the Connect record Debezium produced, so the same conversion as for a direct PostgreSQL
 * source applies (types from the Connect schema, {@code io.debezium.time.*} and decimal logical
 * types included). Not thread-safe: one per consuming thread.
 */
final class EnvelopeDecoder {
    /** The header Tributary's Kafka sink puts on each record: the event's lake position, {@link SourcePosition#encoded()}. */
    static final String POSITION_HEADER = "tributary.position";
    /**
     * The header Tributary's Kafka sink puts on a record whose before image holds only the key
     * columns (REPLICA IDENTITY DEFAULT or USING INDEX), value {@code key}: Debezium's envelope
     * fills its other NOT NULL columns with placeholders (0, '', 1970-01-01), which the lake drops as
     * a direct capture does.
     */
    static final String BEFORE_IMAGE_HEADER = "tributary.before-image";

    /** What a record holds. */
    sealed interface Decoded permits Change, Tombstone, Unreadable {
    }

    /**
     * A Debezium data change event; {@code hint}, when known, is its position in the source's order;
     * {@code keyOnlyBefore}: its before image holds only the key columns ({@link #BEFORE_IMAGE_HEADER}).
     */
    record Change(SourceRecord record, SourcePosition hint, boolean keyOnlyBefore) implements Decoded {
    }

    /** A record without a value, which Debezium writes after a delete so that compaction drops the key. */
    record Tombstone() implements Decoded {
    }

    /** A record that is not a readable Debezium change event, and why. */
    record Unreadable(String reason) implements Decoded {
    }

    private final JsonConverter keys = new JsonConverter();
    private final JsonConverter values = new JsonConverter();

    EnvelopeDecoder() {
        keys.configure(Map.of("schemas.enable", "true"), true);
        values.configure(Map.of("schemas.enable", "true"), false);
    }

    Decoded decode(ConsumerRecord<byte[], byte[]> record) {
        if (record.value() == null) {
            return new Tombstone();
        }
        SchemaAndValue value;
        SchemaAndValue key;
        try {
            value = values.toConnectData(record.topic(), record.value());
        } catch (RuntimeException e) {
            return new Unreadable("value is not Kafka Connect JSON with an embedded schema: " + e.getMessage());
        }
        try {
            key = record.key() == null ? SchemaAndValue.NULL : keys.toConnectData(record.topic(), record.key());
        } catch (RuntimeException e) {
            return new Unreadable("key is not Kafka Connect JSON with an embedded schema: " + e.getMessage());
        }
        if (!(value.value() instanceof Struct envelope)) {
            return new Unreadable("value is not a Debezium change event envelope (a struct with op, source, before and after)");
        }
        String problem = envelopeProblem(envelope);
        if (problem != null) {
            return new Unreadable(problem);
        }
        SourceRecord connect = new SourceRecord(Map.of(), Map.of(), record.topic(), record.partition(), key.schema(), key.value(), value.schema(), envelope,
                record.timestamp());
        Header beforeImage = record.headers().lastHeader(BEFORE_IMAGE_HEADER);
        boolean keyOnlyBefore = beforeImage != null && "key".equals(new String(beforeImage.value(), java.nio.charset.StandardCharsets.US_ASCII));
        return new Change(connect, hint(record, envelope), keyOnlyBefore);
    }

    private static String envelopeProblem(Struct envelope) {
        var schema = envelope.schema();
        Field op = schema.field("op");
        Field source = schema.field("source");
        if (op == null || source == null) {
            return "value is not a Debezium change event envelope: no " + (op == null ? "op" : "source") + " field";
        }
        String code = envelope.getString("op");
        if (code == null || !(code.equals("c") || code.equals("u") || code.equals("d") || code.equals("r") || code.equals("t"))) {
            return "op '" + code + "' is not a row change (c, u, d, r or t)";
        }
        if (!code.equals("t") && (schema.field("before") == null || schema.field("after") == null)) {
            return "value is not a Debezium change event envelope: no before or after field";
        }
        Struct src = envelope.getStruct("source");
        if (src == null || src.schema().field("schema") == null || src.schema().field("table") == null || src.getString("table") == null) {
            return "the envelope's source names no schema and table";
        }
        return null;
    }

    /**
     * The event's position in the source's order: the header Tributary's sink writes, else from a
     * Debezium PostgreSQL envelope the LSN of the last commit before the event
     * ({@code source.sequence[0]}, else {@code source.lsn}) with the event's order in its
     * transaction ({@code transaction.total_order}); null when neither is there.
     */
    private static SourcePosition hint(ConsumerRecord<byte[], byte[]> record, Struct envelope) {
        Header header = record.headers().lastHeader(POSITION_HEADER);
        if (header != null && header.value() != null) {
            try {
                return SourcePosition.decode(new String(header.value(), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        Struct source = envelope.getStruct("source");
        Long commit = null;
        if (source.schema().field("sequence") != null && source.getString("sequence") != null) {
            commit = firstOfSequence(source.getString("sequence"));
        }
        if (commit == null && source.schema().field("lsn") != null) {
            commit = source.getInt64("lsn");
        }
        if (commit == null || commit < 0) {
            return null;
        }
        long index = 0;
        Field transaction = envelope.schema().field("transaction");
        if (transaction != null && envelope.getStruct("transaction") != null) {
            Struct tx = envelope.getStruct("transaction");
            if (tx.schema().field("total_order") != null && tx.getInt64("total_order") != null) {
                index = Math.max(0, tx.getInt64("total_order"));
            }
        }
        return SourcePosition.ofSequence(commit, index);
    }

    /** The first element of Debezium's {@code ["<last commit LSN>","<LSN>"]}, or null. */
    private static Long firstOfSequence(String sequence) {
        int open = sequence.indexOf('"');
        if (open < 0) {
            return null;
        }
        int close = sequence.indexOf('"', open + 1);
        if (close < 0) {
            return null;
        }
        try {
            return Long.parseLong(sequence.substring(open + 1, close));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** The envelope's {@code source.txId}, 0 without one. */
    static long transactionId(Struct source) {
        if (source.schema().field("txId") != null && source.get("txId") instanceof Number n) {
            return n.longValue();
        }
        return 0;
    }

    /** The source commit time: {@code source.ts_us}, else {@code source.ts_ms}, else the record's timestamp. */
    static java.time.Instant commitTime(Struct source, ConsumerRecord<byte[], byte[]> record) {
        if (source.schema().field("ts_us") != null && source.get("ts_us") instanceof Number micros) {
            long us = micros.longValue();
            return java.time.Instant.ofEpochSecond(Math.floorDiv(us, 1_000_000L), Math.floorMod(us, 1_000_000L) * 1_000L);
        }
        if (source.schema().field("ts_ms") != null && source.get("ts_ms") instanceof Number millis) {
            return java.time.Instant.ofEpochMilli(millis.longValue());
        }
        return java.time.Instant.ofEpochMilli(Math.max(0, record.timestamp()));
    }
}
