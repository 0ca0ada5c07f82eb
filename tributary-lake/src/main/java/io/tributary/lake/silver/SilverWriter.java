package io.tributary.lake.silver;

import io.tributary.config.TableOptions;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.SchemaEvolution;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Row;
import io.tributary.spi.TableSchema;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.catalog.RowDeltas;
import io.tributary.lake.scan.RowLocation;
import io.tributary.spi.SourcePosition;
import java.util.HashMap;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Types;

/**
 * Applies change events to {@code silver.<table>}, the current state per primary key, as upserts:
 * per micro-batch the last image of every touched key, one position delete file naming the current
 * row of every touched key that has one, and one data file with the surviving rows, committed as
 * one row delta (Iceberg spec, "Position Delete Files"). Where each key's row lives comes from the
 * table's {@link KeyIndex} (a cache of the table on local disk, looked up once per key per
 * micro-batch and updated after the commit: row {@code i} of the new data file is at position
 * {@code i}); without an index, from one read of the table filtered on the batch's keys. A commit
 * that a concurrent compaction invalidated is redone with the locations read again
 * ({@link RowDeltas}). A TRUNCATE ends a segment and removes every data file. Tables without a key:
 * {@link KeylessUpsert}.
 */
public final class SilverWriter {

    private final LakeCatalog catalog;
    private final String pipeline;
    private final KeyIndexes indexes;

    /** @param indexFolder where the tables' key indexes are kept (process-local state, see {@code LakeConfig#stateDir}) */
    public SilverWriter(LakeCatalog catalog, String pipeline, java.nio.file.Path indexFolder) {
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.indexes = new KeyIndexes(indexFolder, KeyIndex.Kind.ROWS);
    }

    /**
     * Closes the key index of table {@code id} without changing it, so another process may open
     * it (a lake worker that took the table over); the next use opens it again, checked against the table.
     */
    public void releaseIndex(org.apache.iceberg.catalog.TableIdentifier id) {
        indexes.handOver(id);
    }

    /** Closes the key indexes. */
    public void close() {
        indexes.closeAll();
    }

    public static Schema schema(SilverProjection projection) {
        List<Types.NestedField> fields = new ArrayList<>();
        Set<Integer> identifiers = new HashSet<>();
        AtomicInteger ids = new AtomicInteger();
        for (SilverProjection.Output o : projection.outputs()) {
            int id = ids.incrementAndGet();
            fields.add(o.required() ? Types.NestedField.required(id, o.name(), o.type()) : Types.NestedField.optional(id, o.name(), o.type()));
            if (o.required()) {
                identifiers.add(id);
            }
        }
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_position", Types.StringType.get()));
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_commit_ts", Types.TimestampType.withZone()));
        return new Schema(fields, identifiers);
    }

    /** Applies the events (all of one table, ascending position) and commits; returns the number of commits made. */
    public int apply(TableIdentifier id, List<ChangeEvent> events, TableOptions options) {
        List<ChangeEvent> segment = new ArrayList<>();
        int commits = 0;
        for (ChangeEvent e : events) {
            if (e.operation() == ChangeOperation.TRUNCATE) {
                if (!segment.isEmpty()) {
                    commits += upsert(id, segment, options);
                    segment.clear();
                }
                commits += truncate(id, e);
            } else {
                segment.add(e);
            }
        }
        if (!segment.isEmpty()) {
            commits += upsert(id, segment, options);
        }
        return commits;
    }

    private int truncate(TableIdentifier id, ChangeEvent e) {
        var loaded = catalog.load(id);
        if (loaded.isEmpty()) {
            return 0;
        }
        Table table = loaded.get();
        catalog.commit(SnapshotPositions.stamp(table.newDelete().deleteFromRowFilter(Expressions.alwaysTrue()), pipeline, e.position()));
        // Built again, empty, from the table on next use.
        indexes.release(id);
        return 1;
    }

