package io.tributary.lake.silver;

import io.tributary.config.TableOptions;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Row;
import io.tributary.spi.TableSchema;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import io.tributary.lake.scan.RowLocation;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * The versions one micro-batch writes to a keyed table's history (see {@link HistoryWriter}): the
 * open versions of the keys it touches before it (with their row locations), the versions it opens
 * and closes, and the locations of the committed versions it closes, which the micro-batch's
 * position delete file names.
 */
final class HistoryBatch {
    /**
     * A key's open version: committed before this micro-batch at {@code location} (closing it then
     * needs a position delete), or written by it as row {@code ordinal} of the micro-batch's data file.
     */
    static final class Version {
        final Record row;
        final RowLocation location;
        final int ordinal;

        private long valueBytes = -1;

        private Version(Record row, RowLocation location, int ordinal) {
            this.row = row;
            this.location = location;
            this.ordinal = ordinal;
        }

        static Version committed(Record row, RowLocation location) {
            return new Version(row, location, -1);
        }

        static Version written(Record row, int ordinal) {
            return new Version(row, null, ordinal);
        }

        boolean committed() {
            return location != null;
        }

        /** Whether the version is small enough to hold in the writer's cache and index ({@link HistoryWriter#MAX_CACHED_VALUE_BYTES}). */
        boolean cacheable() {
            if (valueBytes < 0) {
                valueBytes = HistoryWriter.valueBytes(row);
            }
            return valueBytes <= HistoryWriter.MAX_CACHED_VALUE_BYTES;
        }
    }

    final Table table;
    final Schema schema;
    final TableOptions options;
    final List<String> keyNames;
    /** The open version of each key before this batch, for keys the batch touches (every key for a batch with a truncate). */
    final Map<List<Object>, KeyIndex.Entry> before = new HashMap<>();
    /** The open version of each key the batch has touched so far. */
    final Map<List<Object>, Version> open = new LinkedHashMap<>();
    final List<Record> rows = new ArrayList<>();
    /** The locations of the committed versions this batch closes. */
    final List<RowLocation> deletes = new ArrayList<>();
    /** The snapshot the open versions read from the table were read at, when any were. */
    Long readAt;
    int read;
    private TableSchema projected;
    private ColumnPlacement placement;
    /** Positions in {@link #schema} of the key columns (in {@link #keyNames} order) and of the metadata columns. */
    private final int[] keyAt;
    private final int validFromAt;
    private final int validToAt;
    private final int isCurrentAt;
    private final int isDeletedAt;
    private final int opAt;
    private final int positionAt;
    private final int txIdAt;

    HistoryBatch(Table table, Schema schema, Table silver, TableOptions options) {
        this.table = table;
        this.schema = schema;
        this.options = options;
        this.keyNames = keyNames(silver);
        this.keyAt = keyNames.stream().mapToInt(k -> ColumnPlacement.position(schema, k)).toArray();
        this.validFromAt = ColumnPlacement.position(schema, "_valid_from");
        this.validToAt = ColumnPlacement.position(schema, "_valid_to");
        this.isCurrentAt = ColumnPlacement.position(schema, "_is_current");
        this.isDeletedAt = ColumnPlacement.position(schema, "_is_deleted");
        this.opAt = ColumnPlacement.position(schema, "_op");
        this.positionAt = ColumnPlacement.position(schema, "_position");
        this.txIdAt = ColumnPlacement.position(schema, "_tx_id");
    }

    /**
     * The key columns: silver's identifier fields, in silver's column order (the order of
     * {@link #key}). Silver is written before its history, so it knows the latest key (or beside it when
     * the batch cannot change the key, {@link HistoryWriter#keyUnchangedBy}).
     */
    static List<String> keyNames(Table silver) {
        Schema s = silver.schema();
        return s.columns().stream().filter(f -> s.identifierFieldIds().contains(f.fieldId())).map(Types.NestedField::name).toList();
    }

    private ColumnPlacement placement(TableSchema source) {
        if (source != projected) {
            placement = new ColumnPlacement(schema, new SilverProjection(source, options), options);
            projected = source;
        }
        return placement;
    }

    /** The key columns' fields, in the order of {@link #key}. */
    List<Types.NestedField> keyFields() {
        return keyNames.stream().map(schema::findField).toList();
    }

