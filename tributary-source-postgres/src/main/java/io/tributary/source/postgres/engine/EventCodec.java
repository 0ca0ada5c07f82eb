package io.tributary.source.postgres.engine;

import io.tributary.source.postgres.convert.DebeziumRecordJson;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.ColumnType;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.RawRecord;
import io.tributary.spi.Row;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A compact binary form of {@link ChangeEvent}s for spilling an open transaction to disk. Values are
 * written by their {@link ColumnType} (the Java classes that type documents), so every value reads
 * back equal; table schemas are written once per file as an index into a list kept in memory. The
 * raw layer's JSON is rendered to bytes when the event is written, as the Debezium record it came
 * from is not kept, with the record's key and the index of each schema's JSON (kept in memory once). Positions are not written: the reader assigns them. Not thread-safe.
 */
final class EventCodec {
    private static final int NULL = 0;
    private static final int PRESENT = 1;
    /** In place of a key's length: a raw record that is no Debezium record (no key, no schemas). */
    private static final int PLAIN_RAW = -2;

    private final Map<TableSchema, Integer> schemaIndex = new IdentityHashMap<>();
    private final List<TableSchema> schemas = new ArrayList<>();
    private ByteArrayOutputStream rawBuffer = new ByteArrayOutputStream(1024);
    private final Map<byte[], Integer> schemaJsonIndex = new IdentityHashMap<>();
    private final List<byte[]> schemaJsons = new ArrayList<>();

    void write(ChangeEvent event, DataOutputStream out) throws IOException {
        Integer index = schemaIndex.get(event.schema());
        if (index == null) {
            index = schemas.size();
            schemas.add(event.schema());
            schemaIndex.put(event.schema(), index);
        }
        out.writeInt(index);
        out.writeByte(event.operation().ordinal());
        out.writeLong(event.transactionId());
        out.writeLong(event.commitTimestamp().getEpochSecond());
        out.writeInt(event.commitTimestamp().getNano());
        writeRow(event.schema(), event.before(), out);
        writeRow(event.schema(), event.after(), out);
        if (event.rawRecord() == null) {
            out.writeInt(-1);
        } else {
            rawBuffer.reset();
            event.rawRecord().writeTo(rawBuffer);
            out.writeInt(rawBuffer.size());
            rawBuffer.writeTo(out);
            if (rawBuffer.size() > 1 << 20) {
                // One huge value must not keep a buffer of its size for the rest of the transaction.
                rawBuffer = new ByteArrayOutputStream(1024);
            }
            // The key and the schemas, for a sink that writes the record as it stands on a topic.
            if (!(event.rawRecord() instanceof DebeziumRecordJson record)) {
                out.writeInt(PLAIN_RAW);
                return;
            }
            byte[] key = record.keyPayload();
            out.writeInt(key == null ? -1 : key.length);
            if (key != null) {
                out.write(key);
                out.writeInt(schemaJsonIndex(record.keySchemaJson()));
            }
            out.writeInt(schemaJsonIndex(record.valueSchemaJson()));
        }
    }

    /** The index of a schema's JSON in the list kept in memory, added at first sight (schemas are shared arrays). */
    private int schemaJsonIndex(byte[] json) {
        Integer index = schemaJsonIndex.get(json);
        if (index == null) {
            index = schemaJsons.size();
            schemaJsons.add(json);
            schemaJsonIndex.put(json, index);
        }
        return index;
    }

    ChangeEvent read(DataInputStream in, SourcePosition position) throws IOException {
        TableSchema schema = schemas.get(in.readInt());
        ChangeOperation operation = ChangeOperation.values()[in.readByte()];
        long transactionId = in.readLong();
        Instant commitTimestamp = Instant.ofEpochSecond(in.readLong(), in.readInt());
        Row before = readRow(schema, in);
        Row after = readRow(schema, in);
        int rawLength = in.readInt();
        RawRecord raw = null;
        if (rawLength >= 0) {
            byte[] bytes = in.readNBytes(rawLength);
            int keyLength = in.readInt();
            if (keyLength == PLAIN_RAW) {
                return new ChangeEvent(operation, schema, before, after, position, transactionId, commitTimestamp, out -> out.write(bytes));
            }
            byte[] key = keyLength < 0 ? null : in.readNBytes(keyLength);
            byte[] keySchema = key == null ? null : schemaJsons.get(in.readInt());
            raw = DebeziumRecordJson.spilled(keySchema, key, schemaJsons.get(in.readInt()), bytes);
        }
        return new ChangeEvent(operation, schema, before, after, position, transactionId, commitTimestamp, raw);
    }