    private int upsert(TableIdentifier id, List<ChangeEvent> events, TableOptions options) {
        if (!events.get(0).schema().hasKey()) {
            return KeylessUpsert.apply(catalog, pipeline, id, events, options);
        }
        // A commit (a compaction) may remove a data file holding a row this batch replaces.
        return RowDeltas.redoWhileRowsMove(id, () -> indexes.release(id), () -> upsertKeyed(id, events, options));
    }

    private int upsertKeyed(TableIdentifier id, List<ChangeEvent> events, TableOptions options) {
        Table table = null;
        SilverProjection projection = null;
        TableSchema last = null;
        // The table follows every schema of the events first, so all rows are built for its final schema.
        Map<String, String> renamedFrom = new LinkedHashMap<>();
        options.renamedFrom().forEach((now, before) -> renamedFrom.put(silverName(now, options), silverName(before, options)));
        for (ChangeEvent e : events) {
            if (e.schema() != last) {
                table = catalog.ensure(id, schema(new SilverProjection(e.schema(), options)), s -> PartitionSpec.unpartitioned(),
                        new SchemaEvolution(e.table(), Set.of("_position", "_commit_ts"), renamedFrom, e.position()));
                last = e.schema();
            }
        }
        last = null;
        Map<List<Object>, Record> latest = new LinkedHashMap<>();
        ColumnPlacement placement = null;
        int positionAt = ColumnPlacement.position(table.schema(), "_position");
        int commitTsAt = ColumnPlacement.position(table.schema(), "_commit_ts");
        for (ChangeEvent e : events) {
            if (e.schema() != last) {
                projection = new SilverProjection(e.schema(), options);
                placement = new ColumnPlacement(table.schema(), projection, options);
                last = e.schema();
            }
            switch (e.operation()) {
                case READ, CREATE -> put(latest, placement, e, e.after(), positionAt, commitTsAt);
                case UPDATE -> {
                    if (e.before() != null) {
                        List<Object> oldKey = key(projection, e.before());
                        if (!oldKey.equals(key(projection, e.after())) && !oldKey.contains(null)) {
                            latest.put(oldKey, null);
                        }
                    }
                    put(latest, placement, e, e.after(), positionAt, commitTsAt);
                }
                case DELETE -> latest.put(key(projection, e.before()), null);
                case TRUNCATE -> throw new IllegalStateException("truncate handled by apply");
            }
        }
        Schema schema = table.schema();
        List<Types.NestedField> keyFields = projection.keyNames().stream().map(schema::findField).toList();
        boolean empty = table.currentSnapshot() == null || "0".equals(table.currentSnapshot().summary().getOrDefault("total-records", "0"));
        KeyIndex index = empty ? null : indexes.get(id, table, schema, keyFields);
        Map<List<Object>, RowLocation> current = new HashMap<>();
        Long base = null;
        if (!empty) {
            List<List<Object>> keys = new ArrayList<>(latest.size());
            latest.keySet().forEach(k -> keys.add(normalized(k, keyFields)));
            if (index != null) {
                try {
                    for (List<Object> key : KeyIndex.inIndexOrder(keys)) {
                        index.lookup(key, entry -> current.put(key, entry.location()));
                    }
                    base = index.snapshotId();
                } catch (KeyIndex.Failure f) {
                    indexes.drop(id, f.getCause());
                    index = null;
                    current.clear();
                }
            }
            if (index == null) {
                base = readLocations(table, schema, keyFields, keys, current);
            }
        }
        List<Record> rows = new ArrayList<>();
        List<List<Object>> rowKeys = new ArrayList<>();
        Map<List<Object>, KeyIndex.Entry> changed = new LinkedHashMap<>();
        List<RowLocation> deletes = new ArrayList<>();
        for (Map.Entry<List<Object>, Record> entry : latest.entrySet()) {
            List<Object> key = normalized(entry.getKey(), keyFields);
            RowLocation old = current.get(key);
            if (old != null) {
                deletes.add(old);
            }
            if (entry.getValue() != null) {
                rowKeys.add(key);
                rows.add(entry.getValue());
            } else {
                changed.put(key, null);
            }
        }
        DataFiles files = new DataFiles(table);
        RowDelta delta = table.newRowDelta();
        DataFile written = rows.isEmpty() ? null : files.write(rows, null);
        if (written != null) {
            delta.addRows(written);
        }
        DeleteFile deleteFile = RowDeltas.removeRows(delta, files, deletes, base);
        SourcePosition position = events.get(events.size() - 1).position();
        Snapshot committed = RowDeltas.commit(catalog, table, SnapshotPositions.stamp(delta, pipeline, position), written, deleteFile);
        for (int i = 0; i < rowKeys.size(); i++) {
            changed.put(rowKeys.get(i), new KeyIndex.Entry(new RowLocation(written.path().toString(), i), null, null));
        }
        if (index != null) {
            if (!RowDeltas.follows(committed, base)) {
                // Another commit (a compaction) landed in between: other keys' rows may have moved.
                indexes.release(id);
            } else {
                try {
                    index.update(changed, false, position, committed.snapshotId());
                } catch (RuntimeException | AssertionError e) {
                    indexes.drop(id, e);
                }
            }
        }
        return 1;
    }

