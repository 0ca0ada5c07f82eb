package io.tributary.source.postgres.engine;

import io.tributary.source.postgres.convert.ChangeEventConverter;
import io.tributary.source.postgres.offset.OffsetCodec;
import io.tributary.spi.ChangeBatch;
import io.tributary.spi.ChangeEvent;
import io.tributary.source.postgres.Lsn;
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
import java.util.function.Consumer;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Turns Debezium's record stream into {@link ChangeBatch}es of at most {@code maxBatchEvents}
 * events, ordered by (commit LSN, index in transaction). A transaction's records are held until its
 * END marker, which carries the commit LSN ({@link OpenTransaction}, which spills a large one to
 * disk); initial snapshot rows are positioned at the snapshot's LSN by ordinal.
 *
 * <p>A transaction larger than a batch is handed over in several batches. Each but the last carries
 * the offset of the last record before the transaction: a restart after committing part of it
 * replays the whole transaction, and the lake skips the events it already holds by position.
 *
 * <p>Each batch tells its consistent position ({@link ChangeBatch#consistent()}): its {@code through}
 * when it ends between transactions, and the end of the last complete transaction (the position
 * delivered before the split one) for a batch cut inside a transaction.
 *
 * <p>Only records that end a unit (a transaction's END, a snapshot read, a heartbeat between
 * transactions) are kept for acknowledgement, in a FIFO with the position whose commit makes them
 * safe to acknowledge. The records of an open transaction are not kept: Debezium keeps only the
 * latest offset of a source partition ({@code RecordCommitter.markProcessed} records it and the
 * task's {@code commitRecord} keeps the last one), so acknowledging the END record covers them.
 * Not thread-safe: the capture thread only.
 */
public final class BatchAssembler<R> {
    /**
     * A batch is also handed over once its events' {@link ChangeEvent#estimatedBytes()} reach this,
     * so a transaction of a few huge values does not travel as one batch.
     */
    static final long MAX_BATCH_ESTIMATE = 64L << 20;

    /** Debezium's {@code source.snapshot} of an incremental snapshot's reads. */
    private static final String INCREMENTAL = "incremental";

    /** A record that may be acknowledged once the lake has committed {@code position}. */
    private static final class Pending<R> {
        private final R handle;
        private final SourcePosition position;
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
    private final java.util.function.Function<R, SourceRecord> unwrap;
    private final OpenTransaction transaction;
    private final int maxBatchEvents;
    private final SourcePosition resumeFrom;
    private final java.util.Set<String> fencesSeen = new java.util.HashSet<>();
    private SourcePosition lastDelivered;
    /** The position of the last event handed over (the lake's watermark at first): every event comes after it. */
    private SourcePosition lastHandedOver;
    private long polls;
    private boolean streaming;
    private boolean inTransaction;
    // While a transaction's events are released into batches: a batch cut before its last event is
    // consistent only through what was delivered before the transaction.
    private boolean releasing;
    private SourcePosition releasingEnd;
    private boolean snapshotEnded;
    private long snapshotOrdinal;
    // The batch being filled, and the record whose offset resumes right after it (null when it is
    // the one last handed over, whose encoded form is lastOffset).
    private final List<ChangeEvent> events = new ArrayList<>();
    private final List<TableId> snapshotsStarted = new ArrayList<>();
    private final List<TableId> snapshotsCompleted = new ArrayList<>();
    private long eventsEstimate;
    private SourceRecord lastRecord;
    private SourceOffset lastOffset;
    private boolean undelivered;
    private Consumer<ChangeBatch> deliver;

    /**
     * @param resumeFrom     the position the lake has committed through: events of a replayed
     *                       transaction at or below it are dropped
     * @param resumeOffset   the offset stored with that position, if any
     * @param maxBatchEvents the most events one batch holds
     */
    public BatchAssembler(java.util.function.Function<R, SourceRecord> unwrap, ChangeEventConverter converter, SnapshotProgress progress, SourcePosition resumeFrom,
                          Optional<SourceOffset> resumeOffset, int maxBatchEvents) {
        this(unwrap, converter, progress, resumeFrom, resumeOffset, maxBatchEvents, OpenTransaction.Limits.DEFAULT);
    }

    BatchAssembler(java.util.function.Function<R, SourceRecord> unwrap, ChangeEventConverter converter, SnapshotProgress progress, SourcePosition resumeFrom,
                   Optional<SourceOffset> resumeOffset, int maxBatchEvents, OpenTransaction.Limits spill) {
        if (maxBatchEvents < 1) {
            throw new IllegalArgumentException("A batch must hold at least one event, got " + maxBatchEvents);
        }
        this.unwrap = unwrap;
        this.converter = converter;
        this.progress = progress;
        this.lastDelivered = resumeFrom;
        this.lastHandedOver = resumeFrom;
        this.resumeFrom = resumeFrom;
        this.lastOffset = resumeOffset.orElse(null);
        this.maxBatchEvents = maxBatchEvents;
        this.transaction = new OpenTransaction(converter, spill);
    }

    /**
     * Converts one poll's records into batches of at most {@code maxBatchEvents} events and hands
     * each to {@code deliver} in order, as soon as it is full: a spilled transaction is read back
     * one batch at a time, while {@code deliver} may block for back-pressure.
     */
    public void assemble(List<R> handles, Consumer<ChangeBatch> deliver) {
        this.deliver = deliver;
        polls++;
        for (R handle : handles) {
            SourceRecord record = unwrap.apply(handle);
            String topic = record.topic();
            if (topic.equals(DebeziumProperties.TOPIC_PREFIX + ".transaction")) {
                streaming = true;
                Struct value = (Struct) record.value();
                if ("BEGIN".equals(value.getString("status"))) {
                    transaction.close();
                    inTransaction = true;
                } else {
                    inTransaction = false;
                    Lsn commitLsn = commitLsn(record);
                    long[] count = {0};
                    // Without any offset to resume from yet, a part of the transaction cannot be
                    // committed alone: it then goes whole into one batch.
                    boolean cut = lastRecord != null || lastOffset != null;
                    releasing = true;
                    releasingEnd = commitLsn.position(Math.max(0, transaction.size() - 1));
                    try {
                        transaction.release(commitLsn, event -> {
                            count[0]++;
                            if (event.position().isAfter(resumeFrom)) {
                                events.add(event);
                                eventsEstimate += event.estimatedBytes();
                                if (cut && full()) {
                                    handOver(event.position());
                                }
                            }
                        });
                    } finally {
                        releasing = false;
                    }
                    SourcePosition last = commitLsn.position(Math.max(0, count[0] - 1));
                    addResolved(handle, last);
                    if (last.isAfter(lastDelivered)) {
                        lastDelivered = last;
                    }
                    lastRecord = record;
                    undelivered = true;
                }
            } else if (record.value() instanceof Struct value && value.schema().field("op") != null && !"m".equals(value.getString("op"))) {
                Struct source = value.getStruct("source");
                String snapshot = source.getString("snapshot");
                // Only a read is a snapshot row. After a restart Debezium's offset context may still
                // carry the snapshot marker of the record it resumed from (a chunk read), and the
                // first streamed change then shows it too: that change belongs to its transaction.
                boolean snapshotRead = snapshot != null && !snapshot.equals("false") && "r".equals(value.getString("op"));
                streaming |= !snapshotRead;
                if (INCREMENTAL.equals(snapshot)) {
                    streaming = true;
                    addIncrementalRead(handle, record, source);
                } else if (snapshotRead) {
                    Lsn lsn = new Lsn(source.getInt64("lsn"));
                    SourcePosition position = lsn.position(snapshotOrdinal++);
                    ChangeEvent event = converter.convert(record, position, 0, commitTime(source));
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
                    add(event);
                    undelivered = true;
                } else if (value.schema().field("transaction") != null && value.getStruct("transaction") != null) {
                    transaction.add(record);
                } else {
                    // A change outside transaction metadata: its own single-event transaction at its
                    // LSN. A change's LSN may lie at or below positions already delivered (chunk reads
                    // positioned after the previous transaction's commit, whose end LSN the next
                    // transaction's first change shares): it then takes the next position after
                    // them, so no position is used twice.
                    SourcePosition position = new Lsn(source.getInt64("lsn")).position(0);
                    if (!position.isAfter(lastDelivered)) {
                        position = new SourcePosition(lastDelivered.commitKey(), lastDelivered.eventIndex() + 1);
                    }
                    ChangeEvent event = converter.convert(record, position, transactionId(record), commitTime(source));
                    addResolved(handle, position);
                    lastDelivered = position;
                    lastRecord = record;
                    add(event);
                    undelivered = true;
                }
            } else {
                // Heartbeats, fences (logical decoding messages) and other non-data records: safe to
                // acknowledge once everything delivered before them is committed. Only the
                // streaming phase emits them.
                streaming = true;
                if (transaction.isEmpty()) {
                    // Acknowledging a record flushes an LSN of its offset to the slot (for a heartbeat,
                    // what the server's keepalive reported; for a marker message, its own LSN). The lake
                    // must record that position first, so the slot is never confirmed past the lake's
                    // watermark, and moves on when only other databases write. Every transaction
                    // delivered later commits after it.
                    SourcePosition reached = highestLsn(record).position(0);
                    if (reached.isAfter(lastDelivered)) {
                        lastDelivered = reached;
                    }
                    addResolved(handle, lastDelivered);
                    if (record.topic().endsWith(".message") && DebeziumProperties.FENCE_PREFIX.equals(messagePrefix(record))) {
                        fencesSeen.add(fenceId(record));
                    }
                    lastRecord = record;
                    undelivered = true;
                }
                // Among a transaction's changes it is not kept: acknowledging the END record covers it.
            }
        }
        if (undelivered || !events.isEmpty()) {
            handOver(lastDelivered);
        }
        this.deliver = null;
    }

    /**
     * An incremental snapshot's read (a table added to the pipeline is snapshotted while the others
     * stream): Debezium emits a chunk of rows where the stream reaches the chunk's window end, so the
     * reads take the stream's order, right after the last position delivered and before every
     * transaction delivered later. Read inside a transaction (a chunk is emitted before the change
     * that closed its window), the record's offset points into that transaction: it is then neither
     * acknowledged nor used to resume, and a restart reads the chunk again.
     */
    private void addIncrementalRead(R handle, SourceRecord record, Struct source) {
        SourcePosition base = lastDelivered;
        if (!inTransaction) {
            // Acknowledging the read flushes its offset's LSN to the slot: the lake records it first.
            Lsn reached = highestLsn(record);
            if (Lsn.of(base).isBefore(reached)) {
                base = reached.position(0);
            }
        }
        SourcePosition position = new SourcePosition(base.commitKey(), base.eventIndex() + 1);
        ChangeEvent event = converter.convert(record, position, 0, commitTime(source));
        progress.row(event.table());
        lastDelivered = position;
        if (!inTransaction) {
            addResolved(handle, position);
            lastRecord = record;
        }
        undelivered = true;
        add(event);
    }

    /** Adds an event of a unit (snapshot read, single change) already accounted in lastDelivered and lastRecord. */
    private void add(ChangeEvent event) {
        events.add(event);
        eventsEstimate += event.estimatedBytes();
        if (full()) {
            handOver(lastDelivered);
        }
    }

    private boolean full() {
        return events.size() >= maxBatchEvents || eventsEstimate >= MAX_BATCH_ESTIMATE;
    }

    /**
     * Hands the batch being filled to the consumer, confirming {@code through}; its offset is that
     * of the last record whose unit is complete, which for a part of a transaction is the record
     * before the transaction.
     */
    private void handOver(SourcePosition through) {
        if (lastRecord != null) {
            lastOffset = OffsetCodec.encode(lastRecord.sourcePartition(), lastRecord.sourceOffset());
            lastRecord = null;
        }
        if (lastOffset == null) {
            throw new IllegalStateException("No source offset to hand over a batch through " + through);
        }
        for (ChangeEvent event : events) {
            // A position used twice would make the lake skip or double an event: stop instead.
            if (!event.position().isAfter(lastHandedOver)) {
                throw new IllegalStateException("Change event of " + event.table() + " would be positioned at " + event.position()
                        + ", not after " + lastHandedOver + " already delivered");
            }
            lastHandedOver = event.position();
        }
        SourcePosition position = through.isAfter(lastDelivered) ? through : lastDelivered;
        // lastDelivered moves past a transaction only once all of it was released.
        SourcePosition consistent = releasing && releasingEnd.isAfter(position) ? lastDelivered : position;
        ChangeBatch batch = new ChangeBatch(List.copyOf(events), position, lastOffset, List.copyOf(snapshotsStarted), List.copyOf(snapshotsCompleted),
                consistent);
        events.clear();
        eventsEstimate = 0;
        snapshotsStarted.clear();
        snapshotsCompleted.clear();
        undelivered = false;
        deliver.accept(batch);
    }

    /** Forgets an open transaction, deleting its spill file; the source re-delivers it after a restart. */
    public void close() {
        transaction.close();
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
        SourcePosition raised = lsn.position(0);
        if (!raised.isAfter(lastDelivered)) {
            return batch;
        }
        lastDelivered = raised;
        return new ChangeBatch(batch.events(), raised, batch.offset(), batch.snapshotStarted(), batch.snapshotCompleted(),
                batch.consistent().equals(batch.through()) ? raised : batch.consistent());
    }

    /** Records whose position is committed, oldest first, removed from the FIFO. */
    public List<R> acknowledgeable(SourcePosition committed) {
        List<R> out = new ArrayList<>();
        while (!pending.isEmpty() && !pending.peekFirst().position().isAfter(committed)) {
            out.add(pending.pollFirst().handle());
        }
        return out;
    }

    /** Whether a record of the streaming phase (not an initial snapshot read) has been seen. */
    public boolean streaming() {
        return streaming;
    }

    /**
     * Whether the stream has passed the fence: its message arrived, or a commit or keepalive
     * position after the message's LSN did (see {@link Fence}). Every transaction committed before
     * the fence was then delivered.
     */
    public boolean fencePassed(Fence fence) {
        return fencesSeen.contains(fence.id()) || fence.messageLsn().isBefore(Lsn.of(lastDelivered));
    }

    /** The highest LSN in a record's offset ({@code lsn}, {@code lsn_proc}, {@code lsn_commit}). */
    private Lsn highestLsn(SourceRecord record) {
        Lsn highest = Lsn.of(lastDelivered);
        Map<String, ?> offset = record.sourceOffset();
        for (String key : OFFSET_LSN_KEYS) {
            if (offset.get(key) instanceof Number n && highest.isBefore(new Lsn(n.longValue()))) {
                highest = new Lsn(n.longValue());
            }
        }
        return highest;
    }

    /**
     * The LSNs of a PostgreSQL connector's offset: the record's, the last completely processed one
     * and the last commit's ({@code PostgresOffsetContext}'s {@code lsn}, {@code lsn_proc} and
     * {@code lsn_commit}).
     */
    private static final List<String> OFFSET_LSN_KEYS = List.of("lsn", "lsn_proc", "lsn_commit");

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

    private static Lsn commitLsn(SourceRecord end) {
        Map<String, ?> offset = end.sourceOffset();
        Object lsn = offset.get("lsn_commit");
        if (lsn == null) {
            lsn = offset.get("lsn");
        }
        return new Lsn(((Number) lsn).longValue());
    }

    static long transactionId(SourceRecord record) {
        Long txId = ((Struct) record.value()).getStruct("source").getInt64("txId");
        return txId == null ? 0 : txId;
    }

    static Instant commitTime(Struct source) {
        if (source.schema().field("ts_us") != null && source.getInt64("ts_us") != null) {
            long micros = source.getInt64("ts_us");
            return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
        }
        return Instant.ofEpochMilli(source.getInt64("ts_ms"));
    }
}
