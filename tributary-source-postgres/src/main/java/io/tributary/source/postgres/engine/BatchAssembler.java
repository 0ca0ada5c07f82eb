package io.tributary.source.postgres.engine;

import io.tributary.source.postgres.convert.ChangeEventConverter;
import io.tributary.source.postgres.offset.OffsetCodec;
import io.tributary.spi.ChangeBatch;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.Lsn;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Turns Debezium's record stream into {@link ChangeBatch}es ordered by (commit LSN, index in
 * transaction). A transaction's records are held until its END marker, which carries the commit
 * LSN; initial snapshot rows are positioned at the snapshot's LSN by ordinal. Every record, data or
 * not, is kept in a FIFO with the position whose commit makes it safe to acknowledge.
 * Not thread-safe: the capture thread only.
 */
public final class BatchAssembler<R> {
    /**
     * A record that may be acknowledged once the lake has committed {@code position}; the records
     * of an open transaction get their position when its END marker arrives.
     */
    private static final class Pending<R> {
        private final R handle;
        private SourcePosition position;
        private long poll;

        Pending(R handle, SourcePosition position) {
            this.handle = handle;
            this.position = position;
        }

        R handle() {
            return handle;
        }

        SourcePosition position() {
            return position;
        }
    }

    private final ChangeEventConverter converter;
    private final SnapshotProgress progress;
    private final Deque<Pending<R>> pending = new ArrayDeque<>();
    private final List<Pending<R>> unresolved = new ArrayList<>();
    private final java.util.function.Function<R, SourceRecord> unwrap;
    private final List<SourceRecord> transaction = new ArrayList<>();
    private final java.util.Set<String> fencesSeen = new java.util.HashSet<>();
    private SourcePosition lastDelivered;
    private long polls;
    private boolean streaming;
    private boolean snapshotEnded;
    private long snapshotOrdinal;

    public BatchAssembler(java.util.function.Function<R, SourceRecord> unwrap, ChangeEventConverter converter, SnapshotProgress progress, SourcePosition resumeFrom) {
        this.unwrap = unwrap;
        this.converter = converter;
        this.progress = progress;
        this.lastDelivered = resumeFrom;
    }

    /** Converts one poll's records into at most one batch. */
    public Optional<ChangeBatch> assemble(List<R> handles) {
        polls++;
        List<ChangeEvent> events = new ArrayList<>();
        List<TableId> snapshotsStarted = new ArrayList<>();
        List<TableId> snapshotsCompleted = new ArrayList<>();
        SourceRecord lastRecord = null;
        for (R handle : handles) {
            SourceRecord record = unwrap.apply(handle);
            String topic = record.topic();
            if (topic.equals(DebeziumProperties.TOPIC_PREFIX + ".transaction")) {
                streaming = true;
                Struct value = (Struct) record.value();
                if ("BEGIN".equals(value.getString("status"))) {
                    transaction.clear();
                    addUnresolved(handle);
                } else {
                    Lsn commitLsn = commitLsn(record);
                    int index = 0;
                    for (SourceRecord data : transaction) {
                        Struct v = (Struct) data.value();
                        Struct source = v.getStruct("source");
                        SourcePosition position = new SourcePosition(commitLsn, index++);
                        events.add(converter.convert(data, position, source.getInt64("txId") == null ? 0 : source.getInt64("txId"), commitTime(source)));
                    }
                    SourcePosition last = new SourcePosition(commitLsn, Math.max(0, index - 1));
                    resolvePending(last);
                    addResolved(handle, last);
                    transaction.clear();
                    lastDelivered = last;
                    lastRecord = record;
                }
            } else if (record.value() instanceof Struct value && value.schema().field("op") != null && !"m".equals(value.getString("op"))) {
                Struct source = value.getStruct("source");
                String snapshot = source.getString("snapshot");
                boolean snapshotRead = snapshot != null && !snapshot.equals("false");
                streaming |= !snapshotRead;
                if (snapshotRead) {
                    Lsn lsn = new Lsn(source.getInt64("lsn"));
                    SourcePosition position = new SourcePosition(lsn, snapshotOrdinal++);
                    ChangeEvent event = converter.convert(record, position, 0, commitTime(source));
                    events.add(event);
                    if (snapshot.equals("first") || snapshot.equals("first_in_data_collection")) {
                        snapshotsStarted.add(event.table());
                    }
                    progress.row(event.table());
                    snapshotEnded |= snapshot.equals("last");
                    if (snapshot.equals("last") || snapshot.equals("last_in_data_collection")) {
                        snapshotsCompleted.add(event.table());
                        progress.finished(event.table());
                    }
                    addResolved(handle, position);
                    lastDelivered = position;
                    lastRecord = record;
                } else if (value.schema().field("transaction") != null && value.getStruct("transaction") != null) {
                    transaction.add(record);
                    addUnresolved(handle);
                } else {
                    // A change outside transaction metadata (should not happen with provide.transaction.metadata):
                    // its own single-event transaction at its LSN.
                    SourcePosition position = new SourcePosition(new Lsn(source.getInt64("lsn")), 0);
                    events.add(converter.convert(record, position, source.getInt64("txId") == null ? 0 : source.getInt64("txId"), commitTime(source)));
                    addResolved(handle, position);
                    lastDelivered = position;
                    lastRecord = record;
                }
            } else {
                // Heartbeats, fences (logical decoding messages) and other non-data records: safe to
                // acknowledge once everything delivered before them is committed. Only the
                // streaming phase emits them.
                streaming = true;
                if (!transaction.isEmpty()) {
                    addUnresolved(handle);
                } else {
                    // Acknowledging a record flushes an LSN of its offset to the slot (for a heartbeat,
                    // what the server's keepalive reported; for a marker message, its own LSN). The lake
                    // must record that position first, so the slot is never confirmed past the lake's
                    // watermark, and moves on when only other databases write. Every transaction
                    // delivered later commits after it.
                    SourcePosition reached = new SourcePosition(highestLsn(record), 0);
                    if (reached.isAfter(lastDelivered)) {
                        lastDelivered = reached;
                    }
                    addResolved(handle, lastDelivered);
                    if (record.topic().endsWith(".message") && DebeziumProperties.FENCE_PREFIX.equals(messagePrefix(record))) {
                        fencesSeen.add(fenceId(record));
                    }
                    lastRecord = record;
                }
            }
        }
        if (lastRecord == null) {
            return Optional.empty();
        }
        SourceOffset offset = OffsetCodec.encode(lastRecord.sourcePartition(), lastRecord.sourceOffset());
        return Optional.of(new ChangeBatch(events, lastDelivered, offset, snapshotsStarted, snapshotsCompleted));
    }