    /**
     * Reads the locations of the rows of {@code keys} from the table (without an index); returns
     * the snapshot read.
     */
    private static Long readLocations(Table table, Schema schema, List<Types.NestedField> keyFields, List<List<Object>> keys,
                                      Map<List<Object>, RowLocation> out) {
        table.refresh();
        Snapshot snapshot = table.currentSnapshot();
        java.util.Set<List<Object>> wanted = new java.util.HashSet<>(keys);
        Schema keySchema = TypeUtil.select(schema, new java.util.HashSet<>(keyFields.stream().map(Types.NestedField::fieldId).toList()));
        LiveRows.read(table, snapshot, keySchema, Expressions.alwaysTrue(), (r, location) -> {
            List<Object> key = KeyIndex.key(r, keyFields);
            if (wanted.contains(key)) {
                out.put(key, location);
            }
        });
        return snapshot == null ? -1L : snapshot.snapshotId();
    }

    /** A key as the index holds it ({@link HistoryWriter#normalized}). */
    private static List<Object> normalized(List<Object> key, List<Types.NestedField> keyFields) {
        List<Object> out = new ArrayList<>(key.size());
        for (int i = 0; i < key.size(); i++) {
            out.add(HistoryWriter.normalized(key.get(i), keyFields.get(i).type()));
        }
        return out;
    }

    private static List<Object> key(SilverProjection projection, Row row) {
        List<Object> key = new ArrayList<>();
        for (SilverProjection.Output o : projection.outputs()) {
            if (o.required()) {
                key.add(projection.keyValue(o, row));
            }
        }
        return key;
    }

    /** The silver name of a source column: its configured rename, or its snake_case name. */
    static String silverName(String sourceColumn, TableOptions options) {
        return options.renames().getOrDefault(sourceColumn, io.tributary.lake.layout.TableNames.snakeCase(sourceColumn));
    }

    /** The name a renamed column has now, given the silver name it had before. */
    static String renamedTo(String before, Schema schema, TableOptions options) {
        return options.renamedFrom().entrySet().stream().filter(r -> silverName(r.getValue(), options).equals(before))
                .map(r -> silverName(r.getKey(), options)).filter(n -> schema.findField(n) != null).findFirst()
                .orElseThrow(() -> new IllegalStateException("Column " + before + " is not in silver and no rename maps it"));
    }

    private static void put(Map<List<Object>, Record> latest, ColumnPlacement placement, ChangeEvent e, Row row, int positionAt, int commitTsAt) {
        Record r = placement.record(row);
        r.set(positionAt, e.position().encoded());
        r.set(commitTsAt, e.commitTimestamp().atOffset(ZoneOffset.UTC));
        List<Object> key = key(placement.projection(), row);
        latest.remove(key);
        latest.put(key, r);
    }
}
