package io.tributary.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.Row;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class KafkaChangeSinkTest {
    private static final TableSchema ORDERS = new TableSchema(new TableId("public", "orders"),
            List.of(Column.required("id", ColumnType.Primitive.INT64, "bigint"), Column.required("customer_id", ColumnType.Primitive.INT32, "integer"),
                    Column.nullable("note", ColumnType.Primitive.STRING, "text")),
            List.of("id"));

    private static ChangeEvent delete(TableSchema schema, Row before) {
        return new ChangeEvent(ChangeOperation.DELETE, schema, before, null, SourcePosition.ofSequence(1, 0), 7, Instant.EPOCH, null);
    }

    @Test
    void aBeforeImageOfTheKeyAloneIsMarkedForTheLanding() {
        assertThat(KafkaChangeSink.keyOnlyBefore(delete(ORDERS, Row.of(42L, null, null)))).isTrue();
    }

    @Test
    void aFullBeforeImageIsNotMarked() {
        assertThat(KafkaChangeSink.keyOnlyBefore(delete(ORDERS, Row.of(42L, 3, null)))).isFalse();
        assertThat(KafkaChangeSink.keyOnlyBefore(delete(ORDERS, Row.of(42L, 3, "gift")))).isFalse();
        assertThat(KafkaChangeSink.keyOnlyBefore(new ChangeEvent(ChangeOperation.CREATE, ORDERS, null, Row.of(42L, 3, null),
                SourcePosition.ofSequence(1, 0), 7, Instant.EPOCH, null))).isFalse();
    }

    @Test
    void aTableWithoutKeyOrWithOnlyKeyColumnsIsNotMarked() {
        TableSchema keyless = new TableSchema(new TableId("public", "log"), ORDERS.columns(), List.of());
        assertThat(KafkaChangeSink.keyOnlyBefore(delete(keyless, Row.of(42L, null, null)))).isFalse();
        TableSchema allKey = new TableSchema(new TableId("public", "pairs"), ORDERS.columns().subList(0, 2), List.of("id", "customer_id"));
        assertThat(KafkaChangeSink.keyOnlyBefore(delete(allKey, Row.of(42L, 3)))).isFalse();
    }
}
