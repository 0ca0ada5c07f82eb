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
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the live row of every key of one table is, in a local H2 MVStore file (a B-tree on disk
 * with a bounded page cache), so a micro-batch finds the rows it replaces without reading the
 * table: for {@code silver.<table>} each key's row location ({@link RowLocation}, what a position
 * delete names); for {@code silver.<table>_history} each key's open version, its {@code _position}
 * and its location. A key the index does not hold has no live row (no open version).
 *
 * <p>It is a cache of the table, never the record: it holds the table's position, schema id and
 * snapshot id as of its last update, and is built again from the table (one pass over its live
 * rows, {@link LiveRows}) whenever they differ: after a crash between the table's commit and the
 * index's, a roll-back to the watermark, a schema change, or a compaction (which moves rows to
 * other files, and only the snapshot id shows). An update clears the stamp before it writes, so an
 * update cut short by a crash names nothing and is built again too. Open versions whose values
 * exceed {@link HistoryWriter#MAX_CACHED_VALUE_BYTES} are held as position and location only, and
 * read from the table when needed. Versions are encoded with Iceberg's Avro datum writer for the
 * table's schema; data file locations are numbered once. Not thread-safe: one writer thread per table.
 */
final class KeyIndex implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(KeyIndex.class);
    /**
     * Version of the file's layout; 2: a single whole-number key column is stored as a long, any
     * other key as bytes; 3: every entry holds its row location, the stamp the table's snapshot.
     */
    private static final int FORMAT = 3;
    /**
     * MVStore's background thread rewrites chunks with less live data than this percentage, a
     * little at a time: each commit writes the pages it changed anew (copy on write).
     */
    private static final int COMPACT_BELOW_FILL_RATE = 50;
    /**
     * Puts between two commits of a rebuild. A micro-batch's update commits once at its end: the
     * changed pages it holds in memory are bounded by {@link #AUTO_COMMIT_KB}.
     */
    private static final int COMMIT_EVERY = 100_000;
    /**
     * Changed pages MVStore holds before it writes them, in KiB (its background thread writes
     * above this size, and a put waits for that write above twice it). Every write copies each
     * changed leaf and every inner page above it: at 1 MiB, a micro-batch of 60,000 random updates
     * of 1,000,000 keys was written in a dozen chunks, each rewriting most of the tree's inner
     * pages, and the serialization took half the process's CPU (HistoryBench, 10 such batches into
     * silver and history: 11,955 events/s at 1 MiB and 5,000 puts per commit, 15,129–17,330 at
     * 16 MiB and one commit per micro-batch).
     */
    private static final int AUTO_COMMIT_KB = 16 * 1024;
    /** Files at most this large are not rewritten at close, whatever their share of dead pages. */
    private static final long REWRITE_ABOVE_BYTES = 16L << 20;
    /**
     * How long MVStore keeps chunks without live pages before it writes over them, in ms (its
     * default, 45 s, let random updates grow a file to 35 times its live size within a minute).
     * Shorter is safe here: if an operating system crash leaves a chunk half written, MVStore's
     * checksums fail on open or read, and the index is built again from the table.
     */
    private static final int RETENTION_MS = 5_000;
    /** Page cache of one index, in MiB. */
    private static final int CACHE_MB = 4;
    /**
     * Entries per B-tree page (MVStore's default is 48). A random update rewrites its whole leaf
     * page at the next commit and a look-up that misses the cache reads one, so smaller pages cost
     * less per key: over 1,000,000 keys of 150-byte values, 3,000 random look-ups and updates per
     * commit took 48–63 µs of CPU per key with 16 entries and long keys, 66–67 µs with only one of
     * the two, and 73 µs with 48 entries and string keys. With one commit per micro-batch
     * (HistoryBench, 10 batches of 60,000 random updates of 1,000,000 keys into silver and
     * history): 8 entries 12,730–13,646 events/s, 16 entries 13,662–17,139, 32 entries 16,858–16,966.
     */
    private static final int KEYS_PER_PAGE = 16;

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

    private final MVStore store;
    private final MVMap<Object, byte[]> entries;
    private final MVMap<String, String> meta;
    /** Data file locations by number. */
    private final MVMap<Integer, String> files;
    private final List<String> paths = new ArrayList<>();
    private final Map<String, Integer> fileIds = new HashMap<>();
    private final Kind kind;
    private final Schema schema;
    private final List<Types.NestedField> keyFields;
    private final DataWriter<Record> writer;
    private final PlannedDataReader<Record> reader;
    private long snapshotId = -1;
    private BinaryEncoder encoder;
    /** The buffer values are encoded into, reset for each; replaced after a large value so its size is not held. */
    private ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
    /** A buffer grown above this many bytes is dropped after use. */
    private static final int BUFFER_KEPT_BYTES = 64 * 1024;
    private BinaryDecoder decoder;

    private KeyIndex(MVStore store, Kind kind, Schema schema, List<Types.NestedField> keyFields) {
        this.store = store;
        this.entries = store.openMap("entries");
        this.meta = store.openMap("meta");
        this.files = store.openMap("files");
        this.kind = kind;
        this.schema = schema;
        this.keyFields = keyFields;
        org.apache.avro.Schema avro = AvroSchemaUtil.convert(schema, "version");
        this.writer = DataWriter.create(avro);
        this.reader = PlannedDataReader.create(schema);
        // The schema the values were written with: the same.
        this.reader.setSchema(avro);
        loadFiles();
    }

    private void loadFiles() {
        paths.clear();
        fileIds.clear();
        files.forEach((id, path) -> {
            while (paths.size() <= id) {
                paths.add(null);
            }
            paths.set(id, path);
            fileIds.put(path, id);
        });
    }

    /**
     * Opens the index of {@code table} (whose schema is {@code schema} and key columns
     * {@code keyFields}) in {@code file}, building it again from the table's current snapshot when
     * it does not match the table's committed position, schema and snapshot (or cannot be opened).
     */
    static KeyIndex open(Path file, Kind kind, Table table, Schema schema, List<Types.NestedField> keyFields) {
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the folder of the key index " + file, e);
        }
        try {
            return openChecked(file, kind, table, schema, keyFields);
        } catch (org.h2.mvstore.MVStoreException e) {
            if (e.getErrorCode() == org.h2.mvstore.DataUtils.ERROR_FILE_LOCKED) {
                // Another process (or catalog) has it open: left alone, the caller reads the table.
                throw e;
            }
            LOG.warn("Cannot open the key index {} ({}); building it again from {}", file, e.getMessage(), table.name());
        } catch (AssertionError e) {
            // MVStore's own consistency checks (with -ea) on a file a killed process left.
            LOG.warn("Cannot open the key index {} ({}); building it again from {}", file, e.getMessage(), table.name());
        }
        delete(file);
        return openChecked(file, kind, table, schema, keyFields);
    }

    private static KeyIndex openChecked(Path file, Kind kind, Table table, Schema schema, List<Types.NestedField> keyFields) {
        MVStore store = new MVStore.Builder().fileName(file.toString()).cacheSize(CACHE_MB).autoCompactFillRate(COMPACT_BELOW_FILL_RATE)
                .autoCommitBufferSize(AUTO_COMMIT_KB).keysPerPage(KEYS_PER_PAGE).open();
        store.setRetentionTime(RETENTION_MS);
        KeyIndex index = new KeyIndex(store, kind, schema, keyFields);
        try {
            table.refresh();
            Snapshot current = table.currentSnapshot();
            long snapshot = current == null ? -1 : current.snapshotId();
            String stamp = stamp(SnapshotPositions.committed(table).map(SourcePosition::encoded).orElse(""), schema, snapshot);
            if (!stamp.equals(index.meta.get("stamp"))) {
                index.rebuild(table, current, stamp);
            }
            index.snapshotId = snapshot;
            return index;
        } catch (RuntimeException | AssertionError e) {
            index.closeImmediately();
            throw e;
        }
    }

    /** Removes an index file that cannot be used; the next open builds it again from the table. */
    static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException io) {
            throw new UncheckedIOException("Cannot remove the key index " + file, io);
        }
    }

    private static String stamp(String position, Schema schema, long snapshotId) {
        return FORMAT + "|" + schema.schemaId() + "|" + position + "|" + snapshotId;
    }

    /** The table snapshot the index is as of: its locations are valid there (-1 for a table without one). */
    long snapshotId() {
        return snapshotId;
    }

    private void rebuild(Table table, Snapshot snapshot, String stamp) {
        long started = System.nanoTime();
        entries.clear();
        files.clear();
        meta.clear();
        loadFiles();
        store.commit();
        long[] keys = {0};
        long[] puts = {0};
        if (kind == Kind.OPEN_VERSIONS) {
            LiveRows.read(table, snapshot, schema, Expressions.isNull("_valid_to"), (r, location) -> {
                Object key = key(key(r, keyFields));
                String position = (String) r.getField("_position");
                byte[] existing = entries.get(key);
                // A key's versions are closed in position order: of two open ones the later is its open version.
                if (existing == null || position(existing).compareTo(position) < 0) {
                    keys[0] += existing == null ? 1 : 0;
                    Record row = HistoryWriter.valueBytes(r) <= HistoryWriter.MAX_CACHED_VALUE_BYTES ? r : null;
                    entries.put(key, encode(new Entry(location, position, row)));
                    if (++puts[0] % COMMIT_EVERY == 0) {
                        store.commit();
                    }
                }
            });
        } else {
            Schema keySchema = TypeUtil.select(schema, new java.util.HashSet<>(keyFields.stream().map(Types.NestedField::fieldId).toList()));
            LiveRows.read(table, snapshot, keySchema, Expressions.alwaysTrue(), (r, location) -> {
                keys[0]++;
                entries.put(key(key(r, keyFields)), encode(new Entry(location, null, null)));
                if (++puts[0] % COMMIT_EVERY == 0) {
                    store.commit();
                }
            });
        }
        meta.put("stamp", stamp);
        store.commit();
        LOG.info("Built the key index of {}: {} keys in {} ms", table.name(), keys[0], (System.nanoTime() - started) / 1_000_000);
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
     * {@code keys} in the index's order when each is a single whole number (the order of the
     * B-tree's leaves, so a micro-batch reads each leaf it touches once rather than once per key
     * when the page cache cannot hold them), else as given.
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
        try {
            byte[] value = entries.get(key(key));
            if (value == null) {
                return Found.NONE;
            }
            Entry e = decode(value);
            if (kind == Kind.OPEN_VERSIONS && e.row() == null) {
                return Found.IN_TABLE_ONLY;
            }
            held.accept(e);
            return Found.HELD;
        } catch (RuntimeException | AssertionError e) {
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
     * once the table has committed it as snapshot {@code snapshot} at {@code committed}, and commits
     * the index. {@code cleared}: the micro-batch removed every row first (a truncate).
     */
    void update(Map<List<Object>, Entry> changed, boolean cleared, SourcePosition committed, long snapshot) {
        // The puts below may reach the file in several commits (whenever
        // MVStore's background thread writes changed pages). Until the new stamp is committed the
        // file must name no position: a process killed in between leaves part of this micro-batch
        // in it, and after a roll-back to the watermark the table is back at the previous
        // position, which the old stamp would wrongly vouch for.
        meta.remove("stamp");
        store.commit();
        if (cleared) {
            entries.clear();
            files.clear();
            loadFiles();
        }
        for (List<Object> k : inIndexOrder(changed.keySet())) {
            Entry entry = changed.get(k);
            if (entry == null) {
                entries.remove(key(k));
            } else {
                entries.put(key(k), encode(entry));
            }
        }
        meta.put("stamp", stamp(committed.encoded(), schema, snapshot));
        store.commit();
        snapshotId = snapshot;
    }

    int schemaId() {
        return schema.schemaId();
    }

    /**
     * Closes the index, writing what is not yet written. A file less than
     * {@link #COMPACT_BELOW_FILL_RATE}% live and above {@link #REWRITE_ABOVE_BYTES} is then rewritten
     * with its live pages only ({@code MVStoreTool.compact}, which replaces the file atomically): the
     * copy-on-write B-tree leaves most of a file dead after bulk loads and random updates, which the
     * background compaction does not keep up with. A failed rewrite removes the file: the next
     * start builds it again from the table.
     */
    @Override
    public void close() {
        String file = store.getFileStore().getFileName();
        int fillRate = liveRate(store);
        store.close();
        rewriteIfSparse(Path.of(file), fillRate, REWRITE_ABOVE_BYTES);
    }

    /** The share of the file that live pages take, in percent: the chunks' share of the file times the live share of the chunks. */
    static int liveRate(MVStore store) {
        return store.getFillRate() * store.getFileStore().getChunksFillRate() / 100;
    }

    /** Rewrites a closed index file with its live pages when less than half of it is live and it is above {@code minBytes}. */
    static void rewriteIfSparse(Path file, int fillRate, long minBytes) {
        try {
            long before = Files.size(file);
            if (fillRate < COMPACT_BELOW_FILL_RATE && before > minBytes) {
                long started = System.nanoTime();
                org.h2.mvstore.MVStoreTool.compact(file.toString(), false);
                LOG.info("Rewrote the key index {} with its live pages: {} -> {} bytes ({}% live) in {} ms", file, before,
                        Files.size(file), fillRate, (System.nanoTime() - started) / 1_000_000);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot rewrite the key index {} ({}); removing it, the next start builds it again from its table", file, e.toString());
            delete(file);
        }
    }

    /** Closes the file without writing anything more (after a failure). */
    void closeImmediately() {
        store.closeImmediately();
    }

    /**
     * A key's values (normalized as {@link HistoryWriter#normalized}) as the index's key: a single
     * whole number as itself (MVStore writes a long in a few bytes and compares it without decoding),
     * anything else as the UTF-8 bytes of {@link #text}, which MVStore copies whole (a string key
     * is written one character at a time).
     */
    static Object key(List<Object> values) {
        if (values.size() == 1 && values.get(0) instanceof Long number) {
            return number;
        }
        return text(values).getBytes(StandardCharsets.UTF_8);
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
            files.put(id, path);
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
