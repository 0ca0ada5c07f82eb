package io.tributary.lake.bronze;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.apache.iceberg.catalog.TableIdentifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PreviousImagesTest {
    private static final TableSchema SCHEMA = new TableSchema(new TableId("public", "docs"),
            List.of(Column.required("id", ColumnType.Primitive.INT32, "int4"), Column.nullable("n", ColumnType.Primitive.INT32, "int4"),
                    Column.nullable("body", ColumnType.Primitive.STRING, "text")),
            List.of("id"));
    private static final TableIdentifier BRONZE = TableIdentifier.of("bronze", "docs");

    @TempDir
    Path dir;

    @Test
    void takesTheValueFromAnEarlierEventOfTheBatchAndFromTheBeforeImage() {
        try (LakeCatalog catalog = LakeCatalog.open(dir)) {
            List<ChangeEvent> resolved = new PreviousImages(catalog).resolve(BRONZE, List.of(
                    event(ChangeOperation.CREATE, 1, null, Row.of(1, 0, "long text")),
                    event(ChangeOperation.UPDATE, 2, null, Row.of(1, 1, Row.UNAVAILABLE)),
                    event(ChangeOperation.UPDATE, 3, Row.of(2, 0, "full before"), Row.of(2, 1, Row.UNAVAILABLE)),
                    // A key change: the new key's image takes the old key's value.
                    event(ChangeOperation.DELETE, 4, Row.of(1, null, null), null),
                    event(ChangeOperation.CREATE, 5, null, Row.of(10, 1, Row.UNAVAILABLE))));
            assertThat(resolved.get(1).after()).isEqualTo(Row.of(1, 1, "long text"));
            assertThat(resolved.get(2).after()).isEqualTo(Row.of(2, 1, "full before"));
            assertThat(resolved.get(4).after()).isEqualTo(Row.of(10, 1, "long text"));
        }
    }

    @Test
    void failsNamingTableColumnAndPositionWhenNoPreviousImageHoldsTheValue() {
        try (LakeCatalog catalog = LakeCatalog.open(dir)) {
            List<ChangeEvent> events = List.of(event(ChangeOperation.UPDATE, 7, null, Row.of(1, 1, Row.UNAVAILABLE)));
            assertThatThrownBy(() -> new PreviousImages(catalog).resolve(BRONZE, events))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.CONVERSION_FAILED))
                    .hasMessage("Cannot resolve the unchanged TOASTed value of column body of public.docs at position 0/64#7: the source did not send it "
                            + "and no earlier version of the row is in the micro-batch or in bronze. "
                            + "Set REPLICA IDENTITY FULL on the table so updates carry the previous row, then snapshot the table again");
        }
    }

    private static ChangeEvent event(ChangeOperation op, int index, Row before, Row after) {
        return new ChangeEvent(op, SCHEMA, before, after, SourcePosition.ofSequence(100, index), 1, Instant.EPOCH, null);
    }
}
