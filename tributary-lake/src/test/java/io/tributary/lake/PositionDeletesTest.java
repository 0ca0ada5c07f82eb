package io.tributary.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.scan.LakeTable;
import io.tributary.lake.layout.Layer;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Silver and history remove rows by position only: a table without a key loses exactly the copies
 * the source deleted, no snapshot holds an equality delete file, and a table an earlier release
 * wrote with equality deletes is refused by the readers until it is converted, then reads the same.
 */
class PositionDeletesTest {
    private static final TableSchema LOG_LINES = new TableSchema(new TableId("public", "log_lines"),
            List.of(Column.nullable("level", ColumnType.Primitive.INT32, "int4"), Column.nullable("text", ColumnType.Primitive.STRING, "text")), List.of());
    private static final Instant AT = Instant.parse("2026-11-20T10:00:00Z");

    @TempDir
    Path dir;

    @Test
    void aKeylessTableLosingKCopiesDeletesExactlyKRowsByPosition() throws IOException {
        try (Lake lake = Lake.open(new LakeConfig(dir, LakeConfig.RawLayer.DISABLED), "p", t -> TableOptions.DEFAULT)) {
            lake.acquireLease();
            List<ChangeEvent> first = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                first.add(event(ChangeOperation.CREATE, null, Row.of(1, "a"), 100, i));
            }
            first.add(event(ChangeOperation.CREATE, null, Row.of(2, "b"), 100, 5));
            first.add(event(ChangeOperation.CREATE, null, Row.of(2, "b"), 100, 6));
            commit(lake, first);

            List<ChangeEvent> second = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                second.add(event(ChangeOperation.DELETE, Row.of(1, "a"), null, 200, i));
            }
            second.add(event(ChangeOperation.UPDATE, Row.of(2, "b"), Row.of(2, "c"), 200, 3));
            commit(lake, second);

