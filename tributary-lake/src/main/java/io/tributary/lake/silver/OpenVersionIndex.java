package io.tributary.lake.silver;

import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.spi.SourcePosition;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.avro.AvroSchemaUtil;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.avro.PlannedDataReader;
import org.apache.iceberg.data.avro.DataWriter;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Types;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open version of every key of one history table, in a local H2 MVStore file (a B-tree on disk
 * with a bounded page cache), so a micro-batch finds the versions it closes without reading the
 * table: a key the index does not hold has no open version. It is a cache of the table, never the
 * record: it holds the history table's position and schema id as of its last update, and is built
 * again from the table (one pass over the open versions, each key's latest) whenever they differ,
 * as after a crash between the table's commit and the index's, a roll-back to the watermark, or a
 * schema change; an update clears the stamp before it writes, so an update cut short by a crash
 * names no position and is built again too. Versions whose values exceed {@link HistoryWriter#MAX_CACHED_VALUE_BYTES} are held
 * as a marker only, and read from the table when needed. Values are encoded with Iceberg's Avro
 * datum writer for the table's schema. Not thread-safe: one writer thread per table.
 */
final class OpenVersionIndex implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenVersionIndex.class);
    /** Version of the file's layout; 2: a single whole-number key column is stored as a long, any other key as bytes. */
    private static final int FORMAT = 2;
    /**
     * MVStore's background thread rewrites chunks with less live data than this percentage, a
     * little at a time: each commit writes the pages it changed anew (copy on write).
     */
    private static final int COMPACT_BELOW_FILL_RATE = 50;
    /** Puts between two commits of the store, which bound the changed pages it holds in memory. */
    private static final int COMMIT_EVERY = 5_000;
    /** Changed pages MVStore holds before its background thread writes them, in KiB. */
    private static final int AUTO_COMMIT_KB = 1024;
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
     * the two, and 73 µs with 48 entries and string keys.
     */
    private static final int KEYS_PER_PAGE = 16;

    private final MVStore store;
    private final MVMap<Object, byte[]> versions;
    private final MVMap<String, String> meta;
    private final Schema schema;
    private final List<Types.NestedField> keyFields;
    private final DataWriter<Record> writer;
    private final PlannedDataReader<Record> reader;
    private BinaryEncoder encoder;
    /** The buffer values are encoded into, reset for each; replaced after a large value so its size is not held. */
    private ByteArrayOutputStream buffer = new ByteArrayOutputStream(256);
    /** A buffer grown above this many bytes is dropped after use. */
    private static final int BUFFER_KEPT_BYTES = 64 * 1024;
    private BinaryDecoder decoder;

    private OpenVersionIndex(MVStore store, Schema schema, List<Types.NestedField> keyFields) {
        this.store = store;
        this.versions = store.openMap("versions");
        this.meta = store.openMap("meta");
        this.schema = schema;
        this.keyFields = keyFields;
        org.apache.avro.Schema avro = AvroSchemaUtil.convert(schema, "version");
        this.writer = DataWriter.create(avro);
        this.reader = PlannedDataReader.create(schema);
        // The schema the values were written with: the same.
        this.reader.setSchema(avro);
    }

    /**
     * Opens the index of {@code table} in {@code file}, building it again from the table when it
     * does not match the table's committed position and schema (or cannot be opened).
     */
    static OpenVersionIndex open(Path file, Table table, Schema schema, List<Types.NestedField> keyFields) {
        try {
            Files.createDirectories(file.getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot create the folder of the history index " + file, e);
        }
        try {
            return openChecked(file, table, schema, keyFields);
        } catch (org.h2.mvstore.MVStoreException e) {
            if (e.getErrorCode() == org.h2.mvstore.DataUtils.ERROR_FILE_LOCKED) {
                // Another process (or catalog) has it open: left alone, the caller reads the table.
                throw e;
            }
            LOG.warn("Cannot open the history index {} ({}); building it again from {}", file, e.getMessage(), table.name());
        } catch (AssertionError e) {
            // MVStore's own consistency checks (with -ea) on a file a killed process left.
            LOG.warn("Cannot open the history index {} ({}); building it again from {}", file, e.getMessage(), table.name());
        }
        delete(file);
        return openChecked(file, table, schema, keyFields);
    }

    private static OpenVersionIndex openChecked(Path file, Table table, Schema schema, List<Types.NestedField> keyFields) {
        MVStore store = new MVStore.Builder().fileName(file.toString()).cacheSize(CACHE_MB).autoCompactFillRate(COMPACT_BELOW_FILL_RATE)
                .autoCommitBufferSize(AUTO_COMMIT_KB).keysPerPage(KEYS_PER_PAGE).open();
        store.setRetentionTime(RETENTION_MS);
        OpenVersionIndex index = new OpenVersionIndex(store, schema, keyFields);
        try {
            String position = SnapshotPositions.committed(table).map(SourcePosition::encoded).orElse("");
            String stamp = stamp(position, schema);
            if (!stamp.equals(index.meta.get("stamp"))) {
                index.rebuild(table, stamp);
            }
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
            throw new UncheckedIOException("Cannot remove the history index " + file, io);
        }
    }

    private static String stamp(String position, Schema schema) {
        return FORMAT + "|" + schema.schemaId() + "|" + position;
    }

    private void rebuild(Table table, String stamp) {
        long started = System.nanoTime();
        versions.clear();
        meta.clear();
        store.commit();
        long[] keys = {0};
        long[] puts = {0};
        try {
            boolean read = OpenVersionReader.read(table, schema, keyFields, Expressions.alwaysTrue(), null, r -> {
                Object key = key(OpenVersionReader.key(r, keyFields));
                String position = (String) r.getField("_position");
                byte[] existing = versions.get(key);
                if (existing == null || position(existing).compareTo(position) < 0) {
                    keys[0] += existing == null ? 1 : 0;
                    versions.put(key, HistoryWriter.valueBytes(r) <= HistoryWriter.MAX_CACHED_VALUE_BYTES ? encode(r, position) : marker(position));
                    if (++puts[0] % COMMIT_EVERY == 0) {
                        store.commit();
                    }
                }
            });
            if (!read) {
                throw new IllegalStateException(table.name() + " holds delete files the history writer does not write");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot read the open versions of " + table.name() + " to build its index", e);
        }
        meta.put("stamp", stamp);
        store.commit();
        LOG.info("Built the open-version index of {}: {} keys in {} ms", table.name(), keys[0], (System.nanoTime() - started) / 1_000_000);
    }

    /** What the index knows of a key's open version. */
    enum Found { NONE, HELD, IN_TABLE_ONLY }

    /**
     * Looks a key up: {@link Found#NONE} when it has no open version, {@link Found#HELD} with the
     * version (in the form the table's writers take) handed to {@code held}, or
     * {@link Found#IN_TABLE_ONLY} for a version too large for the index.
     */
    Found lookup(List<Object> key, java.util.function.Consumer<Record> held) {
        try {
            return find(key, held);
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

    private Found find(List<Object> key, java.util.function.Consumer<Record> held) {
        byte[] value = versions.get(key(key));
        if (value == null) {
            return Found.NONE;
        }
        Record r = decode(value);
        if (r == null) {
            return Found.IN_TABLE_ONLY;
        }
        held.accept(r);
        return Found.HELD;
    }

    /**
     * Records the open versions a micro-batch left, once the history table has committed it at
     * {@code committed}, and commits the index.
     */
    void update(Map<List<Object>, HistoryBatch.Version> open, SourcePosition committed) {
        // The puts below reach the file in several commits (every COMMIT_EVERY puts, and whenever
        // MVStore's background thread writes changed pages). Until the new stamp is committed the
        // file must name no position: a process killed in between leaves part of this micro-batch
        // in it, and after a roll-back to the watermark the table is back at the previous
        // position, which the old stamp would wrongly vouch for.
        meta.remove("stamp");
        store.commit();
        int puts = 0;
        for (Map.Entry<List<Object>, HistoryBatch.Version> e : open.entrySet()) {
            Record r = e.getValue().row;
            String position = (String) r.getField("_position");
            versions.put(key(e.getKey()), e.getValue().cacheable() ? encode(r, position) : marker(position));
            if (++puts % COMMIT_EVERY == 0) {
                // Bounds the changed pages held in memory.
                store.commit();
            }
        }
        meta.put("stamp", stamp(committed.encoded(), schema));
        store.commit();
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
                LOG.info("Rewrote the history index {} with its live pages: {} -> {} bytes ({}% live) in {} ms", file, before,
                        Files.size(file), fillRate, (System.nanoTime() - started) / 1_000_000);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warn("Cannot rewrite the history index {} ({}); removing it, the next start builds it again from its table", file, e.toString());
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

    // A value: the version's _position (length-prefixed), then its Avro encoding; no Avro part for a marker.
    private byte[] encode(Record r, String position) {
        ByteArrayOutputStream out = buffer;
        out.reset();
        // Whole arrays only: ByteArrayOutputStream's methods are synchronized, a lock per call.
        out.writeBytes(marker(position));
        // Avro's buffered encoder hands its output over in blocks (the direct one writes byte by byte).
        encoder = EncoderFactory.get().binaryEncoder(out, encoder);
        try {
            writer.write(r, encoder);
            encoder.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        byte[] value = out.toByteArray();
        if (value.length > BUFFER_KEPT_BYTES) {
            buffer = new ByteArrayOutputStream(256);
        }
        return value;
    }

    private static byte[] marker(String position) {
        byte[] p = position.getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[p.length + 1];
        out[0] = (byte) p.length;
        System.arraycopy(p, 0, out, 1, p.length);
        return out;
    }

    private static String position(byte[] value) {
        return new String(value, 1, value[0], StandardCharsets.US_ASCII);
    }

    private Record decode(byte[] value) {
        int offset = 1 + value[0];
        if (offset == value.length) {
            return null;
        }
        decoder = DecoderFactory.get().binaryDecoder(value, offset, value.length - offset, decoder);
        try {
            return reader.read(null, decoder);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
