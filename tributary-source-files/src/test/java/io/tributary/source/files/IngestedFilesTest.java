package io.tributary.source.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.FilesSourceConfig;
import io.tributary.spi.ColumnType;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.TributaryException;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class IngestedFilesTest {
    @Test
    void theLedgerRoundTripsThroughTheOffset() {
        IngestedFiles ledger = IngestedFiles.empty();
        ledger.columns("orders", List.of(new IngestedFiles.ColumnSpec("order_id", "BIGINT"), new IngestedFiles.ColumnSpec("amount", "DECIMAL(12,2)")));
        long seq = ledger.begin("orders", "a/1.csv", "abc");
        assertThat(seq).isEqualTo(1);
        ledger.ingested("orders", "a/1.csv", new IngestedFiles.Ingested(10, 1000, "abc", seq, 3, 1));
        IngestedFiles back = IngestedFiles.decode(Optional.of(ledger.encode()));
        assertThat(back.nextSequence()).isEqualTo(2);
        assertThat(back.columns("orders")).isEqualTo(ledger.columns("orders"));
        assertThat(back.file("orders", "a/1.csv")).contains(new IngestedFiles.Ingested(10, 1000, "abc", 1, 3, 1));
        assertThat(back.inProgress()).isEmpty();
    }

    @Test
    void aDeliveryCutShortKeepsItsSequenceOnlyForTheSameContent() {
        IngestedFiles ledger = IngestedFiles.empty();
        SourceOffset midFile = ledger.encode(new IngestedFiles.InProgress("orders", "a/1.csv", "abc", 1));
        IngestedFiles same = IngestedFiles.decode(Optional.of(midFile));
        assertThat(same.begin("orders", "a/1.csv", "abc")).as("the lake skips the rows it holds of it").isEqualTo(1);
        IngestedFiles changed = IngestedFiles.decode(Optional.of(midFile));
        assertThat(changed.begin("orders", "a/1.csv", "def")).as("new content sorts after the rows the lake holds").isEqualTo(2);
        changed.ingested("orders", "a/1.csv", new IngestedFiles.Ingested(10, 1000, "def", 2, 3, 0));
        assertThat(changed.nextSequence()).isEqualTo(3);
    }

    @Test
    void anotherSourcesOffsetIsRefused() {
        assertThatThrownBy(() -> IngestedFiles.decode(Optional.of(new SourceOffset("{\"lsn\": 1}"))))
                .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.SOURCE_MISCONFIGURED));
        assertThat(IngestedFiles.decode(Optional.of(SourceOffset.NEW_INITIAL_SNAPSHOT)).nextSequence()).isEqualTo(1);
        // After resnapshot, deliveries sort after the lake's position.
        assertThat(IngestedFiles.decode(Optional.of(SourceOffset.NEW_INITIAL_SNAPSHOT), FilesChangeSource.sequenceOf(
                new io.tributary.spi.SourcePosition(FilesChangeSource.commitKey(41), 7))).nextSequence()).isEqualTo(42);
    }

    @Test
    void datesComeFromThePath() {
        FilesSourceConfig.FileTable table = new FilesSourceConfig.FileTable("orders", "orders/*/*.csv", FilesSourceConfig.Format.CSV, List.of(),
                FilesSourceConfig.Csv.DEFAULT, Map.of(), Optional.of("orders/{date}/"), 0);
        assertThat(FilesChangeSource.dateFromPath(table, "orders/2011-12-09/orders_1.csv")).contains(LocalDate.of(2011, 12, 9));
        assertThatThrownBy(() -> FilesChangeSource.dateFromPath(table, "orders/latest/orders_1.csv")).hasMessageContaining("finds no date");
    }

    @Test
    void duckDbTypesMapToColumnTypes() {
        assertThat(DuckTypes.normalize("decimal(12, 2)")).isEqualTo("DECIMAL(12,2)");
        assertThat(DuckTypes.normalize("UBIGINT")).isEqualTo("DECIMAL(38,0)");
        assertThat(DuckTypes.normalize("TIMESTAMP WITH TIME ZONE")).isEqualTo("TIMESTAMPTZ");
        assertThat(DuckTypes.normalize("STRUCT(a INTEGER)")).isEqualTo("VARCHAR");
        assertThat(DuckTypes.columnType("DECIMAL(12,2)")).isEqualTo(new ColumnType.Decimal(12, 2));
        assertThat(DuckTypes.columnType("BIGINT")).isEqualTo(ColumnType.Primitive.INT64);
        assertThat(FilesChangeSource.commitKey(1)).isEqualTo("F0000000000000001");
    }
}