            Table silver = lake.catalog().load(TableIdentifier.of("silver", "log_lines")).orElseThrow();
            assertThat(rows(silver)).containsExactly("1 a", "1 a", "2 b", "2 c");
            assertThat(silver.currentSnapshot().summary()).containsEntry("added-position-deletes", "4").containsEntry("added-records", "1");
            Table history = lake.catalog().load(TableIdentifier.of("silver", "log_lines_history")).orElseThrow();
            List<String> open = new ArrayList<>();
            try (CloseableIterable<Record> versions = LiveRows.of(history)) {
                versions.forEach(r -> {
                    if (r.getField("_valid_to") == null) {
                        open.add(r.getField("level") + " " + r.getField("text"));
                    }
                });
            }
            open.sort(null);
            assertThat(open).containsExactly("1 a", "1 a", "2 b", "2 c");
            assertNoEqualityDeletes(silver, history);
        }
    }

    @Test
    void aTableWrittenWithEqualityDeletesIsRefusedUntilConvertedThenReadsTheSame() throws IOException {
        TableIdentifier id = TableIdentifier.of("silver", "items");
        Schema schema = new Schema(List.of(Types.NestedField.required(1, "id", Types.LongType.get()), Types.NestedField.optional(2, "name", Types.StringType.get()),
                Types.NestedField.required(3, "_position", Types.StringType.get())), Set.of(1));
        SourcePosition written = SourcePosition.ofSequence(300, 0);
        try (LakeCatalog catalog = LakeCatalog.open(dir)) {
            // As the previous release wrote silver: an append, then an upsert as one row delta of an
            // equality delete on the key and the new rows.
            Table table = catalog.ensure(id, schema, s -> PartitionSpec.unpartitioned());
            DataFiles files = new DataFiles(table);
            List<Record> rows = new ArrayList<>();
            for (long i = 1; i <= 5; i++) {
                rows.add(record(schema, i, "v1", "100"));
            }
            catalog.commit(SnapshotPositions.stamp(table.newAppend().appendFile(files.write(rows, null)), "p", SourcePosition.ofSequence(100, 0)));
            Schema keySchema = schema.select("id");
            DeleteFile equalityDeletes = equalityDeletes(table, keySchema, List.of(2L, 3L));
            catalog.commit(SnapshotPositions.stamp(table.newRowDelta().addDeletes(equalityDeletes).addRows(files.write(List.of(record(schema, 3L, "v2", "300")), null)),
                    "p", written));
            assertThat(equalityDeletes.content()).isEqualTo(FileContent.EQUALITY_DELETES);

            assertThatThrownBy(() -> LiveRows.of(table)).isInstanceOf(TributaryException.class)
                    .satisfies(e -> assertThat(((TributaryException) e).errorCode()).isEqualTo(ErrorCode.LAKE_IO_FAILED))
                    .hasMessageContaining("equality delete files").hasMessageContaining("tributary maintain");
            assertThatThrownBy(() -> LakeTable.of(Layer.SILVER, table)).isInstanceOf(TributaryException.class).hasMessageContaining("equality delete files");
        }
        try (Lake lake = Lake.open(new LakeConfig(dir, LakeConfig.RawLayer.DISABLED), "p", t -> TableOptions.DEFAULT)) {
            assertThat(lake.convertEqualityDeletes()).containsExactly(id);
            Table table = lake.catalog().load(id).orElseThrow();
            Snapshot converted = table.currentSnapshot();
            assertThat(converted.summary()).doesNotContainKey(SnapshotPositions.POSITION);
            assertThat(SnapshotPositions.committed(table)).contains(written);
            assertThat(rows(table)).containsExactly("1 v1", "3 v2", "4 v1", "5 v1");
            assertThat(LakeTable.of(Layer.SILVER, table).deleteFiles()).isEmpty();
            assertThat(lake.convertEqualityDeletes()).as("a converted lake is left alone").isEmpty();
            assertThat(table.currentSnapshot().snapshotId()).isEqualTo(converted.snapshotId());
        }
    }

    /** An equality delete file on {@code keySchema}'s columns, written as the previous release did. */
    private static DeleteFile equalityDeletes(Table table, Schema keySchema, List<Long> keys) throws IOException {
        EqualityDeleteWriter<Record> writer = Parquet.writeDeletes(OutputFileFactory.builderFor(table, 1, 1).format(FileFormat.PARQUET).build().newOutputFile())
                .rowSchema(keySchema).withSpec(table.spec()).equalityFieldIds(new int[] {1}).createWriterFunc(GenericParquetWriter::create).overwrite()
                .buildEqualityWriter();
        try (writer) {
            for (long k : keys) {
                GenericRecord r = GenericRecord.create(keySchema);
                r.setField("id", k);
                writer.write(r);
            }
        }
        return writer.toDeleteFile();
    }

    private static Record record(Schema schema, long id, String name, String position) {
        GenericRecord r = GenericRecord.create(schema);
        r.setField("id", id);
        r.setField("name", name);
        r.setField("_position", position);
        return r;
    }

    private static void assertNoEqualityDeletes(Table... tables) {
        for (Table table : tables) {
            for (Snapshot s : table.snapshots()) {
                s.addedDeleteFiles(table.io()).forEach(d -> assertThat(d.content()).isEqualTo(FileContent.POSITION_DELETES));
            }
        }
    }

    private static List<String> rows(Table table) throws IOException {
        List<String> out = new ArrayList<>();
        try (CloseableIterable<Record> rows = LiveRows.of(table)) {
            rows.forEach(r -> out.add(r.get(0) + " " + r.get(1)));
        }
        out.sort(null);
        return out;
    }

    private static ChangeEvent event(ChangeOperation op, Row before, Row after, long lsn, int index) {
        return new ChangeEvent(op, LOG_LINES, before, after, SourcePosition.ofSequence(lsn, index), 1, AT, null);
    }

    private static void commit(Lake lake, List<ChangeEvent> events) {
        SourcePosition last = events.get(events.size() - 1).position();
        lake.commit(events, last, new SourceOffset("o" + last.encoded()), Set.of());
    }
}