    /** Whether the initial snapshot delivered its last row since the last call. */
    public boolean takeSnapshotEnded() {
        boolean ended = snapshotEnded;
        snapshotEnded = false;
        return ended;
    }

    /**
     * Raises the delivered position to {@code (lsn, 0)} when that is later, for a point every
     * transaction delivered from now on commits after: the replication slot's consistent point at
     * the end of the initial snapshot read from its exported snapshot. Returns the batch with it.
     */
    public ChangeBatch raiseTo(ChangeBatch batch, Lsn lsn) {
        SourcePosition raised = new SourcePosition(lsn, 0);
        if (!raised.isAfter(lastDelivered)) {
            return batch;
        }
        lastDelivered = raised;
        return new ChangeBatch(batch.events(), raised, batch.offset(), batch.snapshotStarted(), batch.snapshotCompleted());
    }

    /** Records whose position is committed, oldest first, removed from the FIFO. */
    public List<R> acknowledgeable(SourcePosition committed) {
        List<R> out = new ArrayList<>();
        while (!pending.isEmpty() && pending.peekFirst().position() != null && !pending.peekFirst().position().isAfter(committed)) {
            out.add(pending.pollFirst().handle());
        }
        return out;
    }

    /** Whether a record of the streaming phase (not an initial snapshot read) has been seen. */
    public boolean streaming() {
        return streaming;
    }

    /** Whether the fence message with this id has passed: every transaction committed before it was delivered. */
    public boolean fenceSeen(String fenceId) {
        return fencesSeen.contains(fenceId);
    }

    /** The highest LSN in a record's offset ({@code lsn}, {@code lsn_proc}, {@code lsn_commit}). */
    private Lsn highestLsn(SourceRecord record) {
        Lsn highest = lastDelivered.commitLsn();
        for (Map.Entry<String, ?> e : record.sourceOffset().entrySet()) {
            if (e.getKey().startsWith("lsn") && e.getValue() instanceof Number n && highest.isBefore(new Lsn(n.longValue()))) {
                highest = new Lsn(n.longValue());
            }
        }
        return highest;
    }

    private static String messagePrefix(SourceRecord record) {
        Struct message = ((Struct) record.value()).getStruct("message");
        return message == null ? null : message.getString("prefix");
    }

    private static String fenceId(SourceRecord record) {
        return new String(((Struct) record.value()).getStruct("message").getBytes("content"), java.nio.charset.StandardCharsets.UTF_8);
    }

    /**
     * Queues a record to acknowledge at {@code position}. Debezium keeps only the latest offset of a
     * source partition, so a resolved record queued in the same poll as the one before it replaces
     * it: acknowledging the later record covers both, and the FIFO holds one record per poll
     * instead of every record of the batch until the lake commit.
     */
    private void addResolved(R handle, SourcePosition position) {
        Pending<R> tail = pending.peekLast();
        if (tail != null && tail.poll == polls && tail.position != null && !tail.position.isAfter(position)) {
            pending.pollLast();
        }
        Pending<R> p = new Pending<>(handle, position);
        p.poll = polls;
        pending.add(p);
    }

    private void addUnresolved(R handle) {
        Pending<R> p = new Pending<>(handle, null);
        pending.add(p);
        unresolved.add(p);
    }

    /**
     * The END marker of the open transaction arrived at {@code position}: its records become
     * acknowledgeable there. When they are the tail of the FIFO they are dropped instead, as the END
     * record queued next covers them.
     */
    private void resolvePending(SourcePosition position) {
        boolean tail = !unresolved.isEmpty() && pending.peekLast() == unresolved.get(unresolved.size() - 1);
        for (Pending<R> p : unresolved) {
            p.position = position;
        }
        if (tail) {
            for (int i = 0; i < unresolved.size(); i++) {
                pending.pollLast();
            }
        }
        unresolved.clear();
    }

    private static Lsn commitLsn(SourceRecord end) {
        Map<String, ?> offset = end.sourceOffset();
        Object lsn = offset.get("lsn_commit");
        if (lsn == null) {
            lsn = offset.get("lsn");
        }
        return new Lsn(((Number) lsn).longValue());
    }

    private static Instant commitTime(Struct source) {
        if (source.schema().field("ts_us") != null && source.getInt64("ts_us") != null) {
            long micros = source.getInt64("ts_us");
            return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
        }
        return Instant.ofEpochMilli(source.getInt64("ts_ms"));
    }
}
