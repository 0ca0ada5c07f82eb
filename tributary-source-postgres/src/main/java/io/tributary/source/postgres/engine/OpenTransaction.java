package io.tributary.source.postgres.engine;

import io.tributary.source.postgres.convert.ChangeEventConverter;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ErrorCode;
import io.tributary.source.postgres.Lsn;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The change records of the transaction being received, held until its END marker gives them their
 * commit LSN. Up to {@link Limits} they stay in memory as Debezium records; past them every record
 * is converted and appended to a spill file ({@link EventCodec}), read back in order when the
 * transaction ends. The file is opened with {@code DELETE_ON_CLOSE}, which on Linux and macOS
 * unlinks it at once: its space is returned when it is closed or the process dies, even by SIGKILL.
 * Not thread-safe: the capture thread only.
 */
final class OpenTransaction implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(OpenTransaction.class);

    /**
     * When to spill: once the records held in memory would exceed {@code events} records or about
     * {@code bytes} of values. A single record is never spilled alone: it has to be in memory whole anyway.
     */
    record Limits(int events, long bytes, Path directory) {
        static final Limits DEFAULT = new Limits(10_000, 64L << 20, Path.of(System.getProperty("java.io.tmpdir")));

        Limits {
            if (events < 1) {
                throw new IllegalArgumentException("Spill threshold must be at least one event, got " + events);
            }
            if (bytes < 1) {
                throw new IllegalArgumentException("Spill threshold must be at least one byte, got " + bytes);
            }
        }
    }

    private final ChangeEventConverter converter;
    private final Limits limits;
    private final List<SourceRecord> held = new ArrayList<>();
    private long heldBytes;
    private long events;
    private Spill spill;

    OpenTransaction(ChangeEventConverter converter, Limits limits) {
        this.converter = converter;
        this.limits = limits;
    }

    void add(SourceRecord record) {
        events++;
        if (spill != null) {
            spill.append(record);
            return;
        }
        long bytes = estimate(record);
        if (!held.isEmpty() && (held.size() + 1 > limits.events() || heldBytes + bytes > limits.bytes())) {
            spill = new Spill(limits.directory());
            LOG.info("Transaction {} holds more than {} change events or ~{} MiB: spilling it to a temporary file in {}",
                    BatchAssembler.transactionId(held.get(0)), held.size(), (heldBytes + bytes) >> 20, limits.directory());
            for (SourceRecord h : held) {
                spill.append(h);
            }
            held.clear();
            heldBytes = 0;
            spill.append(record);
            return;
        }
        held.add(record);
        heldBytes += bytes;
    }

    /** How many change events the transaction holds so far. */
    long size() {
        return events;
    }

    boolean isEmpty() {
        return held.isEmpty() && spill == null;
    }

    /** Whether the transaction's events are in a spill file rather than in memory. */
    boolean spilled() {
        return spill != null;
    }

    /**
     * Hands every event to {@code out} in transaction order, positioned at ({@code commitLsn}, index),
     * then forgets them (deleting the spill file).
     */
    void release(Lsn commitLsn, Consumer<ChangeEvent> out) {
        try {
            if (spill != null) {
                spill.release(commitLsn, out);
            } else {
                long index = 0;
                // One commit key for the whole transaction, not one per event.
                String commitKey = SourcePosition.sequenceKey(commitLsn.value());
                for (SourceRecord record : held) {
                    out.accept(convert(record, new SourcePosition(commitKey, index++)));
                }
            }
        } finally {
            close();
        }
    }

    /** Forgets the held records (and the spill file), e.g. when a transaction is not ended. */
    @Override
    public void close() {
        events = 0;
        held.clear();
        heldBytes = 0;
        if (spill != null) {
            spill.close();
            spill = null;
        }
    }

    private ChangeEvent convert(SourceRecord record, SourcePosition position) {
        Struct source = ((Struct) record.value()).getStruct("source");
        return converter.convert(record, position, BatchAssembler.transactionId(record), BatchAssembler.commitTime(source));
    }

    /** A rough size of a record's values: what it keeps in memory, and again as raw JSON. */
    private static long estimate(SourceRecord record) {
        Struct value = (Struct) record.value();
        return 256 + rowBytes(value, "before") + rowBytes(value, "after");
    }

    private static long rowBytes(Struct value, String image) {
        if (value.schema().field(image) == null) {
            return 0;
        }
        Struct row = value.getStruct(image);
        if (row == null) {
            return 0;
        }
        long bytes = 0;
        for (Field field : row.schema().fields()) {
            Object v = row.get(field);
            if (v instanceof String s) {
                bytes += 2L * s.length();
            } else if (v instanceof byte[] b) {
                bytes += 2L * b.length;
            } else if (v instanceof java.nio.ByteBuffer b) {
                bytes += 2L * b.remaining();
            } else {
                bytes += 16;
            }
        }
        return bytes;
    }

    /** The spill file of one transaction. */
    private final class Spill {
        private final Path path;
        private final FileChannel channel;
        private final DataOutputStream out;
        private final EventCodec codec = new EventCodec();
        private long events;

        Spill(Path directory) {
            this.path = directory.resolve("tributary-transaction-" + UUID.randomUUID() + ".spill");
            try {
                this.channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE,
                        StandardOpenOption.DELETE_ON_CLOSE);
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot create a spill file for a large transaction in " + directory + ": "
                        + e.getMessage() + ". Make room there or point java.io.tmpdir at a larger disk", e);
            }
            this.out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16));
        }

        void append(SourceRecord record) {
            // The commit LSN is not known yet: a conversion error names the change's own LSN and index.
            Struct source = ((Struct) record.value()).getStruct("source");
            ChangeEvent event = convert(record, new Lsn(source.getInt64("lsn")).position(events));
            try {
                codec.write(event, out);
                events++;
            } catch (IOException e) {
                throw failure("write", e);
            }
        }

        void release(Lsn commitLsn, Consumer<ChangeEvent> sink) {
            long size;
            try {
                out.flush();
                size = channel.size();
                channel.position(0);
            } catch (IOException e) {
                throw failure("write", e);
            }
            LOG.info("Transaction committed at {} ended: reading back its {} change events ({} MiB spilled)", commitLsn, events, size >> 20);
            DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(channel), 1 << 16));
            String commitKey = SourcePosition.sequenceKey(commitLsn.value());
            for (long index = 0; index < events; index++) {
                ChangeEvent event;
                try {
                    event = codec.read(in, new SourcePosition(commitKey, index));
                } catch (IOException e) {
                    throw failure("read", e);
                }
                sink.accept(event);
            }
        }

        void close() {
            try {
                channel.close();
            } catch (IOException e) {
                LOG.warn("Cannot close the spill file {}: {}. Delete it if it is still there", path, e.getMessage());
            }
        }

        private TributaryException failure(String action, IOException e) {
            return new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot " + action + " the spill file of a large transaction in " + path.getParent()
                    + ": " + e.getMessage() + ". Make room there or point java.io.tmpdir at a larger disk", e);
        }
    }
}