    private static void writeRow(TableSchema schema, Row row, DataOutputStream out) throws IOException {
        if (row == null) {
            out.writeByte(NULL);
            return;
        }
        out.writeByte(PRESENT);
        for (int i = 0; i < row.size(); i++) {
            try {
                writeValue(schema.columns().get(i).type(), row.get(i), out);
            } catch (ClassCastException e) {
                throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot spill column " + schema.columns().get(i).name() + " of " + schema.table()
                        + ": its value is not of the Java class type " + schema.columns().get(i).type() + " documents", e);
            }
        }
    }

    private static Row readRow(TableSchema schema, DataInputStream in) throws IOException {
        if (in.readByte() == NULL) {
            return null;
        }
        Object[] values = new Object[schema.columns().size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = readValue(schema.columns().get(i).type(), in);
        }
        return Row.of(values);
    }

    private static void writeValue(ColumnType type, Object value, DataOutputStream out) throws IOException {
        if (value == null) {
            out.writeByte(NULL);
            return;
        }
        out.writeByte(PRESENT);
        if (type instanceof ColumnType.Decimal) {
            BigDecimal d = (BigDecimal) value;
            out.writeInt(d.scale());
            writeBytes(d.unscaledValue().toByteArray(), out);
            return;
        }
        if (type instanceof ColumnType.ListOf list) {
            List<?> elements = (List<?>) value;
            out.writeInt(elements.size());
            for (Object element : elements) {
                writeValue(list.element(), element, out);
            }
            return;
        }
        switch ((ColumnType.Primitive) type) {
            case BOOLEAN -> out.writeBoolean((Boolean) value);
            case INT16, INT32 -> out.writeInt((Integer) value);
            case INT64 -> out.writeLong((Long) value);
            case FLOAT32 -> out.writeInt(Float.floatToRawIntBits((Float) value));
            case FLOAT64 -> out.writeLong(Double.doubleToRawLongBits((Double) value));
            case STRING, JSON -> writeBytes(((String) value).getBytes(StandardCharsets.UTF_8), out);
            case BINARY -> writeBytes((byte[]) value, out);
            case DATE -> out.writeLong(((LocalDate) value).toEpochDay());
            case TIME -> out.writeLong(((LocalTime) value).toNanoOfDay());
            case TIMESTAMP -> {
                LocalDateTime t = (LocalDateTime) value;
                out.writeLong(t.toEpochSecond(ZoneOffset.UTC));
                out.writeInt(t.getNano());
            }
            case TIMESTAMPTZ -> {
                OffsetDateTime t = (OffsetDateTime) value;
                out.writeLong(t.toEpochSecond());
                out.writeInt(t.getNano());
            }
            case UUID -> {
                UUID u = (UUID) value;
                out.writeLong(u.getMostSignificantBits());
                out.writeLong(u.getLeastSignificantBits());
            }
        }
    }

    private static Object readValue(ColumnType type, DataInputStream in) throws IOException {
        if (in.readByte() == NULL) {
            return null;
        }
        if (type instanceof ColumnType.Decimal) {
            int scale = in.readInt();
            return new BigDecimal(new BigInteger(readBytes(in)), scale);
        }
        if (type instanceof ColumnType.ListOf list) {
            int size = in.readInt();
            List<Object> elements = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                elements.add(readValue(list.element(), in));
            }
            return elements;
        }
        return switch ((ColumnType.Primitive) type) {
            case BOOLEAN -> in.readBoolean();
            case INT16, INT32 -> in.readInt();
            case INT64 -> in.readLong();
            case FLOAT32 -> Float.intBitsToFloat(in.readInt());
            case FLOAT64 -> Double.longBitsToDouble(in.readLong());
            case STRING, JSON -> new String(readBytes(in), StandardCharsets.UTF_8);
            case BINARY -> readBytes(in);
            case DATE -> LocalDate.ofEpochDay(in.readLong());
            case TIME -> LocalTime.ofNanoOfDay(in.readLong());
            case TIMESTAMP -> LocalDateTime.ofEpochSecond(in.readLong(), in.readInt(), ZoneOffset.UTC);
            case TIMESTAMPTZ -> OffsetDateTime.ofInstant(Instant.ofEpochSecond(in.readLong(), in.readInt()), ZoneOffset.UTC);
            case UUID -> new UUID(in.readLong(), in.readLong());
        };
    }

    private static void writeBytes(byte[] bytes, DataOutputStream out) throws IOException {
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static byte[] readBytes(DataInputStream in) throws IOException {
        int length = in.readInt();
        byte[] bytes = in.readNBytes(length);
        if (bytes.length != length) {
            throw new java.io.EOFException("Spill file ended inside a value of " + length + " bytes");
        }
        return bytes;
    }
}
