package io.tributary.lake.catalog;

import io.tributary.lake.scan.LiveFiles;
import io.tributary.lake.scan.RowLocation;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.StaticTableOperations;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Evaluator;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.types.Types;

/**
 * Reads the live rows of a table snapshot, each with its {@link RowLocation}: the data files
 * {@link LiveFiles} plans, read through the table's file IO with Iceberg's row position column, skipping the ordinals the position deletes of each file name.
 */
public final class LiveRows {
    private LiveRows() {
    }

    /** Receives a live row (a fresh record of the asked schema) and where it lives. */
    @FunctionalInterface
    public interface Sink {
        void accept(Record row, RowLocation location);
    }

    /**
     * Hands every live row of the table's current snapshot (as the catalog holds it now: maintenance
     * in another process may have compacted the table) matching {@code filter} to {@code sink},
     * projected on {@code schema} (by field id; columns a file lacks read as null). The filter's
     * columns must be in {@code schema}.
     */
    public static void read(Table table, Schema schema, Expression filter, Sink sink) {
        table.refresh();
        read(table, table.currentSnapshot(), schema, filter, sink);
    }

    /** As {@link #read(Table, Schema, Expression, Sink)}, at {@code snapshot} (nothing when null). */
    public static void read(Table table, Snapshot snapshot, Schema schema, Expression filter, Sink sink) {
        List<LiveFiles.LiveFile> files = LiveFiles.plan(table, snapshot, filter);
        Map<String, BitSet> deleted = LiveFiles.deletedPositions(table.io(), files);
        for (LiveFiles.LiveFile f : files) {
            try (CloseableIterable<Record> rows = rows(table.io(), f, deleted.get(f.path()), schema, filter)) {
                for (Record r : rows) {
                    sink.accept(withoutPosition(r, schema), new RowLocation(f.path(), (Long) r.get(schema.columns().size())));
                }
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read data file " + f.path() + " of " + table.name() + ": " + e.getMessage(), e);
            }
        }
    }

    /** Every live row of the table's current snapshot, as the catalog holds it now. */
    public static CloseableIterable<Record> of(Table table) {
        return of(table, Expressions.alwaysTrue());
    }

    /** The live rows of the table's current snapshot that match {@code filter}, in the table's schema, read lazily. */
    public static CloseableIterable<Record> of(Table table, Expression filter) {
        table.refresh();
        Schema schema = table.schema();
        List<LiveFiles.LiveFile> files = LiveFiles.plan(table, table.currentSnapshot(), filter);
        Map<String, BitSet> deleted = LiveFiles.deletedPositions(table.io(), files);
        List<CloseableIterable<Record>> parts = new ArrayList<>();
        for (LiveFiles.LiveFile f : files) {
            parts.add(CloseableIterable.transform(rows(table.io(), f, deleted.get(f.path()), schema, filter), r -> withoutPosition(r, schema)));
        }
        return CloseableIterable.concat(parts);
    }

    /** The live rows of one data file matching {@code filter}, projected on {@code schema} plus the row position column, last. */
    private static CloseableIterable<Record> rows(FileIO io, LiveFiles.LiveFile file, BitSet deleted, Schema schema, Expression filter) {
        List<Types.NestedField> columns = new ArrayList<>(schema.columns());
        columns.add(MetadataColumns.ROW_POSITION);
        Schema projection = new Schema(columns);
        CloseableIterable<Record> rows = LocalFiles.readParquet(io, file.path(), projection, filter);
        boolean filtered = filter != Expressions.alwaysTrue();
        Evaluator evaluator = filtered ? new Evaluator(projection.asStruct(), filter) : null;
        InternalRecordWrapper wrapper = filtered ? new InternalRecordWrapper(projection.asStruct()) : null;
        int positionAt = schema.columns().size();
        return CloseableIterable.filter(rows, r -> (deleted == null || !deleted.get(Math.toIntExact((Long) r.get(positionAt))))
                && (!filtered || evaluator.eval(wrapper.wrap(r))));
    }

    private static Record withoutPosition(Record r, Schema schema) {
        GenericRecord out = GenericRecord.create(schema);
        for (int i = 0; i < schema.columns().size(); i++) {
            out.set(i, r.get(i));
        }
        return out;
    }

    /**
     * Every live row of the table's current snapshot with its equality deletes applied, by Iceberg's
     * generic reader: only for converting a table an earlier release wrote with equality deletes
     * ({@code EqualityDeleteConversion}); every other read goes through {@link LiveFiles}.
     */
    public static CloseableIterable<Record> withEqualityDeletes(Table table) {
        Table local = new BaseTable(new StaticTableOperations(((HasTableOperations) table).operations().refresh(), table.io()), table.name());
        return IcebergGenerics.read(local).build();
    }
}
