package io.tributary.source.postgres.convert;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

/** The old row image of a delete, under each replica identity. */
class ChangeEventConverterTest {
    private static final TableId ORDERS = new TableId("public", "orders");
    private static final Schema KEY = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).build();
    // NOT NULL columns are required in Debezium's row schema: for a column the delete did not carry,
    // Debezium puts 0, '' or 1970-01-01 there.
    private static final Schema ROW = SchemaBuilder.struct().optional().field("id", Schema.INT64_SCHEMA).field("customer_id", Schema.INT32_SCHEMA)
            .field("status", Schema.STRING_SCHEMA).field("ordered_on", Date.SCHEMA).field("note", Schema.OPTIONAL_STRING_SCHEMA).build();
    private static final Schema SOURCE = SchemaBuilder.struct().field("schema", Schema.STRING_SCHEMA).field("table", Schema.STRING_SCHEMA).build();
    private static final Schema ENVELOPE = SchemaBuilder.struct().field("before", ROW).field("after", ROW).field("source", SOURCE)
            .field("op", Schema.STRING_SCHEMA).build();

    @Test
    void deleteUnderReplicaIdentityDefaultCarriesOnlyTheKeyNotDebeziumsPlaceholders() {
        ChangeEvent e = new ChangeEventConverter(false, Set.of(ORDERS)).convert(delete(0, "", new java.util.Date(0)), position(), 7, Instant.EPOCH);

        assertThat(e.operation()).isEqualTo(ChangeOperation.DELETE);
        assertThat(e.before().get(0)).isEqualTo(42L);
        for (int i = 1; i < e.before().size(); i++) {
            assertThat(e.before().get(i)).as("column %s", e.schema().columns().get(i).name()).isNull();
        }
    }

    @Test
    void deleteUnderReplicaIdentityFullKeepsTheWholeOldRow() {
        ChangeEvent e = new ChangeEventConverter(false, Set.of()).convert(delete(0, "", new java.util.Date(0)), position(), 7, Instant.EPOCH);

        assertThat(e.before().get(0)).isEqualTo(42L);
        assertThat(e.before().get(1)).isEqualTo(0);
        assertThat(e.before().get(2)).isEqualTo("");
        assertThat(e.before().get(3)).isNotNull();
    }

    private static SourceRecord delete(int customerId, String status, java.util.Date orderedOn) {
        Struct before = new Struct(ROW).put("id", 42L).put("customer_id", customerId).put("status", status).put("ordered_on", orderedOn);
        Struct value = new Struct(ENVELOPE).put("before", before).put("source", new Struct(SOURCE).put("schema", "public").put("table", "orders"))
                .put("op", "d");
        return new SourceRecord(Map.of(), Map.of(), "tributary.public.orders", null, KEY, new Struct(KEY).put("id", 42L), ENVELOPE, value);
    }

    private static SourcePosition position() {
        return SourcePosition.ofSequence(100, 0);
    }
}
