package io.tributary.lake.silver;

import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.scan.RowLocation;
import io.tributary.spi.SourcePosition;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.avro.AvroSchemaUtil;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.avro.PlannedDataReader;
import org.apache.iceberg.data.avro.DataWriter;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.BloomFilter;
import org.rocksdb.CompressionType;
import org.rocksdb.FlushOptions;
import org.rocksdb.InfoLogLevel;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteBatchWithIndex;
import org.rocksdb.WriteBufferManager;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the live row of every key of one table is, in a local RocksDB database (a log-structured
 * merge tree: a write lands in a memory table and a write-ahead log, and is merged into sorted
 * files on disk by RocksDB's background threads), so a micro-batch finds the rows it replaces
 * without reading the table: for {@code silver.<table>} each key's row location
 * ({@link RowLocation}, what a position delete names); for {@code silver.<table>_history} each
 * key's open version, its {@code _position} and its location. A key the index does not hold has
 * no live row (no open version).
 *
 * <p>It is a cache of the table, never the record: it holds the table's position, schema id and
 * snapshot id as of its last update (the stamp), and is built again from the table (one pass over
 * its live rows, {@link LiveRows}) whenever they differ: after a crash between the table's commit
 * and the index's, a roll-back to the watermark, a schema change, or a compaction (which moves rows
 * to other files, and only the snapshot id shows). An update writes its entries and the new stamp
 * in one atomic write batch, so the index is always as of one micro-batch or another, never
 * between two. Open versions whose values exceed {@link HistoryWriter#MAX_CACHED_VALUE_BYTES} are
 * held as position and location only, and read from the table when needed. Versions are encoded
 * with Iceberg's Avro datum writer for the table's schema; data file locations are numbered once.
 * All indexes of the process share one block cache and one memory-table budget
 * ({@link #CACHE_BYTES}, {@link #WRITE_BUFFERS_BYTES}, off the Java heap). Not thread-safe: one
 * writer thread per table.
 */
final class KeyIndex implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(KeyIndex.class);

    static {
        // Before any RocksDB object: extracts and loads the native library once per process.
        RocksDB.loadLibrary();
    }

    /**
     * Version of the layout; 2: a single whole-number key column is stored as a long, any other key
     * as bytes; 3: every entry holds its row location, the stamp the table's snapshot; 4: a RocksDB
     * database (earlier ones were H2 MVStore files, {@code <table>.mv.db}, removed when found).
     */
    private static final int FORMAT = 4;
    /** Key prefixes: a table key's entry, the stamp, a data file's number. */
    private static final byte ENTRY = 'e';
    private static final byte FILE = 'f';
    private static final byte[] STAMP = {'m', 's'};
    /** Entries put between two writes of a rebuild. */
    private static final int REBUILD_BATCH = 50_000;
    /**
     * The block cache all indexes of the process share, in bytes: the recently read data blocks of
     * their sorted files (block indexes and Bloom filters are held beside it).
     */
    static final long CACHE_BYTES = 64L << 20;
    /**
     * The memory tables of all indexes together, in bytes (not charged to the block cache): above
     * it RocksDB writes the largest ones to disk. One memory table holds at most {@link #WRITE_BUFFER_BYTES}.
     */
    static final long WRITE_BUFFERS_BYTES = 64L << 20;
    private static final long WRITE_BUFFER_BYTES = 16L << 20;
    /** The write-ahead logs of one index, in bytes: above it RocksDB writes its memory tables to disk and drops the logs. */
    private static final long MAX_WAL_BYTES = 64L << 20;

    /** What an index holds per key. */
    enum Kind {
        /** The row location of each key of a silver table. */
        ROWS,
        /** The open version of each key of a history table ({@code _valid_to} null), with its location. */
        OPEN_VERSIONS
    }

    /**
     * A key's entry: where its live row is; for a history table also the open version's
     * {@code _position} and the version itself (null when too large to hold: read it from the table).
     */
    record Entry(RowLocation location, String position, Record row) {
    }

    /** The process-wide RocksDB resources, created on first use and kept for the life of the process. */
    private static final class Shared {
        static final LRUCache CACHE;
        static final WriteBufferManager WRITE_BUFFERS;

        static {
            CACHE = new LRUCache(CACHE_BYTES);
            // Not charged to the block cache: the cache holds data blocks only.
            WRITE_BUFFERS = new WriteBufferManager(WRITE_BUFFERS_BYTES, new LRUCache(0));
        }
    }

    private final Path dir;
    private final Options options;
    private final BloomFilter bloom;
    private final RocksDB db;
    /** Through the write-ahead log, not synced: a killed process loses nothing; an operating system crash may lose the last writes (the stamp shows it). */
    private final WriteOptions writes = new WriteOptions();
    private final ReadOptions reads = new ReadOptions();
    private final List<String> paths = new ArrayList<>();
    private final Map<String, Integer> fileIds = new HashMap<>();
    /** Data file numbers assigned since the last write, written with the next one. */
    private final List<Integer> unwrittenFiles = new ArrayList<>();
    private final Kind kind;
    private final Schema schema;
    private final List<Types.NestedField> keyFields;
    private final DataWriter<Record> writer;
    private final PlannedDataReader<Record> reader;
    private long snapshotId = -1;
    /**
     * No single whole-number key above this one is in the index (deletes do not lower it): a
     * look-up above it needs no read, as for the ascending keys of an initial snapshot's chunks.
     */
    private long greatestKey = Long.MIN_VALUE;
    private BinaryEncoder encoder;
    /** The buffer values are encoded into, reset for each; replaced after a large value so its size is not held. */
    private ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
    /** A buffer grown above this many bytes is dropped after use. */
    private static final int BUFFER_KEPT_BYTES = 64 * 1024;
    private BinaryDecoder decoder;

    private KeyIndex(Path dir, Kind kind, Schema schema, List<Types.NestedField> keyFields) throws RocksDBException {
        this.dir = dir;
        this.kind = kind;
        this.schema = schema;
        this.keyFields = keyFields;
        org.apache.avro.Schema avro = AvroSchemaUtil.convert(schema, "version");
        this.writer = DataWriter.create(avro);
        this.reader = PlannedDataReader.create(schema);
        // The schema the values were written with: the same.
        this.reader.setSchema(avro);
        this.bloom = new BloomFilter(10);
        // Block indexes and Bloom filters stay in memory beside the cache (about 2 MiB per million
        // keys): evicted from a full cache, each look-up would read and parse them again.
        BlockBasedTableConfig table = new BlockBasedTableConfig().setBlockCache(Shared.CACHE).setFilterPolicy(bloom)
                .setCacheIndexAndFilterBlocks(false);
        this.options = new Options().setCreateIfMissing(true).setTableFormatConfig(table).setWriteBufferManager(Shared.WRITE_BUFFERS)
                .setWriteBufferSize(WRITE_BUFFER_BYTES).setMaxWriteBufferNumber(2).setMaxTotalWalSize(MAX_WAL_BYTES)
                .setCompressionType(CompressionType.LZ4_COMPRESSION).setMaxBackgroundJobs(2).setInfoLogLevel(InfoLogLevel.ERROR_LEVEL)
                .setKeepLogFileNum(1).setMaxOpenFiles(256);
        RocksDB opened;
        try {
            opened = RocksDB.open(options, dir.toString());
        } catch (RocksDBException e) {
            closeOptions();
            throw e;
        }
        this.db = opened;
        loadFiles();
        loadGreatestKey();
    }

    private void loadGreatestKey() {
        Types.NestedField only = keyFields.size() == 1 ? keyFields.get(0) : null;
        boolean wholeNumber = only != null && (only.type().typeId() == org.apache.iceberg.types.Type.TypeID.INTEGER
                || only.type().typeId() == org.apache.iceberg.types.Type.TypeID.LONG);
        if (!wholeNumber) {
            greatestKey = Long.MAX_VALUE;
            return;
        }
        greatestKey = Long.MIN_VALUE;
        try (RocksIterator it = db.newIterator(reads)) {
            // Every key is 8 bytes after the prefix, in the numbers' order: the last is the greatest.
            it.seekForPrev(new byte[] {ENTRY + 1});
            if (it.isValid() && it.key()[0] == ENTRY) {
                greatestKey = ByteBuffer.wrap(it.key(), 1, 8).getLong() ^ Long.MIN_VALUE;
            }
        }
    }

    private void loadFiles() {
        paths.clear();
        fileIds.clear();
        unwrittenFiles.clear();
        try (RocksIterator it = db.newIterator(reads)) {
            for (it.seek(new byte[] {FILE}); it.isValid() && it.key()[0] == FILE; it.next()) {
                int id = ByteBuffer.wrap(it.key(), 1, 4).getInt();
                while (paths.size() <= id) {
                    paths.add(null);
                }
                String path = new String(it.value(), StandardCharsets.UTF_8);
                paths.set(id, path);
                fileIds.put(path, id);
            }
        }
    }

    /**
     * Opens the index of {@code table} (whose schema is {@code schema} and key columns
     * {@code keyFields}) in folder {@code dir}, building it again from the table's current snapshot
     * when it does not match the table's committed position, schema and snapshot (or cannot be
     * opened).
     *
     * @throws Locked when another process (or another writer of this one) has it open
     */
    static KeyIndex open(Path dir, Kind kind, Table table, Schema schema, List<Types.NestedField> keyFields) {
        try {
            Files.createDirectories(dir.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the folder of the key index " + dir, e);
        }
        try {
            return openChecked(dir, kind, table, schema, keyFields);
        } catch (RocksDBException e) {
            if (locked(e)) {
                // Another process (or catalog) has it open: left alone, the caller reads the table.
                throw new Locked(dir, e);
            }
            LOG.warn("Cannot open the key index {} ({}); building it again from {}", dir, e.getMessage(), table.name());
        }
        delete(dir);
        try {
            return openChecked(dir, kind, table, schema, keyFields);
        } catch (RocksDBException e) {
            throw locked(e) ? new Locked(dir, e) : new IllegalStateException("Cannot open the key index " + dir + ": " + e.getMessage(), e);
        }
    }

    /** The index is open elsewhere (RocksDB's lock on its folder is held). */
    static final class Locked extends RuntimeException {
        Locked(Path dir, RocksDBException cause) {
            super("The key index " + dir + " is open in another process or writer: " + cause.getMessage(), cause);
        }
    }

    private static boolean locked(RocksDBException e) {
        String message = String.valueOf(e.getMessage());
        return message.contains("/LOCK") || message.contains("lock hold");
    }

    private static KeyIndex openChecked(Path dir, Kind kind, Table table, Schema schema, List<Types.NestedField> keyFields) throws RocksDBException {
        KeyIndex index = new KeyIndex(dir, kind, schema, keyFields);
        try {
            table.refresh();
            Snapshot current = table.currentSnapshot();
            long snapshot = current == null ? -1 : current.snapshotId();
            String stamp = stamp(SnapshotPositions.committed(table).map(SourcePosition::encoded).orElse(""), schema, snapshot);
            byte[] held = index.db.get(index.reads, STAMP);
            if (held == null || !stamp.equals(new String(held, StandardCharsets.US_ASCII))) {
                // Built into an empty database: the old one's files go at once, no deletions are left to merge.
                index.close();
                delete(dir);
                index = new KeyIndex(dir, kind, schema, keyFields);
                index.rebuild(table, current, stamp);
            }
            index.snapshotId = snapshot;
            return index;
        } catch (RuntimeException | RocksDBException e) {
            index.close();
            throw e;
        }
    }

    /** Removes an index that cannot be used (its folder); the next open builds it again from the table. */
    static void delete(Path dir) {
        try {
            if (Files.isDirectory(dir)) {
                try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
                    for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
            Files.deleteIfExists(dir);
        } catch (IOException io) {
            throw new UncheckedIOException("Cannot remove the key index " + dir, io);
        }
    }

    private static String stamp(String position, Schema schema, long snapshotId) {
        return FORMAT + "|" + schema.schemaId() + "|" + position + "|" + snapshotId;
    }

    /** The table snapshot the index is as of: its locations are valid there (-1 for a table without one). */
    long snapshotId() {
        return snapshotId;
    }

    /**
     * Fills the (empty) database from the table's live rows, without the write-ahead log (a crash
     * before the stamp is written leaves no stamp: the next open builds it again), then writes the
     * memory tables to disk and the stamp.
     */
    private void rebuild(Table table, Snapshot snapshot, String stamp) throws RocksDBException {
        long started = System.nanoTime();
        long[] keys = {0};
        try (WriteOptions bulk = new WriteOptions().setDisableWAL(true);
             WriteBatchWithIndex batch = new WriteBatchWithIndex(true)) {
            RocksDBException[] failed = {null};
            if (kind == Kind.OPEN_VERSIONS) {
                LiveRows.read(table, snapshot, schema, Expressions.isNull("_valid_to"), (r, location) -> {
                    List<Object> values = key(r, keyFields);
                    byte[] key = entryKey(values);
                    String position = (String) r.getField("_position");
                    try {
                        byte[] existing = batch.getFromBatchAndDB(db, reads, key);
                        // A key's versions are closed in position order: of two open ones the later is its open version.
                        if (existing == null || position(existing).compareTo(position) < 0) {
                            keys[0] += existing == null ? 1 : 0;
                            Record row = HistoryWriter.valueBytes(r) <= HistoryWriter.MAX_CACHED_VALUE_BYTES ? r : null;
                            batch.put(key, encode(new Entry(location, position, row)));
                            raiseGreatestKey(values);
                            writeIfFull(batch, bulk);
                        }
                    } catch (RocksDBException e) {
                        failed[0] = failed[0] == null ? e : failed[0];
                    }
                });
            } else {
                Schema keySchema = TypeUtil.select(schema, new java.util.HashSet<>(keyFields.stream().map(Types.NestedField::fieldId).toList()));
                LiveRows.read(table, snapshot, keySchema, Expressions.alwaysTrue(), (r, location) -> {
                    keys[0]++;
                    try {
                        List<Object> key = key(r, keyFields);
                        batch.put(entryKey(key), encode(new Entry(location, null, null)));
                        raiseGreatestKey(key);
                        writeIfFull(batch, bulk);
                    } catch (RocksDBException e) {
                        failed[0] = failed[0] == null ? e : failed[0];
                    }
                });
            }
            if (failed[0] != null) {
                throw failed[0];
            }
            putUnwrittenFiles(batch);
            db.write(bulk, batch);
        }
        try (FlushOptions flush = new FlushOptions().setWaitForFlush(true)) {
            db.flush(flush);
        }
        db.put(writes, STAMP, stamp.getBytes(StandardCharsets.US_ASCII));
        LOG.info("Built the key index of {}: {} keys in {} ms", table.name(), keys[0], (System.nanoTime() - started) / 1_000_000);
    }

    private void writeIfFull(WriteBatchWithIndex batch, WriteOptions bulk) throws RocksDBException {
        if (batch.count() >= REBUILD_BATCH) {
            putUnwrittenFiles(batch);
            db.write(bulk, batch);
            batch.clear();
        }
    }

    private void putUnwrittenFiles(org.rocksdb.AbstractWriteBatch batch) throws RocksDBException {
        for (int id : unwrittenFiles) {
            batch.put(fileKey(id), paths.get(id).getBytes(StandardCharsets.UTF_8));
        }
        unwrittenFiles.clear();
    }

    /** A row's key, normalized as {@link HistoryWriter#normalized}, in the order of {@code keyFields}. */
    static List<Object> key(Record r, List<Types.NestedField> keyFields) {
        List<Object> key = new ArrayList<>(keyFields.size());
        for (Types.NestedField field : keyFields) {
            key.add(HistoryWriter.normalized(r.getField(field.name()), field.type()));
        }
        return key;
    }

    /**
     * {@code keys} in the index's order when each is a single whole number (the order of its sorted
     * files, so neighbouring keys of a micro-batch are read from a data block while it is cached
     * rather than once per key), else as given.
     */
    static List<List<Object>> inIndexOrder(java.util.Collection<List<Object>> keys) {
        List<List<Object>> out = new ArrayList<>(keys);
        for (List<Object> key : out) {
            if (key.size() != 1 || !(key.get(0) instanceof Long)) {
                return out;
            }
        }
        out.sort(java.util.Comparator.comparingLong(k -> (Long) k.get(0)));
        return out;
    }

    /** What the index knows of a key's live row. */
    enum Found { NONE, HELD, IN_TABLE_ONLY }

    /**
     * Looks a key up: {@link Found#NONE} when it has no live row (open version), {@link Found#HELD}
     * with its entry handed to {@code held} (an open version in the form the table's writers take),
     * or {@link Found#IN_TABLE_ONLY} for an open version too large for the index.
     */
    Found lookup(List<Object> key, Consumer<Entry> held) {
        if (key.size() == 1 && key.get(0) instanceof Long number && number > greatestKey) {
            return Found.NONE;
        }
        try {
            byte[] value = db.get(reads, entryKey(key));
            if (value == null) {
                return Found.NONE;
            }
            Entry e = decode(value);
            if (kind == Kind.OPEN_VERSIONS && e.row() == null) {
                return Found.IN_TABLE_ONLY;
            }
            held.accept(e);
            return Found.HELD;
        } catch (RocksDBException | RuntimeException | AssertionError e) {
            throw new Failure(e);
        }
    }

    /** A look-up that failed inside the index: the caller stops using it and reads the table. */
    static final class Failure extends RuntimeException {
        Failure(Throwable cause) {
            super(cause);
        }
    }

    /**
     * Records the entries a micro-batch changed (a null entry: the key has no live row any more),
     * once the table has committed it as snapshot {@code snapshot} at {@code committed}: the entries,
     * the data files they name and the new stamp in one atomic write. {@code cleared}: the
     * micro-batch removed every row first (a truncate).
     *
     * @throws IllegalStateException when RocksDB cannot write (the caller drops the index)
     */
    void update(Map<List<Object>, Entry> changed, boolean cleared, SourcePosition committed, long snapshot) {
        try (WriteBatch batch = new WriteBatch()) {
            if (cleared) {
                batch.deleteRange(new byte[] {ENTRY}, new byte[] {ENTRY + 1});
                batch.deleteRange(new byte[] {FILE}, new byte[] {FILE + 1});
                paths.clear();
                fileIds.clear();
                unwrittenFiles.clear();
            }
            for (List<Object> k : inIndexOrder(changed.keySet())) {
                Entry entry = changed.get(k);
                if (entry == null) {
                    batch.delete(entryKey(k));
                } else {
                    batch.put(entryKey(k), encode(entry));
                    raiseGreatestKey(k);
                }
            }
            putUnwrittenFiles(batch);
            batch.put(STAMP, stamp(committed.encoded(), schema, snapshot).getBytes(StandardCharsets.US_ASCII));
            db.write(writes, batch);
        } catch (RocksDBException e) {
            throw new IllegalStateException("Cannot write the key index " + dir + ": " + e.getMessage(), e);
        }
        snapshotId = snapshot;
    }

    private void raiseGreatestKey(List<Object> key) {
        if (key.size() == 1 && key.get(0) instanceof Long number) {
            greatestKey = Math.max(greatestKey, number);
        } else {
            greatestKey = Long.MAX_VALUE;
        }
    }

    int schemaId() {
        return schema.schemaId();
    }

    /** Closes the index; what it wrote is in its write-ahead log or its files. */
    @Override
    public void close() {
        db.close();
        closeOptions();
    }

    private void closeOptions() {
        writes.close();
        reads.close();
        options.close();
        bloom.close();
    }

    /**
     * A key's values (normalized as {@link HistoryWriter#normalized}) as the index's key, after the
     * entry prefix: a single whole number as 8 bytes big-endian with the sign bit flipped (so the
     * bytes sort as the numbers do, the order of {@link #inIndexOrder}), anything else as the UTF-8
     * bytes of {@link #text}.
     */
    static byte[] entryKey(List<Object> values) {
        if (values.size() == 1 && values.get(0) instanceof Long number) {
            return ByteBuffer.allocate(9).put(ENTRY).putLong(number ^ Long.MIN_VALUE).array();
        }
        byte[] text = text(values).getBytes(StandardCharsets.UTF_8);
        byte[] key = new byte[text.length + 1];
        key[0] = ENTRY;
        System.arraycopy(text, 0, key, 1, text.length);
        return key;
    }

    private static byte[] fileKey(int id) {
        return ByteBuffer.allocate(5).put(FILE).putInt(id).array();
    }

    /** A key's values as one string: class and text of each. */
    private static String text(List<Object> values) {
        StringBuilder b = new StringBuilder();
        for (Object v : values) {
            if (v == null) {
                b.append("null");
            } else if (v instanceof ByteBuffer buffer) {
                ByteBuffer d = buffer.duplicate();
                byte[] bytes = new byte[d.remaining()];
                d.get(bytes);
                b.append("bytes:").append(HexFormat.of().formatHex(bytes));
            } else {
                String text = v.toString();
                b.append(v.getClass().getSimpleName()).append(':').append(text.length()).append(':').append(text);
            }
            b.append('\u0000');
        }
        return b.toString();
    }

    // A value: the version's _position (length-prefixed, empty for silver), the location's file
    // number and position (variable-length), then the version's Avro encoding when held.
    private byte[] encode(Entry entry) {
        ByteArrayOutputStream out = buffer;
        out.reset();
        byte[] p = entry.position() == null ? new byte[0] : entry.position().getBytes(StandardCharsets.US_ASCII);
        out.write(p.length);
        // Whole arrays only: ByteArrayOutputStream's methods are synchronized, a lock per call.
        out.writeBytes(p);
        byte[] numbers = new byte[20];
        int n = varint(numbers, 0, fileId(entry.location().file()));
        n = varint(numbers, n, entry.location().position());
        out.write(numbers, 0, n);
        Record r = entry.row();
        if (r != null) {
            // Avro's buffered encoder hands its output over in blocks (the direct one writes byte by byte).
            encoder = EncoderFactory.get().binaryEncoder(out, encoder);
            try {
                writer.write(r, encoder);
                encoder.flush();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        byte[] value = out.toByteArray();
        if (value.length > BUFFER_KEPT_BYTES) {
            buffer = new ByteArrayOutputStream(256);
        }
        return value;
    }

    private int fileId(String path) {
        Integer id = fileIds.get(path);
        if (id == null) {
            id = paths.size();
            paths.add(path);
            fileIds.put(path, id);
            unwrittenFiles.add(id);
        }
        return id;
    }

    private static int varint(byte[] out, int at, long value) {
        long v = value;
        while ((v & ~0x7FL) != 0) {
            out[at++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        out[at++] = (byte) v;
        return at;
    }

    private static String position(byte[] value) {
        return new String(value, 1, value[0], StandardCharsets.US_ASCII);
    }

    private Entry decode(byte[] value) {
        int at = 1 + value[0];
        String position = value[0] == 0 ? null : position(value);
        long[] read = new long[2];
        for (int i = 0; i < 2; i++) {
            long v = 0;
            int shift = 0;
            byte b;
            do {
                b = value[at++];
                v |= (long) (b & 0x7F) << shift;
                shift += 7;
            } while ((b & 0x80) != 0);
            read[i] = v;
        }
        RowLocation location = new RowLocation(paths.get((int) read[0]), read[1]);
        if (at == value.length) {
            return new Entry(location, position, null);
        }
        decoder = DecoderFactory.get().binaryDecoder(value, at, value.length - at, decoder);
        try {
            return new Entry(location, position, reader.read(null, decoder));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