    void loadOpenVersions(List<ChangeEvent> events, HistoryWriter.OpenVersions cached, KeyIndex index) {
        boolean truncates = false;
        Set<List<Object>> touched = new LinkedHashSet<>();
        for (ChangeEvent e : events) {
            switch (e.operation()) {
                case READ, CREATE -> touched.add(key(e, e.after()));
                case UPDATE -> {
                    if (e.before() != null) {
                        List<Object> oldKey = key(e, e.before());
                        if (!oldKey.contains(null)) {
                            touched.add(oldKey);
                        }
                    }
                    touched.add(key(e, e.after()));
                }
                case DELETE -> touched.add(key(e, e.before()));
                case TRUNCATE -> truncates = true;
            }
        }
        if (table.currentSnapshot() == null || "0".equals(table.currentSnapshot().summary().getOrDefault("total-records", "0"))) {
            return;
        }
        if (truncates) {
            readOpen(Expressions.alwaysTrue(), null);
            return;
        }
        List<List<Object>> missing = new ArrayList<>();
        for (List<Object> key : index == null ? touched : KeyIndex.inIndexOrder(touched)) {
            KeyIndex.Entry e = cached.get(key);
            if (e != null) {
                before.put(key, e);
            } else if (index == null || index.lookup(key, held -> before.put(key, held)) == KeyIndex.Found.IN_TABLE_ONLY) {
                missing.add(key);
            }
        }
        if (!missing.isEmpty()) {
            // A filter on every key column prunes files by their column bounds; it may match more
            // keys than asked for (composite keys), which are left out below.
            Expression filter = Expressions.alwaysTrue();
            for (int i = 0; i < keyNames.size(); i++) {
                Types.NestedField field = schema.findField(keyNames.get(i));
                if (!FILTERABLE.contains(field.type().typeId())) {
                    continue;
                }
                List<Object> values = new ArrayList<>();
                for (List<Object> key : missing) {
                    values.add(literal(key.get(i), field));
                }
                filter = Expressions.and(filter, Expressions.in(keyNames.get(i), values));
                if (ORDERED.contains(field.type().typeId())) {
                    // Iceberg prunes files by an IN list of at most 200 values only; the range of
                    // the keys prunes them whatever their number (an initial snapshot reads keys
                    // in order, so each micro-batch's range misses the files written before).
                    @SuppressWarnings({"unchecked", "rawtypes"})
                    List<Comparable> ordered = (List) values;
                    filter = Expressions.and(filter, Expressions.and(
                            Expressions.greaterThanOrEqual(keyNames.get(i), java.util.Collections.min(ordered)),
                            Expressions.lessThanOrEqual(keyNames.get(i), java.util.Collections.max(ordered))));
                }
            }
            readOpen(filter, Set.copyOf(missing));
        }
    }

    private void readOpen(Expression keys, Set<List<Object>> wanted) {
        List<Types.NestedField> keyFields = keyFields();
        table.refresh();
        Snapshot snapshot = table.currentSnapshot();
        readAt = snapshot == null ? null : snapshot.snapshotId();
        LiveRows.read(table, snapshot, schema, Expressions.and(Expressions.isNull("_valid_to"), keys), (r, location) -> {
            read++;
            List<Object> key = KeyIndex.key(r, keyFields);
            if (wanted == null || wanted.contains(key)) {
                // A key's versions are closed in position order: of two open ones the later is its open version.
                KeyIndex.Entry previous = before.get(key);
                String position = (String) r.getField("_position");
                if (previous == null || previous.position().compareTo(position) < 0) {
                    before.put(key, new KeyIndex.Entry(location, position, r));
                }
            }
        });
    }

    void apply(ChangeEvent e, ChangeEvent next) {
        OffsetDateTime at = e.commitTimestamp().atOffset(ZoneOffset.UTC);
        switch (e.operation()) {
            case READ, CREATE -> {
                List<Object> key = key(e, e.after());
                add(key, image(e, e.after()), e, close(key, at), false);
            }
            case UPDATE -> {
                List<Object> key = key(e, e.after());
                if (e.before() != null) {
                    List<Object> oldKey = key(e, e.before());
                    if (!oldKey.equals(key) && !oldKey.contains(null)) {
                        add(oldKey, lastKnown(oldKey, image(e, e.before())), e, close(oldKey, at), true);
                    }
                }
                add(key, image(e, e.after()), e, close(key, at), false);
            }
            case DELETE -> {
                List<Object> key = key(e, e.before());
                add(key, lastKnown(key, image(e, e.before())), e, close(key, at), true);
            }
            case TRUNCATE -> {
                // A reset before a restarted initial snapshot shares its position with the first
                // read: that read closes its key's version itself, so no two versions of a key
                // share a position.
                List<Object> readAtSamePosition = next != null && next.operation() == ChangeOperation.READ && next.position().equals(e.position())
                        ? key(next, next.after()) : null;
                Set<List<Object>> keys = new LinkedHashSet<>(before.keySet());
                keys.addAll(open.keySet());
                for (List<Object> key : keys) {
                    Version v = version(key);
                    if (v != null && Boolean.TRUE.equals(v.row.getField("_is_current")) && !key.equals(readAtSamePosition)) {
                        Record image = v.row.copy();
                        add(key, image, e, close(key, at), true);
                    }
                }
            }
        }
    }

