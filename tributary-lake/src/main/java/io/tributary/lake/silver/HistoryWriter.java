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
import io.tributary.spi.TributaryException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
import org.apache.iceberg.data.Record;
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

    /** Open versions kept per table, so hot keys need no read of the table. */
    static final int CACHED_VERSIONS = 20_000;

    private final LakeCatalog catalog;
    private final String pipeline;
    private final Map<TableIdentifier, OpenVersions> cache = new ConcurrentHashMap<>();
    private final Map<TableIdentifier, OpenVersionIndex> indexes = new ConcurrentHashMap<>();
    private final java.util.Set<TableIdentifier> withoutIndex = ConcurrentHashMap.newKeySet();

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
            // The cache and the index may now be ahead of the table (or behind): the next batch
            // reads the table, and the index is checked against it when opened again.
            cache.remove(id);
            OpenVersionIndex index = indexes.remove(id);
            if (index != null) {
                closeQuietly(index);
            }
            throw e;
        }
    }

    /** The folder of the open-version indexes of a warehouse. */
    public static java.nio.file.Path indexFolder(java.nio.file.Path warehouse) {
        return warehouse.resolve("tributary").resolve("history-index");
    }

    /**
     * The open-version index of a history table, opened (and checked against the table, or built
     * again from it) on first use; null when it cannot be opened (another process holds it), and
     * the table is then read instead.
     */
    private OpenVersionIndex index(TableIdentifier id, Table table, Schema schema, List<Types.NestedField> keyFields) {
        OpenVersionIndex index = indexes.get(id);
        if (index != null && index.schemaId() != schema.schemaId()) {
            indexes.remove(id);
            closeQuietly(index);
            index = null;
        }
        if (index == null && !withoutIndex.contains(id)) {
            try {
                index = OpenVersionIndex.open(indexFile(id), table, schema, keyFields);
                indexes.put(id, index);
            } catch (RuntimeException | AssertionError e) {
                LOG.warn("Cannot use the open-version index of {} ({}); reading the open versions from the table instead", id, e.getMessage());
                withoutIndex.add(id);
            }
        }
        return index;
    }

    private java.nio.file.Path indexFile(TableIdentifier id) {
        return indexFolder(catalog.warehouse()).resolve(id + ".mv.db");
    }

    /**
     * Stops using a history table's index after it failed, and removes its file: the next micro-batch
     * opens it again, built from the table.
     */
    private void dropIndex(TableIdentifier id, Throwable failure) {
        LOG.warn("The open-version index of {} failed ({}); it is built again from the table", id, failure.toString());
        OpenVersionIndex index = indexes.remove(id);
        if (index != null) {
            try {
                index.closeImmediately();
            } catch (RuntimeException | AssertionError e) {
                LOG.debug("Cannot close the failed index of {}", id, e);
            }
        }
        OpenVersionIndex.delete(indexFile(id));
    }

    /** Closes the open-version indexes. */
    public void close() {
        indexes.values().forEach(HistoryWriter::closeQuietly);
        indexes.clear();
    }

    private static void closeQuietly(OpenVersionIndex index) {
        try {
            index.close();
        } catch (RuntimeException e) {
            LOG.debug("Cannot close an open-version index", e);
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
        HistoryBatch batch = new HistoryBatch(table, schema, silver, options);
        OpenVersions cached = cache.computeIfAbsent(id, t -> new OpenVersions());
        cached.follow(schema.schemaId());
        long started = System.nanoTime();
        OpenVersionIndex index = index(id, table, schema, batch.keyFields());
        try {
            batch.loadOpenVersions(events, cached, index);
        } catch (OpenVersionIndex.Failure e) {
            dropIndex(id, e.getCause());
            index = null;
            batch = new HistoryBatch(table, schema, silver, options);
            batch.loadOpenVersions(events, cached, null);
        }
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
        if (index != null) {
            try {
                index.update(batch.open, events.get(events.size() - 1).position());
            } catch (RuntimeException | AssertionError e) {
                // The history table has the micro-batch; only the index is behind.
                dropIndex(id, e);
            }
        }
        batch.open.forEach((key, version) -> {
            if (version.cacheable()) {
                cached.put(key, version.row);
            } else {
                // A huge row (a 100 MB text) is looked up again rather than held: the heap is bounded.
                cached.remove(key);
            }
        });
        LOG.debug("History {}: {} version(s) written, {} committed ones closed, {} open version(s) read in {} ms, {} ms in all", id, batch.rows.size(),
                batch.deletes.size(), batch.read, (lookedUp - started) / 1_000_000, (System.nanoTime() - started) / 1_000_000);
        return 1;
    }

    /** Rows whose string and binary values exceed this many bytes are not cached. */
    static final long MAX_CACHED_VALUE_BYTES = 1L << 20;

    /** The bytes of a row's string and binary values. */
    static long valueBytes(Record row) {
        long bytes = 0;
        for (int i = 0; i < row.size(); i++) {
            bytes += io.tributary.lake.catalog.LargeValueMetrics.valueLength(row.get(i));
        }
        return bytes;
    }

    /** The open versions this writer committed, most recently used last, bounded. */
    static final class OpenVersions extends LinkedHashMap<List<Object>, Record> {
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

}
