package io.tributary.source.postgres.convert;

import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Turns Debezium data change records into {@link ChangeEvent}s. Keeps one {@link TableSchema} per
 * distinct Connect value schema, so a schema change yields a new {@code TableSchema}.
 * Not thread-safe: used by the capture thread only.
 */
public final class ChangeEventConverter {
    private final Map<Schema, TableSchema> schemas = new HashMap<>();
    // Debezium reuses one Schema instance per table version; hashing a Connect schema is deep, so the
    // per-event look-up goes by identity first.
    private final Map<Schema, TableSchema> byIdentity = new java.util.IdentityHashMap<>();
    private final boolean keepRaw;
    private final Set<TableId> keyOnlyIdentity;

    public ChangeEventConverter(boolean keepRaw) {
        this(keepRaw, Set.of());
    }

    /**
     * @param keyOnlyIdentity tables whose old row images carry only their identity columns
     *                        (REPLICA IDENTITY DEFAULT or USING INDEX): pgoutput sends the other
     *                        columns as null, and Debezium fills a NOT NULL column with a
     *                        placeholder (0, '', 1970-01-01), which must not reach the lake
     */
    public ChangeEventConverter(boolean keepRaw, Set<TableId> keyOnlyIdentity) {
        this.keepRaw = keepRaw;
        this.keyOnlyIdentity = Set.copyOf(keyOnlyIdentity);
    }

    /** The table a data change record belongs to, from its {@code source} block. */
    public static TableId tableOf(Struct value) {
        Struct source = value.getStruct("source");
        return new TableId(source.getString("schema"), source.getString("table"));
    }

    /**
     * @throws TributaryException CONVERSION_FAILED naming the table, position and column (never the value)
     */
    public ChangeEvent convert(SourceRecord record, SourcePosition position, long transactionId, Instant commitTimestamp) {
        TableId table = tableOf((Struct) record.value());
        return convert(record, table, position, transactionId, commitTimestamp, keyOnlyIdentity.contains(table));
    }

    /**
     * As {@link #convert(SourceRecord, SourcePosition, long, Instant)}, told whether the record's
     * before image holds only the key columns (its other columns are then set to null), as a Kafka
     * source learns from the record's headers.
     *
     * @throws TributaryException CONVERSION_FAILED naming the table, position and column (never the value)
     */
    public ChangeEvent convert(SourceRecord record, SourcePosition position, long transactionId, Instant commitTimestamp, boolean keyOnlyBefore) {
        return convert(record, tableOf((Struct) record.value()), position, transactionId, commitTimestamp, keyOnlyBefore);
    }

    private ChangeEvent convert(SourceRecord record, TableId table, SourcePosition position, long transactionId, Instant commitTimestamp,
                                boolean keyOnlyBefore) {
        Struct value = (Struct) record.value();
        ChangeOperation op = ChangeOperation.fromCode(value.getString("op"));
        Schema rowSchema = value.schema().field("after") != null ? value.schema().field("after").schema() : null;
        TableSchema schema;
        if (op == ChangeOperation.TRUNCATE) {
            schema = schemas.values().stream().filter(s -> s.table().equals(table)).findFirst()
                    .orElse(new TableSchema(table, List.of(Column.nullable("_truncated", io.tributary.spi.ColumnType.Primitive.BOOLEAN, "boolean")), List.of()));
        } else {
            schema = byIdentity.get(rowSchema);
            if (schema == null) {
                try {
                    schema = schemas.computeIfAbsent(rowSchema, s -> tableSchema(table, s, record.keySchema()));
                } catch (TributaryException e) {
                    // A column of a type Tributary cannot map, e.g. added while streaming: stop at this
                    // event, never skip it (the position is not acknowledged, so a restart stops here too).
                    throw new TributaryException(ErrorCode.CONVERSION_FAILED,
                            "Cannot convert the change event of " + table + " at position " + position + ": " + e.getMessage(), e);
                }
                if (byIdentity.size() >= 1024) {
                    byIdentity.clear();
                }
                byIdentity.put(rowSchema, schema);
            }
        }
        Row before = op == ChangeOperation.TRUNCATE ? null : row(schema, rowSchema, value.getStruct("before"), position);
        if (before != null && keyOnlyBefore) {
            before = identityOnly(schema, before);
        }
        Row after = op == ChangeOperation.TRUNCATE ? null : row(schema, rowSchema, value.getStruct("after"), position);
        // Only the key and value are captured: the record's offset maps need not live until the commit.
        io.tributary.spi.RawRecord raw = keepRaw ? DebeziumRecordJson.of(record.keySchema(), record.key(), record.valueSchema(), value) : null;
        return new ChangeEvent(op, schema, before, after, position, transactionId, commitTimestamp, raw);
    }

    /** Registers the schema of a record (truncate events need a table schema seen before). */
    private static TableSchema tableSchema(TableId table, Schema rowSchema, Schema keySchema) {
        List<Column> columns = new ArrayList<>();
        for (Field field : rowSchema.fields()) {
            columns.add(ConnectTypeMapping.column(table, field));
        }
        List<String> key = new ArrayList<>();
        if (keySchema != null) {
            for (Field field : keySchema.fields()) {
                key.add(field.name());
            }
        }
        return new TableSchema(table, columns, key);
    }

    /** The old row image with every column outside the table's identity (its key) set to null. */
    private static Row identityOnly(TableSchema schema, Row before) {
        List<Column> columns = schema.columns();
        Object[] values = new Object[columns.size()];
        for (int i = 0; i < values.length; i++) {
            if (schema.keyColumns().contains(columns.get(i).name())) {
                values[i] = before.get(i);
            }
        }
        return Row.of(values);
    }

    private static Row row(TableSchema schema, Schema rowSchema, Struct struct, SourcePosition position) {
        if (struct == null) {
            return null;
        }
        List<Column> columns = schema.columns();
        Object[] values = new Object[columns.size()];
        for (int i = 0; i < values.length; i++) {
            Column column = columns.get(i);
            Field field = rowSchema.field(column.name());
            try {
                values[i] = ConnectTypeMapping.value(column.type(), field.schema(), struct.get(field));
            } catch (RuntimeException e) {
                throw new TributaryException(ErrorCode.CONVERSION_FAILED,
                        "Cannot convert column " + column.name() + " (" + column.sourceType() + ") of " + schema.table() + " at position " + position
                                + ": " + e.getClass().getSimpleName(), e);
            }
        }
        return Row.of(values);
    }
}
