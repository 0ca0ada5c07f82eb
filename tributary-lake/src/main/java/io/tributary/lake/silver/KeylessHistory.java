package io.tributary.lake.silver;

import io.tributary.config.TableOptions;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import io.tributary.lake.catalog.RowDeltas;
import io.tributary.lake.scan.RowLocation;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The history of a table without a key (REPLICA IDENTITY FULL), where identical rows are counted
 * (see {@link KeylessUpsert}): each row instance is a version. An insert or snapshot read opens an
 * instance; a delete closes the oldest open instance with the deleted image (no tombstone: the
 * instance has no identity a later insert could continue); an update closes one instance of the
 * old image and opens one of the new ({@code _op = u}); a truncate closes every open instance.
 * {@code _is_deleted} is always false, {@code _is_current} means open. An instance is identified
 * by its {@code _position}, unique in the table; closing one removes its row by position (a
 * position delete file) and writes it again closed. A micro-batch that deletes, updates or
 * truncates reads every open instance of the table with its location first (one scan, like
 * silver's search for copies); inserts cost none. The row delta is validated from the snapshot
 * read, and redone when a concurrent compaction removed a file it deletes from ({@link RowDeltas}).
 */
final class KeylessHistory {
    private static final Logger LOG = LoggerFactory.getLogger(KeylessHistory.class);

    private KeylessHistory() {
    }

    /** An open instance, and where it is when it was committed before this micro-batch (closing it then needs a delete). */
    private record Instance(Record row, RowLocation location) {
        boolean committed() {
            return location != null;
        }
    }

    private record Located(Record row, RowLocation location) {
    }

    static int apply(LakeCatalog catalog, String pipeline, Table table, List<ChangeEvent> events, TableOptions options) {
        return RowDeltas.redoWhileRowsMove(table.name(), () -> { }, () -> applyOnce(catalog, pipeline, table, events, options));
    }

    private static int applyOnce(LakeCatalog catalog, String pipeline, Table table, List<ChangeEvent> events, TableOptions options) {
        Schema schema = table.schema();
        List<Types.NestedField> columns = schema.columns().stream().filter(f -> !HistoryWriter.METADATA.contains(f.name())).toList();
        Map<List<Object>, Deque<Instance>> open = new HashMap<>();
        boolean closes = events.stream().anyMatch(e -> e.operation() != ChangeOperation.READ && e.operation() != ChangeOperation.CREATE);
        boolean empty = table.currentSnapshot() == null || "0".equals(table.currentSnapshot().summary().getOrDefault("total-records", "0"));
        Long base = null;
        if (closes && !empty) {
            List<Located> committed = new ArrayList<>();
            table.refresh();
            Snapshot snapshot = table.currentSnapshot();
            base = snapshot.snapshotId();
            LiveRows.read(table, snapshot, schema, Expressions.isNull("_valid_to"), (r, location) -> committed.add(new Located(r, location)));
            committed.sort(Comparator.comparing(l -> (String) l.row().getField("_position")));
            for (Located l : committed) {
                open.computeIfAbsent(values(l.row(), columns), v -> new ArrayDeque<>()).addLast(new Instance(l.row(), l.location()));
            }
        }
        List<Record> rows = new ArrayList<>();
        List<RowLocation> deletes = new ArrayList<>();
        TableSchema projected = null;
        ColumnPlacement placement = null;
        for (ChangeEvent e : events) {
            if (e.operation() != ChangeOperation.TRUNCATE && e.schema() != projected) {
                placement = new ColumnPlacement(schema, new SilverProjection(e.schema(), options), options);
                projected = e.schema();
            }
            OffsetDateTime at = e.commitTimestamp().atOffset(ZoneOffset.UTC);
            switch (e.operation()) {
                case READ, CREATE -> open(open, rows, columns, placement.record(e.after()), e, at);
                case UPDATE -> {
                    OffsetDateTime from = close(open, rows, deletes, columns, image(placement, e, e.before()), at);
                    open(open, rows, columns, placement.record(e.after()), e, from);
                }
                case DELETE -> close(open, rows, deletes, columns, image(placement, e, e.before()), at);
                case TRUNCATE -> {
                    for (Deque<Instance> instances : open.values()) {
                        while (!instances.isEmpty()) {
                            closeFirst(instances, rows, deletes, at);
                        }
                    }
                }
            }
        }
        if (rows.isEmpty()) {
            return 0;
        }
        DataFiles files = new DataFiles(table);
        DataFile written = files.write(rows, null);
        RowDelta delta = table.newRowDelta().addRows(written);
        DeleteFile deleteFile = RowDeltas.removeRows(delta, files, deletes, base);
        RowDeltas.commit(catalog, table, SnapshotPositions.stamp(delta, pipeline, events.get(events.size() - 1).position()), written, deleteFile);
        return 1;
    }

    private static Record image(ColumnPlacement placement, ChangeEvent e, Row row) {
        if (row == null) {
            throw new TributaryException(ErrorCode.CONVERSION_FAILED, "Cannot apply the " + e.operation() + " of " + e.schema().table() + " at position "
                    + e.position() + " to the history: the table has no key and the event carries no old row. Run ALTER TABLE " + e.schema().table()
                    + " REPLICA IDENTITY FULL and snapshot the table again");
        }
        return placement.record(row);
    }

    private static void open(Map<List<Object>, Deque<Instance>> open, List<Record> rows, List<Types.NestedField> columns, Record r, ChangeEvent e,
                             OffsetDateTime from) {
        r.setField("_valid_from", from);
        r.setField("_valid_to", null);
        r.setField("_is_current", true);
        r.setField("_is_deleted", false);
        r.setField("_op", e.operation().code());
        r.setField("_position", e.position().encoded());
        r.setField("_tx_id", e.transactionId());
        rows.add(r);
        open.computeIfAbsent(values(r, columns), v -> new ArrayDeque<>()).addLast(new Instance(r, null));
    }

    /** Closes the oldest open instance of the image; returns when the next version starts. */
    private static OffsetDateTime close(Map<List<Object>, Deque<Instance>> open, List<Record> rows, List<RowLocation> deletes,
                                        List<Types.NestedField> columns, Record image, OffsetDateTime at) {
        Deque<Instance> instances = open.get(values(image, columns));
        if (instances == null || instances.isEmpty()) {
            // The history started after this row was written (it was enabled later): nothing to close.
            LOG.debug("No open version of a deleted row in the history; nothing closed");
            return at;
        }
        return closeFirst(instances, rows, deletes, at);
    }

    private static OffsetDateTime closeFirst(Deque<Instance> instances, List<Record> rows, List<RowLocation> deletes, OffsetDateTime at) {
        Instance instance = instances.removeFirst();
        OffsetDateTime from = (OffsetDateTime) instance.row().getField("_valid_from");
        OffsetDateTime end = at.isBefore(from) ? from : at;
        Record closed = instance.committed() ? instance.row().copy() : instance.row();
        closed.setField("_valid_to", end);
        closed.setField("_is_current", false);
        if (instance.committed()) {
            deletes.add(instance.location());
            rows.add(closed);
        }
        return end;
    }

    /** The row's silver values, comparable whether built from an event or read from the table. */
    private static List<Object> values(Record r, List<Types.NestedField> columns) {
        List<Object> out = new ArrayList<>(columns.size());
        for (Types.NestedField f : columns) {
            out.add(HistoryWriter.normalized(r.getField(f.name()), f.type()));
        }
        return out;
    }
}