    private Version version(List<Object> key) {
        Version v = open.get(key);
        if (v == null) {
            KeyIndex.Entry e = before.get(key);
            if (e != null) {
                v = Version.committed(e.row(), e.location());
                open.put(key, v);
            }
        }
        return v;
    }

    /** Closes the key's open version, if any, at {@code at} (or at its start, if later); returns the time the next version starts. */
    private OffsetDateTime close(List<Object> key, OffsetDateTime at) {
        Version v = version(key);
        if (v == null) {
            return at;
        }
        OffsetDateTime from = (OffsetDateTime) v.row.get(validFromAt);
        OffsetDateTime end = at.isBefore(from) ? from : at;
        Record closed = v.committed() ? v.row.copy() : v.row;
        closed.set(validToAt, end);
        closed.set(isCurrentAt, false);
        if (v.committed()) {
            deletes.add(v.location);
            rows.add(closed);
        }
        open.remove(key);
        return end;
    }

    /**
     * A tombstone's image: the deleted row's values as the delete carries them, and where it carries
     * none (under REPLICA IDENTITY DEFAULT only the key) those of the key's open version, which the
     * delete closes: the row's last known values.
     */
    private Record lastKnown(List<Object> key, Record image) {
        Version v = version(key);
        if (v != null && !Boolean.TRUE.equals(v.row.get(isDeletedAt))) {
            for (int i = 0; i < image.size(); i++) {
                if (image.get(i) == null) {
                    image.set(i, v.row.get(i));
                }
            }
        }
        return image;
    }

    /** Opens a version of the key with the columns of {@code image} (a history record whose metadata is overwritten here). */
    private void add(List<Object> key, Record image, ChangeEvent e, OffsetDateTime from, boolean tombstone) {
        image.set(validFromAt, from);
        image.set(validToAt, null);
        image.set(isCurrentAt, !tombstone);
        image.set(isDeletedAt, tombstone);
        image.set(opAt, e.operation().code());
        image.set(positionAt, e.position().encoded());
        image.set(txIdAt, e.transactionId());
        open.put(key, Version.written(image, rows.size()));
        rows.add(image);
    }

    /** A history record with the silver columns of {@code row}. */
    private Record image(ChangeEvent e, Row row) {
        return placement(e.schema()).record(row);
    }

    private List<Object> key(ChangeEvent e, Row row) {
        SilverProjection p = placement(e.schema()).projection();
        List<Object> key = new ArrayList<>(keyNames.size());
        for (SilverProjection.Output o : p.outputs()) {
            if (o.required()) {
                key.add(HistoryWriter.normalized(p.keyValue(o, row)));
            }
        }
        return key;
    }

    /**
     * Key column types whose values are Iceberg expression literals as they are; a key column of
     * another type is looked up without a filter on it. UUID is left out: Iceberg 1.6's Parquet
     * row-group filter failed on an {@code in} predicate over a UUID column (ClassCastException in
     * ParquetMetricsRowGroupFilter), and Iceberg 1.12 compares UUID literals signed against bounds
     * in unsigned byte order (apache/iceberg#14216), pruning files that hold the key; so a
     * UUID-keyed table reads all its open versions per lookup that misses the key index.
     */
    private static final Set<Type.TypeID> FILTERABLE = Set.of(Type.TypeID.INTEGER, Type.TypeID.LONG, Type.TypeID.STRING,
            Type.TypeID.BINARY, Type.TypeID.DECIMAL, Type.TypeID.BOOLEAN);

    /** Key column types whose literal values compare in Java as Iceberg orders them. */
    private static final Set<Type.TypeID> ORDERED = Set.of(Type.TypeID.INTEGER, Type.TypeID.LONG, Type.TypeID.DECIMAL);

    /** A normalized key value as an Iceberg expression literal for {@code field}. */
    private static Object literal(Object value, Types.NestedField field) {
        return switch (field.type().typeId()) {
            case INTEGER -> value instanceof Long l ? Integer.valueOf(Math.toIntExact(l)) : value;
            default -> value;
        };
    }
}
