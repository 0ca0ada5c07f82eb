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
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Types;

/**
 * Applies change events to {@code silver.<table>}, the current state per primary key, as upserts:
 * per micro-batch the last image of every touched key, one equality delete file on the key columns
 * for every touched key, and one data file with the surviving rows, committed as one row delta
 * (Iceberg spec, "Row-level Deletes": an equality delete applies to data files of lower sequence
 * numbers, so the new rows of the same commit survive). A TRUNCATE ends a segment and deletes every row.
 */
public final class SilverWriter {
    private final LakeCatalog catalog;
    private final String pipeline;

    public SilverWriter(LakeCatalog catalog, String pipeline) {
        this.catalog = catalog;
        this.pipeline = pipeline;
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
        return 1;
    }

    private int upsert(TableIdentifier id, List<ChangeEvent> events, TableOptions options) {
        if (!events.get(0).schema().hasKey()) {
            return KeylessUpsert.apply(catalog, pipeline, id, events, options);
        }
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
        Schema keySchema = schema.select(projection.keyNames());
        boolean empty = table.currentSnapshot() == null
                || "0".equals(table.currentSnapshot().summary().getOrDefault("total-records", "0"))
                && "0".equals(table.currentSnapshot().summary().getOrDefault("total-equality-deletes", "0"));
        List<Record> rows = new ArrayList<>();
        List<Record> deletes = new ArrayList<>();
        GenericRecord keyTemplate = GenericRecord.create(keySchema);
        int[] keyAt = projection.keyNames().stream().mapToInt(k -> ColumnPlacement.position(keySchema, k)).toArray();
        for (Map.Entry<List<Object>, Record> entry : latest.entrySet()) {
            if (!empty || entry.getValue() == null) {
                Record k = keyTemplate.copy();
                for (int i = 0; i < keyAt.length; i++) {
                    k.set(keyAt[i], io.tributary.lake.layout.IcebergTypes.toIcebergValue(entry.getKey().get(i)));
                }
                deletes.add(k);
            }
            if (entry.getValue() != null) {
                rows.add(entry.getValue());
            }
        }
        DataFiles files = new DataFiles(table);
        RowDelta delta = table.newRowDelta();
        if (!deletes.isEmpty() && !empty) {
            delta.addDeletes(files.writeEqualityDeletes(keySchema, deletes));
        }
        if (!rows.isEmpty()) {
            delta.addRows(files.write(rows, null));
        }
        catalog.commit(SnapshotPositions.stamp(delta, pipeline, events.get(events.size() - 1).position()));
        return 1;
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
