package io.tributary.lake;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.lake.catalog.LiveRows;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.Row;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression: an unchanged TOASTed value of a UUID-keyed table is taken from bronze, which was read
 * with an {@code in} filter on the key. Iceberg 1.12 compares UUID literals as Java does (signed),
 * while data file bounds are in the spec's unsigned byte order (apache/iceberg#14216), so a file
 * holding keys 00… and ff… was pruned and the update failed with "no earlier version of the row".
 */
class UuidKeyPreviousImageTest {
    private static final TableSchema DOCS = new TableSchema(new TableId("public", "docs"),
            List.of(Column.required("id", ColumnType.Primitive.UUID, "uuid"), Column.nullable("body", ColumnType.Primitive.STRING, "text")), List.of("id"));
    private static final UUID LOW = UUID.fromString("00000000-0000-0000-0000-000000000001");
    private static final UUID HIGH = UUID.fromString("ffffffff-0000-0000-0000-000000000001");

    @TempDir
    Path dir;

    @Test
    void anUnchangedToastedValueOfAUuidKeyedRowIsFoundInBronze() throws IOException {
        try (Lake lake = open()) {
            TestLakes.commit(lake, List.of(event(ChangeOperation.CREATE, Row.of(LOW, "low text"), 100, 0), event(ChangeOperation.CREATE, Row.of(HIGH, "high text"), 100, 1)));
            TestLakes.commit(lake, List.of(event(ChangeOperation.UPDATE, Row.of(LOW, Row.UNAVAILABLE), 200, 0), event(ChangeOperation.UPDATE, Row.of(HIGH, Row.UNAVAILABLE), 200, 1)));
        }
        List<String> silver = new ArrayList<>();
        try (Lake lake = open();
             CloseableIterable<Record> rows = LiveRows.of(lake.catalog().load(TableIdentifier.of("silver", "docs")).orElseThrow())) {
            rows.forEach(r -> silver.add(r.getField("id") + " " + r.getField("body")));
        }
        assertThat(silver).containsExactlyInAnyOrder(LOW + " low text", HIGH + " high text");
    }

    private static ChangeEvent event(ChangeOperation op, Row after, long lsn, int index) {
        return new ChangeEvent(op, DOCS, null, after, SourcePosition.ofSequence(lsn, index), lsn, Instant.parse("2026-11-20T10:00:00Z").plusSeconds(lsn), null);
    }

    private Lake open() {
        return TestLakes.open(dir.resolve("lake"));
    }
}
