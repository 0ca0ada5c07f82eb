package io.tributary.lake.silver;

import io.tributary.config.TableOptions;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.nio.ByteBuffer;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.tributary.lake.catalog.RowDeltas;
import io.tributary.lake.scan.RowLocation;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;

/**
 * Applies the changes of a table without a key (REPLICA IDENTITY FULL, no primary key) to silver,
 * where identical rows are counted exactly: silver holds as many copies of a row as the source.
 * Per micro-batch, each distinct silver row gets its net change (+1 per insert, -1 per delete, an
 * update is both). A gain appends that many copies. A loss of k copies removes exactly k of the
 * row's current copies by position (a position delete file in the same row delta); the copies left
 * keep their {@code _position} and {@code _commit_ts}. Finding the copies reads silver's live rows
 * ({@link LiveRows}), so a micro-batch that deletes or updates rows costs a scan of the table;
 * inserts (and the initial snapshot) cost none. The row delta is validated from the snapshot read,
 * and redone when a concurrent compaction removed a file it deletes from ({@link RowDeltas}).
 */
final class KeylessUpsert {
    private KeylessUpsert() {
    }

    /** A distinct silver row: its net change in this micro-batch and its image with the latest position. */
    private static final class Change {
        int delta;
        Record image;
    }

    static int apply(LakeCatalog catalog, String pipeline, TableIdentifier id, List<ChangeEvent> events, TableOptions options) {
        return RowDeltas.redoWhileRowsMove(id.toString(), () -> { }, () -> applyOnce(catalog, pipeline, id, events, options));
    }

    private static int applyOnce(LakeCatalog catalog, String pipeline, TableIdentifier id, List<ChangeEvent> events, TableOptions options) {
        Table table = null;
        SilverProjection projection = null;
        TableSchema last = null;
        Map<List<Object>, Change> changes = new LinkedHashMap<>();
        for (ChangeEvent e : events) {
            if (e.schema() != last) {
                projection = new SilverProjection(e.schema(), options);
                table = catalog.ensure(id, SilverWriter.schema(projection), s -> PartitionSpec.unpartitioned());
                last = e.schema();
            }
            switch (e.operation()) {
                case READ, CREATE -> change(changes, projection, table.schema(), e, e.after(), 1);
                case UPDATE -> {
                    change(changes, projection, table.schema(), e, e.before(), -1);
                    change(changes, projection, table.schema(), e, e.after(), 1);
                }
                case DELETE -> change(changes, projection, table.schema(), e, e.before(), -1);
                case TRUNCATE -> throw new IllegalStateException("truncate handled by SilverWriter.apply");
            }
        }
        changes.values().removeIf(c -> c.delta == 0);
        // Added copies are simply appended; only rows that lose copies are counted and rewritten.
        Map<List<Object>, Change> losing = new LinkedHashMap<>();
        changes.forEach((values, c) -> {
            if (c.delta < 0) {
                losing.put(values, c);
            }
        });
        Map<List<Object>, List<RowLocation>> copies = new HashMap<>();
        Long base = locate(table, projection, losing, copies);
        List<RowLocation> deletes = new ArrayList<>();
        List<Record> rows = new ArrayList<>();
        for (Map.Entry<List<Object>, Change> entry : changes.entrySet()) {
            if (entry.getValue().delta > 0) {
                for (int i = 0; i < entry.getValue().delta; i++) {
                    rows.add(entry.getValue().image.copy());
                }
                continue;
            }
            List<RowLocation> held = copies.getOrDefault(entry.getKey(), List.of());
            int now = held.size();
            int after = now + entry.getValue().delta;
            if (after < 0) {
                throw new TributaryException(ErrorCode.LAKE_COMMIT_FAILED, "Cannot apply the changes of " + id + " through position "
                        + events.get(events.size() - 1).position() + ": the source deletes " + -entry.getValue().delta + " copies of a row silver holds "
                        + now + " of. Silver no longer matches the source; snapshot the table again");
            }
            deletes.addAll(held.subList(0, -entry.getValue().delta));
        }
        DataFiles files = new DataFiles(table);
        RowDelta delta = table.newRowDelta();
        DataFile written = rows.isEmpty() ? null : files.write(rows, null);
        if (written != null) {
            delta.addRows(written);
        }
        DeleteFile deleteFile = RowDeltas.removeRows(delta, files, deletes, base);
        RowDeltas.commit(catalog, table, SnapshotPositions.stamp(delta, pipeline, events.get(events.size() - 1).position()), written, deleteFile);
        return 1;
    }

    private static void change(Map<List<Object>, Change> changes, SilverProjection projection, Schema schema, ChangeEvent e, Row row, int delta) {
        if (row == null) {
            throw new TributaryException(ErrorCode.CONVERSION_FAILED, "Cannot apply the " + e.operation() + " of " + e.schema().table() + " at position "
                    + e.position() + " to silver: the table has no key and the event carries no old row. Run ALTER TABLE " + e.schema().table()
                    + " REPLICA IDENTITY FULL and snapshot the table again");
        }
        List<Object> values = new ArrayList<>();
        GenericRecord r = GenericRecord.create(schema);
        for (SilverProjection.Output o : projection.outputs()) {
            values.add(projection.keyValue(o, row));
            r.setField(o.name(), projection.value(o, row));
        }
        r.setField("_position", e.position().encoded());
        r.setField("_commit_ts", e.commitTimestamp().atOffset(ZoneOffset.UTC));
        Change c = changes.computeIfAbsent(values, v -> new Change());
        c.delta += delta;
        if (delta > 0 || c.image == null) {
            c.image = r;
        } else {
            c.image.setField("_position", e.position().encoded());
            c.image.setField("_commit_ts", e.commitTimestamp().atOffset(ZoneOffset.UTC));
        }
    }

    /** Where the copies of each changed row are in silver now; returns the snapshot read (null when nothing was read). */
    private static Long locate(Table table, SilverProjection projection, Map<List<Object>, Change> changes, Map<List<Object>, List<RowLocation>> out) {
        if (changes.isEmpty()) {
            return null;
        }
        table.refresh();
        Snapshot snapshot = table.currentSnapshot();
        if (snapshot == null) {
            return null;
        }
        Schema rowSchema = table.schema().select(projection.outputs().stream().map(SilverProjection.Output::name).toList());
        LiveRows.read(table, snapshot, rowSchema, Expressions.alwaysTrue(), (r, location) -> {
            List<Object> values = new ArrayList<>(projection.outputs().size());
            for (SilverProjection.Output o : projection.outputs()) {
                values.add(comparable(r.getField(o.name())));
            }
            if (changes.containsKey(values)) {
                out.computeIfAbsent(values, v -> new ArrayList<>()).add(location);
            }
        });
        return snapshot.snapshotId();
    }

    /** A value read back from Iceberg, in the form {@link SilverProjection#keyValue} gives (bytes as buffers). */
    private static Object comparable(Object value) {
        if (value instanceof ByteBuffer b) {
            return b.duplicate();
        }
        if (value instanceof byte[] b) {
            return ByteBuffer.wrap(b);
        }
        return value;
    }
}
