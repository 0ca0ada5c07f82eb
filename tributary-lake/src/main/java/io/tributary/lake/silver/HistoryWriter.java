package io.tributary.lake.silver;

import io.tributary.config.TableOptions;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.SchemaEvolution;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
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
import io.tributary.lake.scan.RowLocation;
import io.tributary.spi.SourcePosition;
import io.tributary.lake.catalog.RowDeltas;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Snapshot;
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
 * <p>Per micro-batch, one Iceberg row delta: a position delete file naming the row of every version
 * committed earlier that the batch closes, and one data file with those versions re-written closed
 * plus every version the batch opens. The open versions of keys the batch touches, with their row
 * locations, come from a bounded cache of the versions this writer committed, else from the
 * table's {@link KeyIndex} (a cache of the table on local disk), else from one read of the table
 * per micro-batch filtered on the keys (a batch with a truncate reads every open version); an
 * empty table needs no read. The row delta is validated from the snapshot those locations were
 * valid at: when a compaction committed meanwhile removed a file a delete names, the writer drops
 * its cache and index, reads the table again and redoes the micro-batch. Not thread-safe per
 * table: one writer thread per table at a time.
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
    private final KeyIndexes indexes;

    /** @param indexFolder where the tables' key indexes are kept (process-local state, see {@code LakeConfig#stateDir}) */
    public HistoryWriter(LakeCatalog catalog, String pipeline, java.nio.file.Path indexFolder) {
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.indexes = new KeyIndexes(indexFolder, KeyIndex.Kind.OPEN_VERSIONS);
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
        // A commit (a compaction) may remove a data file holding a version this batch closes. After
        // any failed attempt the cache and the index may be ahead of the table (or behind): they
        // are dropped, and the index is checked against the table when opened again.
        return RowDeltas.redoWhileRowsMove(id, () -> {
            cache.remove(id);
            indexes.release(id);
        }, () -> write(silverId, id, events, options));
    }

    /**
     * Whether committing {@code forSilver} to {@code silver} leaves the silver key this writer reads
     * as it is: silver exists and every event's schema has exactly silver's identifier fields as
     * its key. Only then may the history of the same events be written while silver commits.
     */
    public static boolean keyUnchangedBy(java.util.Optional<Table> silver, List<ChangeEvent> forSilver, TableOptions options) {
        if (silver.isEmpty()) {
            return false;
        }
        Set<String> key = Set.copyOf(HistoryBatch.keyNames(silver.get()));
        TableSchema checked = null;
        for (ChangeEvent e : forSilver) {
            if (e.operation() == ChangeOperation.TRUNCATE || e.schema() == checked) {
                continue;
            }
            if (!key.equals(Set.copyOf(new SilverProjection(e.schema(), options).keyNames()))) {
                return false;
            }
            checked = e.schema();
        }
        return true;
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
        long started = System.nanoTime();
        KeyIndex index = indexes.get(id, table, schema, batch.keyFields());
        OpenVersions cached = cache.computeIfAbsent(id, t -> new OpenVersions());
        cached.follow(schema.schemaId(), index == null ? cached.snapshotId : index.snapshotId());
        try {
            batch.loadOpenVersions(events, cached, index);
        } catch (KeyIndex.Failure e) {
            indexes.drop(id, e.getCause());
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
        // The locations of the cache and the index are valid at their snapshot; those read now at a later one.
        Long base = index != null ? Long.valueOf(index.snapshotId()) : cached.snapshotId >= 0 ? Long.valueOf(cached.snapshotId) : batch.readAt;
        DataFiles files = new DataFiles(table);
        DataFile written = files.write(batch.rows, null);
        RowDelta delta = table.newRowDelta().addRows(written);
        DeleteFile deletes = RowDeltas.removeRows(delta, files, batch.deletes, base);
        SourcePosition position = events.get(events.size() - 1).position();
        Snapshot committed = RowDeltas.commit(catalog, table, SnapshotPositions.stamp(delta, pipeline, position), written, deletes);
        String path = written.path().toString();
        Map<List<Object>, KeyIndex.Entry> changed = new LinkedHashMap<>();
        batch.open.forEach((key, version) -> {
            RowLocation location = version.committed() ? version.location : new RowLocation(path, version.ordinal);
            changed.put(key, new KeyIndex.Entry(location, (String) version.row.getField("_position"), version.cacheable() ? version.row : null));
        });
        if (!RowDeltas.follows(committed, base)) {
            // Another commit (a compaction) landed between the locations' snapshot and this one:
            // other keys' rows may have moved, so the cache and the index are read again.
            cache.remove(id);
            indexes.release(id);
        } else {
            if (index != null) {
                try {
                    index.update(changed, false, position, committed.snapshotId());
                } catch (RuntimeException | AssertionError e) {
                    // The history table has the micro-batch; only the index is behind.
                    indexes.drop(id, e);
                }
            }
            cached.snapshotId = committed.snapshotId();
            changed.forEach((key, entry) -> {
                if (entry.row() != null) {
                    cached.put(key, entry);
                } else {
                    // A huge row (a 100 MB text) is looked up again rather than held: the heap is bounded.
                    cached.remove(key);
                }
            });
        }
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

    /** The open versions this writer committed, with their locations as of snapshot {@link #snapshotId}, most recently used last, bounded. */
    static final class OpenVersions extends LinkedHashMap<List<Object>, KeyIndex.Entry> {
        private int schemaId = -1;
        long snapshotId = -1;

        OpenVersions() {
            super(1024, 0.75f, true);
        }

        /** Drops the versions built for an older schema of the table, or located in another snapshot than the index's. */
        void follow(int tableSchemaId, long indexSnapshotId) {
            if (tableSchemaId != schemaId || indexSnapshotId != snapshotId) {
                clear();
                schemaId = tableSchemaId;
                snapshotId = indexSnapshotId;
            }
        }

        @Override
        protected boolean removeEldestEntry(Map.Entry<List<Object>, KeyIndex.Entry> eldest) {
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
