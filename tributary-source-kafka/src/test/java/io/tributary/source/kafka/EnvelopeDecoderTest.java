package io.tributary.source.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.source.postgres.convert.ChangeEventConverter;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.Test;

/** Debezium's JSON records back into change events, their position hints, and what is not a change event. */
class EnvelopeDecoderTest {
    private static final String ROW = """
            {"type":"struct","optional":true,"name":"shop.public.orders.Value","fields":[
              {"type":"int64","optional":false,"field":"id"},
              {"type":"bytes","optional":true,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2","connect.decimal.precision":"10"},"field":"amount"},
              {"type":"string","optional":true,"field":"note"}]}""";
    private static final String SCHEMA = """
            {"type":"struct","optional":false,"name":"shop.public.orders.Envelope","fields":[
              %s,
              %s,
              {"type":"struct","optional":false,"name":"io.debezium.connector.postgresql.Source","field":"source","fields":[
                {"type":"string","optional":false,"field":"connector"},{"type":"int64","optional":false,"field":"ts_ms"},
                {"type":"string","optional":true,"field":"snapshot"},{"type":"string","optional":true,"field":"sequence"},
                {"type":"int64","optional":true,"field":"ts_us"},{"type":"string","optional":false,"field":"schema"},
                {"type":"string","optional":false,"field":"table"},{"type":"int64","optional":true,"field":"txId"},
                {"type":"int64","optional":true,"field":"lsn"}]},
              {"type":"struct","optional":true,"name":"event.block","field":"transaction","fields":[
                {"type":"string","optional":false,"field":"id"},{"type":"int64","optional":false,"field":"total_order"},
                {"type":"int64","optional":false,"field":"data_collection_order"}]},
              {"type":"string","optional":false,"field":"op"},{"type":"int64","optional":true,"field":"ts_ms"}]}"""
            .formatted(ROW.replace("\"optional\":true,\"name\":\"shop", "\"optional\":true,\"field\":\"before\",\"name\":\"shop"),
                    ROW.replace("\"optional\":true,\"name\":\"shop", "\"optional\":true,\"field\":\"after\",\"name\":\"shop"));
    private static final String KEY = """
            {"schema":{"type":"struct","optional":false,"name":"shop.public.orders.Key","fields":[{"type":"int64","optional":false,"field":"id"}]},"payload":{"id":7}}""";

    private static String update(String sequence, long lsn, Long totalOrder) {
        String transaction = totalOrder == null ? "null" : "{\"id\":\"771:" + lsn + "\",\"total_order\":" + totalOrder + ",\"data_collection_order\":1}";
        // 12.50 as Connect's Decimal: the unscaled value 1250 in big-endian bytes, base64.
        return "{\"schema\":" + SCHEMA + ",\"payload\":{\"before\":null,\"after\":{\"id\":7,\"amount\":\"BOI=\",\"note\":\"late\"},"
                + "\"source\":{\"connector\":\"postgresql\",\"ts_ms\":1765000000000,\"snapshot\":\"false\",\"sequence\":" + sequence + ","
                + "\"ts_us\":1765000000123456,\"schema\":\"public\",\"table\":\"orders\",\"txId\":771,\"lsn\":" + lsn + "},"
                + "\"transaction\":" + transaction + ",\"op\":\"u\",\"ts_ms\":1765000000200}}";
    }

