package io.tributary.source.kafka;

import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.Row;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * Records that are not readable Debezium change events become rows of their own table,
 * {@code tributary.dead_letters} (in the lake {@code bronze.tributary_dead_letters} and its silver
 * table), committed with the batch they arrived in: never skipped, and the offsets move past them
 * only with that commit. Keyed by topic, partition and offset, so a replay adds nothing.
 */
final class DeadLetters {
    /** The table the lake names {@code tributary_dead_letters}. */
    static final TableId TABLE = new TableId("tributary", "dead_letters");
    /** At most this many characters of a key or value are kept. */
    static final int MAX_TEXT = 65_536;
    static final TableSchema SCHEMA = new TableSchema(TABLE, List.of(
            Column.required("topic", ColumnType.Primitive.STRING, "string"),
            Column.required("kafka_partition", ColumnType.Primitive.INT32, "int32"),
            Column.required("kafka_offset", ColumnType.Primitive.INT64, "int64"),
            Column.nullable("kafka_timestamp", ColumnType.Primitive.TIMESTAMPTZ, "timestamp"),
            Column.nullable("record_key", ColumnType.Primitive.STRING, "bytes as UTF-8"),
            Column.nullable("record_value", ColumnType.Primitive.STRING, "bytes as UTF-8"),
            Column.required("reason", ColumnType.Primitive.STRING, "string")),
            List.of("topic", "kafka_partition", "kafka_offset"));

    private DeadLetters() {
    }

    /** The dead letter of {@code record} at {@code position}. */
    static ChangeEvent of(ConsumerRecord<byte[], byte[]> record, String reason, SourcePosition position, Instant receivedAt) {
        OffsetDateTime timestamp = record.timestamp() < 0 ? null
                : OffsetDateTime.ofInstant(Instant.ofEpochMilli(record.timestamp()), ZoneOffset.UTC).truncatedTo(ChronoUnit.MICROS);
        Row after = Row.of(record.topic(), record.partition(), record.offset(), timestamp, text(record.key()), text(record.value()), reason);
        return new ChangeEvent(ChangeOperation.CREATE, SCHEMA, null, after, position, 0, timestamp == null ? receivedAt : timestamp.toInstant(), null);
    }

    private static String text(byte[] bytes) {
        if (bytes == null) {
            return null;
        }
        String text = new String(bytes, StandardCharsets.UTF_8);
        return text.length() <= MAX_TEXT ? text : text.substring(0, MAX_TEXT);
    }
}
