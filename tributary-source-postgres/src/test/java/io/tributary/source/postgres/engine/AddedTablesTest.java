package io.tributary.source.postgres.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.source.postgres.offset.OffsetCodec;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.ColumnType.Primitive;
import io.tributary.spi.Row;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import io.tributary.spi.TableId;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** When a table added to a pipeline counts as captured: once Debezium's offset stops listing its incremental snapshot. */
class AddedTablesTest {
    private static final TableId ORDERS = TableId.parse("public.orders");
    private static final TableId LEDGER = TableId.parse("public.ledger");
    private static final List<TableId> CONFIGURED = List.of(ORDERS, LEDGER);

    @Test
    void anAddedTableIsCapturedOnceItsSnapshotIsNoLongerListed() {
        AddedTables tables = new AddedTables(CONFIGURED, Set.of(ORDERS), List.of(), List.of(LEDGER));

        assertThat(tables.toRequest()).containsExactly(LEDGER);
        assertThat(tables.capturedAsOf(List.of(), offset(100, null))).as("signal not processed yet").containsExactly(ORDERS);
        assertThat(tables.snapshotting()).isTrue();
        assertThat(tables.capturedAsOf(List.of(read(LEDGER, 1)), offset(200, "public.ledger"))).as("snapshot running").containsExactly(ORDERS);
        assertThat(tables.capturedAsOf(List.of(), offset(300, null))).as("snapshot done").containsExactly(ORDERS, LEDGER);
        assertThat(tables.snapshotting()).isFalse();
    }

    @Test
    void aRequestedSnapshotThatEndsWithoutReadingARowFails() {
        // Debezium 2.7.3 skips a table whose chunk query fails and drops it from its offset.
        AddedTables tables = new AddedTables(CONFIGURED, Set.of(ORDERS), List.of(), List.of(LEDGER));
        tables.capturedAsOf(List.of(), offset(200, "public.ledger"));

        assertThatThrownBy(() -> tables.capturedAsOf(List.of(), offset(300, null)))
                .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.SOURCE_FAILED))
                .hasMessageContaining("Cannot snapshot table public.ledger");
    }

    @Test
    void aTableSkippedBeforeItWasEverListedFailsOnceALaterOneIsListed() {
        TableId journal = TableId.parse("public.journal");
        AddedTables tables = new AddedTables(List.of(ORDERS, LEDGER, journal), Set.of(ORDERS), List.of(), List.of(LEDGER, journal));

        assertThatThrownBy(() -> tables.capturedAsOf(List.of(), offset(200, "public.journal")))
                .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.SOURCE_FAILED))
                .hasMessageContaining("Cannot snapshot table public.ledger");
    }

    private static ChangeEvent read(TableId table, long id) {
        TableSchema schema = new TableSchema(table, List.of(Column.required("id", Primitive.INT64, "bigint")), List.of("id"));
        return new ChangeEvent(ChangeOperation.READ, schema, null, Row.of(id), SourcePosition.ofSequence(100, id), 0, Instant.EPOCH, null);
    }

    @Test
    void aResumedSnapshotEndsAtTheFirstOffsetWithoutIt() {
        AddedTables tables = new AddedTables(CONFIGURED, Set.of(ORDERS), List.of(LEDGER), List.of());

        assertThat(tables.toRequest()).isEmpty();
        assertThat(tables.capturedAsOf(List.of(), offset(200, "public.ledger"))).containsExactly(ORDERS);
        assertThat(tables.capturedAsOf(List.of(), offset(300, null))).containsExactly(ORDERS, LEDGER);
    }

    @Test
    void readsTheCollectionsDebeziumStoresInItsOffset() {
        assertThat(OffsetCodec.incrementalSnapshotTables(offset(1, "public.ledger"))).containsExactly(LEDGER);
        assertThat(OffsetCodec.incrementalSnapshotTables(offset(1, null))).isEmpty();
        assertThat(AddedTables.none(CONFIGURED).capturedAsOf(List.of(), offset(1, null))).containsExactlyElementsOf(CONFIGURED);
    }

    private static SourceOffset offset(long lsn, String snapshotting) {
        Map<String, Object> offset = new LinkedHashMap<>();
        offset.put("lsn", lsn);
        if (snapshotting != null) {
            // As PostgresOffsetContext stores it (AbstractIncrementalSnapshotContext.store)
            offset.put("incremental_snapshot_collections", "[{\"incremental_snapshot_collections_id\":\"" + snapshotting
                    + "\",\"incremental_snapshot_collections_additional_condition\":null,\"incremental_snapshot_collections_surrogate_key\":null}]");
            offset.put("incremental_snapshot_primary_key", "aced0005");
        }
        return OffsetCodec.encode(Map.of("server", "tributary"), offset);
    }
}