    private static ConsumerRecord<byte[], byte[]> record(String key, String value, RecordHeaders headers) {
        return new ConsumerRecord<>("shop.public.orders", 2, 41, 1765000000300L, TimestampType.CREATE_TIME, -1, -1,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8), value == null ? null : value.getBytes(StandardCharsets.UTF_8), headers, Optional.empty());
    }

    @Test
    void readsADebeziumRecordAsTheDirectSourceConvertsIt() {
        EnvelopeDecoder.Decoded decoded = new EnvelopeDecoder().decode(record(KEY, update("\"[\\\"22000000\\\",\\\"22000128\\\"]\"", 22000128, 3L), new RecordHeaders()));

        assertThat(decoded).isInstanceOf(EnvelopeDecoder.Change.class);
        EnvelopeDecoder.Change change = (EnvelopeDecoder.Change) decoded;
        assertThat(change.hint()).as("last commit LSN and order in the transaction").isEqualTo(SourcePosition.ofSequence(22000000L, 3));
        ChangeEvent event = new ChangeEventConverter(true).convert(change.record(), change.hint(), 771, Instant.EPOCH);
        assertThat(event.table()).isEqualTo(new TableId("public", "orders"));
        assertThat(event.operation()).isEqualTo(ChangeOperation.UPDATE);
        assertThat(event.schema().keyColumns()).containsExactly("id");
        assertThat(event.after().get(0)).isEqualTo(7L);
        assertThat(event.after().get(1)).isEqualTo(new java.math.BigDecimal("12.50"));
        assertThat(event.after().get(2)).isEqualTo("late");
    }

    @Test
    void takesThePositionTributarysSinkWroteInTheHeader() {
        RecordHeaders headers = new RecordHeaders();
        headers.add(EnvelopeDecoder.POSITION_HEADER, "0000000001A2B3C4-000000000002".getBytes(StandardCharsets.US_ASCII));
        EnvelopeDecoder.Change change = (EnvelopeDecoder.Change) new EnvelopeDecoder().decode(record(KEY, update("null", 500, null), headers));
        assertThat(change.hint()).isEqualTo(SourcePosition.decode("0000000001A2B3C4-000000000002"));

        EnvelopeDecoder.Change withoutSequence = (EnvelopeDecoder.Change) new EnvelopeDecoder().decode(record(KEY, update("null", 500, null), new RecordHeaders()));
        assertThat(withoutSequence.hint()).as("the event's LSN when there is no sequence").isEqualTo(SourcePosition.ofSequence(500, 0));
    }

    @Test
    void tellsTombstonesAndRecordsThatAreNoChangeEvents() {
        EnvelopeDecoder decoder = new EnvelopeDecoder();
        assertThat(decoder.decode(record(KEY, null, new RecordHeaders()))).isInstanceOf(EnvelopeDecoder.Tombstone.class);
        assertThat(decoder.decode(record(KEY, "not json", new RecordHeaders())))
                .isInstanceOfSatisfying(EnvelopeDecoder.Unreadable.class, u -> assertThat(u.reason()).contains("not Kafka Connect JSON"));
        assertThat(decoder.decode(record(KEY, "{\"after\":{\"id\":1},\"op\":\"c\"}", new RecordHeaders())))
                .as("schemaless JSON").isInstanceOf(EnvelopeDecoder.Unreadable.class);
        assertThat(decoder.decode(record(KEY, "{\"schema\":{\"type\":\"string\",\"optional\":false},\"payload\":\"hello\"}", new RecordHeaders())))
                .isInstanceOfSatisfying(EnvelopeDecoder.Unreadable.class, u -> assertThat(u.reason()).contains("not a Debezium change event envelope"));
        assertThat(decoder.decode(record("{broken", update("null", 1, null), new RecordHeaders())))
                .isInstanceOfSatisfying(EnvelopeDecoder.Unreadable.class, u -> assertThat(u.reason()).startsWith("key"));
        String message = update("null", 1, null).replace("\"op\":\"u\"", "\"op\":\"m\"");
        assertThat(decoder.decode(record(KEY, message, new RecordHeaders())))
                .isInstanceOfSatisfying(EnvelopeDecoder.Unreadable.class, u -> assertThat(u.reason()).contains("op 'm'"));
    }

    @Test
    void offsetTokensRoundTrip() {
        Map<TopicPartition, Long> next = Map.of(new TopicPartition("shop.public.orders", 0), 42L, new TopicPartition("shop.public.orders", 2), 7L,
                new TopicPartition("shop.public.customers", 0), 0L);
        assertThat(OffsetToken.decode(OffsetToken.encode(next))).isEqualTo(next);
        assertThat(OffsetToken.encode(next).token()).isEqualTo("{\"kafka\":{\"shop.public.customers\":{\"0\":0},\"shop.public.orders\":{\"0\":42,\"2\":7}}}");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> OffsetToken.decode(new io.tributary.spi.SourceOffset("{\"lsn\":1}")))
                .hasMessageContaining("not written by a Kafka source");
    }
}
