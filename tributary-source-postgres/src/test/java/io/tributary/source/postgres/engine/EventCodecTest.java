package io.tributary.source.postgres.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.source.postgres.convert.DebeziumRecordJson;
import io.tributary.source.postgres.convert.DebeziumRecordJsonTest;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.ColumnType.Primitive;
import io.tributary.spi.Row;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EventCodecTest {
    private static final TableSchema ALL_TYPES = new TableSchema(new TableId("public", "all_types"), List.of(
            Column.required("id", Primitive.INT64, "bigint"),
            Column.nullable("flag", Primitive.BOOLEAN, "boolean"),
            Column.nullable("small", Primitive.INT16, "smallint"),
            Column.nullable("int", Primitive.INT32, "integer"),
            Column.nullable("real", Primitive.FLOAT32, "real"),
            Column.nullable("double", Primitive.FLOAT64, "double precision"),
            Column.nullable("price", new ColumnType.Decimal(12, 2), "numeric"),
            Column.nullable("name", Primitive.STRING, "text"),
            Column.nullable("doc", Primitive.JSON, "jsonb"),
            Column.nullable("bytes", Primitive.BINARY, "bytea"),
            Column.nullable("day", Primitive.DATE, "date"),
            Column.nullable("clock", Primitive.TIME, "time"),
            Column.nullable("local", Primitive.TIMESTAMP, "timestamp"),
            Column.nullable("instant", Primitive.TIMESTAMPTZ, "timestamptz"),
            Column.nullable("uuid", Primitive.UUID, "uuid"),
            Column.nullable("tags", new ColumnType.ListOf(Primitive.STRING), "text[]")), List.of("id"));

    @Test
    void roundTripsEveryTypeExactly() throws Exception {
        Row full = Row.of(Long.MIN_VALUE, true, -32768, Integer.MAX_VALUE, Float.NaN, Double.NEGATIVE_INFINITY, new BigDecimal("-1234567890.05"),
                "4-byte UTF-8 \uD83D\uDE00 and ünïcödé", "{\"a\": [1, 2]}", new byte[] {0, -1, 127}, LocalDate.of(-4712, 1, 1),
                LocalTime.of(23, 59, 59, 999_999_000), LocalDateTime.of(1969, 12, 31, 23, 59, 59, 123_456_000),
                OffsetDateTime.of(2026, 3, 29, 1, 30, 0, 1_000, ZoneOffset.UTC), UUID.randomUUID(), Arrays.asList("a", null, ""));
        Object[] nulls = new Object[ALL_TYPES.columns().size()];
        nulls[0] = 7L;
        Row empty = Row.of(nulls);
        List<ChangeEvent> events = List.of(
                new ChangeEvent(ChangeOperation.CREATE, ALL_TYPES, null, full, SourcePosition.ofSequence(5, 9), 42, Instant.ofEpochSecond(1, 999), out -> out.write("{\"raw\":1}".getBytes(StandardCharsets.UTF_8))),
                new ChangeEvent(ChangeOperation.UPDATE, ALL_TYPES, empty, full, SourcePosition.ofSequence(5, 10), 42, Instant.ofEpochSecond(2), null),
                new ChangeEvent(ChangeOperation.DELETE, ALL_TYPES, empty, null, SourcePosition.ofSequence(5, 11), 42, Instant.ofEpochSecond(3), null),
                // A Debezium record keeps its key and schemas through the spill (a sink writes them).
                new ChangeEvent(ChangeOperation.CREATE, ALL_TYPES, null, full, SourcePosition.ofSequence(5, 12), 42, Instant.ofEpochSecond(4),
                        DebeziumRecordJson.of(DebeziumRecordJsonTest.KEY, DebeziumRecordJsonTest.key(3), DebeziumRecordJsonTest.ENVELOPE,
                                DebeziumRecordJsonTest.envelope(3))),
                new ChangeEvent(ChangeOperation.CREATE, ALL_TYPES, null, full, SourcePosition.ofSequence(5, 13), 42, Instant.ofEpochSecond(4),
                        DebeziumRecordJson.of(null, null, DebeziumRecordJsonTest.ENVELOPE, DebeziumRecordJsonTest.envelope(4))));

        EventCodec codec = new EventCodec();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            for (ChangeEvent e : events) {
                codec.write(e, out);
            }
        }
        List<ChangeEvent> read = new ArrayList<>();
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            for (int i = 0; i < events.size(); i++) {
                read.add(codec.read(in, SourcePosition.ofSequence(77, i)));
            }
            assertThat(in.read()).as("nothing after the last event").isEqualTo(-1);
        }
        for (int i = 0; i < events.size(); i++) {
            ChangeEvent expected = events.get(i);
            ChangeEvent actual = read.get(i);
            assertThat(actual.schema()).isSameAs(ALL_TYPES);
            assertThat(actual.operation()).isEqualTo(expected.operation());
            assertThat(actual.before()).isEqualTo(expected.before());
            assertThat(actual.after()).isEqualTo(expected.after());
            assertThat(actual.transactionId()).isEqualTo(42);
            assertThat(actual.commitTimestamp()).isEqualTo(expected.commitTimestamp());
            assertThat(actual.position()).isEqualTo(SourcePosition.ofSequence(77, i));
            assertThat(actual.raw()).isEqualTo(expected.raw());
            if (expected.rawRecord() != null) {
                assertThat(actual.rawRecord().key(true)).map(String::new).isEqualTo(expected.rawRecord().key(true).map(String::new));
                assertThat(actual.rawRecord().key(false)).map(String::new).isEqualTo(expected.rawRecord().key(false).map(String::new));
            }
            if (expected.rawRecord() instanceof DebeziumRecordJson record) {
                ByteArrayOutputStream a = new ByteArrayOutputStream();
                ByteArrayOutputStream b = new ByteArrayOutputStream();
                record.writeWithSchemaTo(a);
                actual.rawRecord().writeWithSchemaTo(b);
                assertThat(b.toString(StandardCharsets.UTF_8)).isEqualTo(a.toString(StandardCharsets.UTF_8)).startsWith("{\"schema\":");
            }
        }
        // Row equality is deep: a NaN float and the byte array compare by content.
        assertThat(read.get(0).after().get(9)).isEqualTo(new byte[] {0, -1, 127});
    }
}
