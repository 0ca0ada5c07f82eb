package io.tributary.lake.silver;

import io.tributary.config.TableOptions;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.catalog.SchemaEvolution;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.layout.IcebergTypes;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes {@code silver.<table>_history}, the SCD type 2 history of a keyed source table: every
 * version of every row, with the silver columns (same names, types and order, all optional) followed
 * by {@code _valid_from} and {@code _valid_to} (source commit times, timestamptz; {@code _valid_to}
 * null while the version is open), {@code _is_current}, {@code _is_deleted}, and the {@code _op},
 * {@code _position} and {@code _tx_id} of the change that created the version.
 *
 * <p>A version is valid at instant T when {@code _valid_from <= T AND (_valid_to IS NULL OR _valid_to > T)};
 * the row existed then if that version is not a tombstone ({@code NOT _is_deleted}). Per key the
 * versions chain without gap or overlap (each {@code _valid_to} is the next {@code _valid_from}),
 * ordered by ({@code _valid_from}, {@code _position}); exactly one is open, at most one is current.
 * An insert or snapshot read closes the key's open version (a tombstone, or the version an earlier
 * initial snapshot read) and opens one; an update closes and opens; a delete closes and opens a
 * tombstone (the delete's row image, at least the key); a primary-key change is an update that
 * leaves a tombstone under the old key; a truncate tombstones every current key. A change whose
 * commit time is before its key's open version's {@code _valid_from} (a change committed while an
 * initial snapshot was reading) takes that {@code _valid_from}, so versions never run backwards.
 *
 * <p>Per micro-batch, one Iceberg row delta: an equality delete on (key columns, {@code _position})
 * for every version committed earlier that the batch closes, and one data file with those versions
 * re-written closed plus every version the batch opens (Iceberg spec, "Row-level Deletes": an equality
 * delete applies only to data files of lower data sequence numbers, so the rows of the same commit
 * survive). The open versions of keys the batch touches come from a bounded cache of the versions
 * this writer committed, else from one read of the table per micro-batch filtered on the keys
 * (a batch with a truncate reads every open version); an empty table needs no read. Not thread-safe
 * per table: one writer thread per table at a time.
 *
 * <p>The silver reset before a (re)started initial snapshot reaches the history as a truncate at
 * the first read's position: every current version is closed and tombstoned ({@code _op = t}),
 * except the first read's own key, which that read closes; each read then closes its key's
 * tombstone and opens an {@code r} version, so keys the new snapshot does not find stay deleted.
 * Tables without a key are versioned per row instance, see {@link KeylessHistory}.
 */
public final class HistoryWriter {
    private static final Logger LOG = LoggerFactory.getLogger(HistoryWriter.class);

    /** The history table of {@code silver.<table>} is {@code silver.<table>}{@value #SUFFIX}. */
    public static final String SUFFIX = io.tributary.lake.layout.TableNames.HISTORY_SUFFIX;
    public static final List<String> METADATA = List.of("_valid_from", "_valid_to", "_is_current", "_is_deleted", "_op", "_position", "_tx_id");
    /** A history record of {@code schema} with the silver columns of {@code row}; the metadata columns are left unset. */
    static Record image(Schema schema, SilverProjection p, Row row, TableOptions options) {
        GenericRecord r = GenericRecord.create(schema);
        for (SilverProjection.Output o : p.outputs()) {
            Types.NestedField field = schema.findField(o.name());
            if (field == null) {
                // A column of a schema older than its rename: the table knows it by its new name.
                field = schema.findField(SilverWriter.renamedTo(o.name(), schema, options));
            }
            r.setField(field.name(), IcebergTypes.toIcebergValue(p.keyValue(o, row), field.type()));
        }
        return r;
    }

    /** Open versions kept per table, so hot keys need no read of the table. */
    static final int CACHED_VERSIONS = 50_000;

    private final LakeCatalog catalog;
    private final String pipeline;
    private final Map<TableIdentifier, OpenVersions> cache = new ConcurrentHashMap<>();

    public HistoryWriter(LakeCatalog catalog, String pipeline) {
        this.catalog = catalog;
        this.pipeline = pipeline;
    }

    /** The history table of a silver table. */
    public static TableIdentifier historyOf(TableIdentifier silver) {
        return TableIdentifier.of(silver.namespace(), silver.name() + SUFFIX);
    }

    /** The silver columns of {@code projection}, all optional, then {@link #METADATA}; no identifier fields (many versions per key). */
    public static Schema schema(SilverProjection projection) {
        List<Types.NestedField> fields = new ArrayList<>();
        AtomicInteger ids = new AtomicInteger();
        for (SilverProjection.Output o : projection.outputs()) {
            fields.add(Types.NestedField.optional(ids.incrementAndGet(), o.name(), o.type()));
        }
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_valid_from", Types.TimestampType.withZone()));
        fields.add(Types.NestedField.optional(ids.incrementAndGet(), "_valid_to", Types.TimestampType.withZone()));
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_is_current", Types.BooleanType.get()));
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_is_deleted", Types.BooleanType.get()));
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_op", Types.StringType.get()));
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_position", Types.StringType.get()));
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_tx_id", Types.LongType.get()));
        return new Schema(fields);
    }

    /**
     * Applies the events of one keyed table (ascending position, after what the history table
     * committed) to its history table and commits them in one row delta stamped with the last
     * event's position.
     *
     * @return the number of commits made: 0 when nothing changed, else 1
     * @throws TributaryException LAKE_IO_FAILED when the open versions cannot be read
     */
    public int apply(TableIdentifier silverId, List<ChangeEvent> events, TableOptions options) {
        TableIdentifier id = historyOf(silverId);
        try {
            return write(silverId, id, events, options);
        } catch (RuntimeException e) {
            // The cache may now be ahead of the table (or behind): the next batch reads the table.
            cache.remove(id);
            throw e;
        }
    }

    private int write(TableIdentifier silverId, TableIdentifier id, List<ChangeEvent> events, TableOptions options) {
        Map<String, String> renamedFrom = new LinkedHashMap<>();
        options.renamedFrom().forEach((now, before) -> renamedFrom.put(SilverWriter.silverName(now, options), SilverWriter.silverName(before, options)));
        Table table = null;
        TableSchema last = null;
        for (ChangeEvent e : events) {
            if (e.schema() != last && e.operation() != ChangeOperation.TRUNCATE) {
                table = catalog.ensure(id, schema(new SilverProjection(e.schema(), options)), s -> PartitionSpec.unpartitioned(),
                        new SchemaEvolution(e.table(), Set.copyOf(METADATA), renamedFrom, e.position()));
                last = e.schema();
            }
        }
        if (table == null) {
            // Only truncates: without a table there is no version to close.
            table = catalog.load(id).orElse(null);
            if (table == null) {
                return 0;
            }
        }
        Schema schema = table.schema();
        Table silver = catalog.load(silverId).orElse(null);
        if (silver == null) {
            return 0;
        }
        if (silver.schema().identifierFieldIds().isEmpty()) {
            return KeylessHistory.apply(catalog, pipeline, table, events, options);
        }
        Batch batch = new Batch(table, schema, silver, options);
        OpenVersions cached = cache.computeIfAbsent(id, t -> new OpenVersions());
        cached.follow(schema.schemaId());
        long started = System.nanoTime();
        batch.loadOpenVersions(events, cached);
        long lookedUp = System.nanoTime();
        for (int i = 0; i < events.size(); i++) {
            batch.apply(events.get(i), i + 1 < events.size() ? events.get(i + 1) : null);
        }
        if (batch.rows.isEmpty()) {
            return 0;
        }
        DataFiles files = new DataFiles(table);
        RowDelta delta = table.newRowDelta();
        if (!batch.deletes.isEmpty()) {
            delta.addDeletes(files.writeEqualityDeletes(batch.deleteSchema, batch.deletes));
        }
        delta.addRows(files.write(batch.rows, null));
        catalog.commit(SnapshotPositions.stamp(delta, pipeline, events.get(events.size() - 1).position()));
        batch.open.forEach((key, version) -> cached.put(key, version.row));
        LOG.debug("History {}: {} version(s) written, {} committed ones closed, {} open version(s) read in {} ms, {} ms in all", id, batch.rows.size(),
                batch.deletes.size(), batch.read, (lookedUp - started) / 1_000_000, (System.nanoTime() - started) / 1_000_000);
        return 1;
    }

    /** The open versions this writer committed, most recently used last, bounded. */
    private static final class OpenVersions extends LinkedHashMap<List<Object>, Record> {
        private int schemaId = -1;

        OpenVersions() {
            super(1024, 0.75f, true);
        }

        /** Drops the versions built for an older schema of the table. */
        void follow(int tableSchemaId) {
            if (tableSchemaId != schemaId) {
                clear();
                schemaId = tableSchemaId;
            }
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<List<Object>, Record> eldest) {
            return size() > CACHED_VERSIONS;
        }
    }

    /** A key's open version, and whether it was committed before this micro-batch (closing it then needs a delete). */
    private static final class Version {
        final Record row;
        final boolean committed;

        Version(Record row, boolean committed) {
            this.row = row;
            this.committed = committed;
        }
    }

    /** The versions one micro-batch writes. */
    private static final class Batch {
        final Table table;
        final Schema schema;
        final TableOptions options;
        final List<String> keyNames;
        final Schema deleteSchema;
        /** The open version of each key before this batch, for keys the batch touches (every key for a batch with a truncate). */
        final Map<List<Object>, Record> before = new HashMap<>();
        /** The open version of each key the batch has touched so far. */
        final Map<List<Object>, Version> open = new LinkedHashMap<>();
        final List<Record> rows = new ArrayList<>();
        final List<Record> deletes = new ArrayList<>();
        int read;
        private TableSchema projected;
        private SilverProjection projection;

        Batch(Table table, Schema schema, Table silver, TableOptions options) {
            this.table = table;
            this.schema = schema;
            this.options = options;
            this.keyNames = keyNames(silver);
            List<String> deleteColumns = new ArrayList<>(keyNames);
            deleteColumns.add("_position");
            this.deleteSchema = schema.select(deleteColumns);
        }

        /**
         * The key columns: silver's identifier fields, in silver's column order (the order of
         * {@link #key}). Silver is written before its history, so it knows the latest key.
         */
        private static List<String> keyNames(Table silver) {
            Schema s = silver.schema();
            return s.columns().stream().filter(f -> s.identifierFieldIds().contains(f.fieldId())).map(Types.NestedField::name).toList();
        }

        private SilverProjection projection(TableSchema source) {
            if (source != projected) {
                projection = new SilverProjection(source, options);
                projected = source;
            }
            return projection;
        }

        void loadOpenVersions(List<ChangeEvent> events, OpenVersions cached) {
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
            for (List<Object> key : touched) {
                Record r = cached.get(key);
                if (r != null) {
                    before.put(key, r);
                } else {
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
            List<Types.NestedField> keyFields = keyNames.stream().map(schema::findField).toList();
            try (CloseableIterable<Record> open = LiveRows.of(table, Expressions.and(Expressions.isNull("_valid_to"), keys))) {
                for (Record r : open) {
                    read++;
                    List<Object> key = new ArrayList<>(keyFields.size());
                    for (Types.NestedField field : keyFields) {
                        key.add(normalized(r.getField(field.name()), field.type()));
                    }
                    if (wanted == null || wanted.contains(key)) {
                        // Iceberg's generic reader does not apply equality deletes on UUID columns
                        // (it reads them as byte arrays, equal only to themselves), so a version closed
                        // by an earlier commit may still show as open here: the open version is the
                        // key's latest, as a key's versions are closed in position order.
                        Record previous = before.get(key);
                        if (previous == null || ((String) previous.getField("_position")).compareTo((String) r.getField("_position")) < 0) {
                            before.put(key, writable(r));
                        }
                    }
                }
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read the open versions of " + table.name() + ": " + e.getMessage(), e);
            }
        }

        /** A copy of a record read from the table, with values in the classes the writers take (the reader gives UUIDs as UUIDs). */
        private Record writable(Record read) {
            Record r = read.copy();
            for (int i = 0; i < schema.columns().size(); i++) {
                if (r.get(i) instanceof java.util.UUID) {
                    r.set(i, IcebergTypes.toIcebergValue(r.get(i)));
                }
            }
            return r;
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
                            add(oldKey, image(e, e.before()), e, close(oldKey, at), true);
                        }
                    }
                    add(key, image(e, e.after()), e, close(key, at), false);
                }
                case DELETE -> {
                    List<Object> key = key(e, e.before());
                    add(key, image(e, e.before()), e, close(key, at), true);
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
                Record r = before.get(key);
                if (r != null) {
                    v = new Version(r, true);
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
            OffsetDateTime from = (OffsetDateTime) v.row.getField("_valid_from");
            OffsetDateTime end = at.isBefore(from) ? from : at;
            Record closed = v.committed ? v.row.copy() : v.row;
            closed.setField("_valid_to", end);
            closed.setField("_is_current", false);
            if (v.committed) {
                GenericRecord delete = GenericRecord.create(deleteSchema);
                for (String k : keyNames) {
                    delete.setField(k, closed.getField(k));
                }
                delete.setField("_position", closed.getField("_position"));
                deletes.add(delete);
                rows.add(closed);
            }
            open.remove(key);
            return end;
        }

        /** Opens a version of the key with the columns of {@code image} (a history record whose metadata is overwritten here). */
        private void add(List<Object> key, Record image, ChangeEvent e, OffsetDateTime from, boolean tombstone) {
            image.setField("_valid_from", from);
            image.setField("_valid_to", null);
            image.setField("_is_current", !tombstone);
            image.setField("_is_deleted", tombstone);
            image.setField("_op", e.operation().code());
            image.setField("_position", e.position().encoded());
            image.setField("_tx_id", e.transactionId());
            rows.add(image);
            open.put(key, new Version(image, false));
        }

        /** A history record with the silver columns of {@code row}. */
        private Record image(ChangeEvent e, Row row) {
            return HistoryWriter.image(schema, projection(e.schema()), row, options);
        }

        private List<Object> key(ChangeEvent e, Row row) {
            SilverProjection p = projection(e.schema());
            List<Object> key = new ArrayList<>(keyNames.size());
            for (SilverProjection.Output o : p.outputs()) {
                if (o.required()) {
                    key.add(normalized(p.keyValue(o, row)));
                }
            }
            return key;
        }
    }

    /**
     * A key value in one form whether it comes from a change event or from a read of the table:
     * whole numbers as longs, floats as doubles, binary as a byte buffer.
     */
    static Object normalized(Object value, Type type) {
        if (type.typeId() == Type.TypeID.UUID && (value instanceof byte[] || value instanceof ByteBuffer)) {
            ByteBuffer b = value instanceof byte[] bytes ? ByteBuffer.wrap(bytes) : ((ByteBuffer) value).duplicate();
            return new java.util.UUID(b.getLong(), b.getLong());
        }
        return normalized(value);
    }

    static Object normalized(Object value) {
        if (value instanceof Byte || value instanceof Short || value instanceof Integer) {
            return ((Number) value).longValue();
        }
        if (value instanceof Float f) {
            return f.doubleValue();
        }
        if (value instanceof byte[] b) {
            return ByteBuffer.wrap(b);
        }
        return value;
    }

    /**
     * Key column types whose values are Iceberg expression literals as they are; a key column of
     * another type is looked up without a filter on it. UUID is left out: Iceberg's Parquet
     * row-group filter fails on an {@code in} predicate over a UUID column (ClassCastException in
     * ParquetMetricsRowGroupFilter), so a UUID-keyed table reads all its open versions per lookup.
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
