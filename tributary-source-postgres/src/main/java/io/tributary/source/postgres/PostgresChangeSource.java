package io.tributary.source.postgres;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.source.postgres.convert.ChangeEventConverter;
import io.tributary.source.postgres.engine.AddedTables;
import io.tributary.source.postgres.engine.BatchAssembler;
import io.tributary.source.postgres.engine.Fence;
import io.tributary.source.postgres.engine.DebeziumProperties;
import io.tributary.source.postgres.engine.InProcessSignalChannel;
import io.tributary.source.postgres.engine.SnapshotProgress;
import io.tributary.source.postgres.offset.LakeOffsetBackingStore;
import io.tributary.source.postgres.offset.OffsetCodec;
import io.tributary.source.postgres.slot.PostgresConnector;
import io.tributary.source.postgres.slot.ReplicationSetup;
import io.tributary.spi.ChangeBatch;
import io.tributary.spi.ChangeHandler;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures a PostgreSQL database through logical replication ({@code pgoutput}) with the Debezium
 * embedded engine: initial snapshot, then streaming. Resumes from the {@link SourceOffset} the lake
 * committed last, and acknowledges to the slot only what the handler reports as committed.
 */
public final class PostgresChangeSource implements ChangeSource {
    private static final Logger LOG = LoggerFactory.getLogger(PostgresChangeSource.class);

    /** WAL the server must have written past the last position seen before a heartbeat is worth a lake commit. */
    private static final long HEARTBEAT_MIN_WAL_BYTES = 64 * 1024;

    private final PostgresSourceConfig config;
    private final PostgresConnector connector;
    private final Optional<SourceOffset> resumeOffset;
    private final SourcePosition resumePosition;
    private final boolean keepRaw;
    private final AtomicReference<DebeziumEngine<io.debezium.engine.ChangeEvent<SourceRecord, SourceRecord>>> engine = new AtomicReference<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean closed;
    private volatile boolean stopRequested;
    private volatile boolean streamed;
    private final AtomicReference<Thread> stopper = new AtomicReference<>();
    private final java.util.concurrent.locks.ReentrantLock handling = new java.util.concurrent.locks.ReentrantLock();

    /**
     * @param resumeOffset   the offset stored with the lake's last commit, empty on first start
     * @param resumePosition the position the lake has committed through
     * @param rawLayer       whether events carry their Debezium JSON for the raw layer
     */
    public PostgresChangeSource(PostgresSourceConfig config, Optional<SourceOffset> resumeOffset, SourcePosition resumePosition, RawEvents rawLayer) {
        this.config = config;
        this.connector = new PostgresConnector(config);
        this.resumeOffset = resumeOffset;
        this.resumePosition = resumePosition;
        this.keepRaw = rawLayer == RawEvents.KEEP;
        this.heartbeat = config.heartbeatInterval();
    }

    private java.time.Duration heartbeat;

    /** Sets a heartbeat shorter than the configured one, e.g. the commit interval, so idle batches commit on time. */
    private ReplicationSetup.PreviousSession previousSession = ReplicationSetup.PreviousSession.STOPPED_CLEANLY;

    /** How the session that captured before this one ended; see {@link ReplicationSetup#checkSlotContinuity}. */
    public PostgresChangeSource after(ReplicationSetup.PreviousSession previous) {
        this.previousSession = java.util.Objects.requireNonNull(previous, "previous is null");
        return this;
    }

    public PostgresChangeSource withHeartbeatAtMost(java.time.Duration interval) {
        this.heartbeat = interval.compareTo(config.heartbeatInterval()) < 0 ? interval : config.heartbeatInterval();
        return this;
    }

    private int maxBatchEvents = Integer.MAX_VALUE;

    /** Hands change events over in batches of at most this many; a larger transaction spans several. */
    public PostgresChangeSource withBatchesOfAtMost(int events) {
        this.maxBatchEvents = events;
        return this;
    }

    /** Whether change events carry the source's JSON envelope. */
    public enum RawEvents { KEEP, DROP }

    /** Checks the server and prepares the publication; see {@link ReplicationSetup}. */
    public ReplicationSetup.Prepared prepare() {
        return new ReplicationSetup(connector).prepare();
    }

    public ReplicationSetup setup() {
        return new ReplicationSetup(connector);
    }

    /**
     * Commits a transaction holding only a logical decoding message (the fence) and returns it.
     * Once the stream passes it, every transaction committed before it has been delivered.
     * Transactional, because Debezium locates its resume point by commits: a stream with no
     * transaction past the stored offset delivers nothing at all.
     */
    public Fence emitFence() {
        String id = UUID.randomUUID().toString();
        return new Fence(id, emitMessage(DebeziumProperties.FENCE_PREFIX, id));
    }

    /**
     * Commits a transaction holding only a heartbeat message. pgoutput skips transactions that
     * touch no published table, so while the captured tables are idle and other databases write,
     * the stream carries nothing the lake could commit and the slot would retain all that WAL. The
     * heartbeat gives the stream a position to commit (a watermark-only commit) and acknowledge.
     * Written by Tributary at {@code source.heartbeat} rather than by Debezium's
     * {@code heartbeat.action.query}, which would run at every engine heartbeat (the commit interval).
     */
    private void emitHeartbeat(SourcePosition lastSeen) {
        // Only when the server wrote something since: an idle cluster gets no heartbeat transactions,
        // and the lake no watermark-only commits.
        try (Connection c = connector.open();
             PreparedStatement ps = c.prepareStatement("SELECT pg_logical_emit_message(true, ?, '')::text WHERE pg_current_wal_lsn() - ?::pg_lsn > ?")) {
            ps.setString(1, DebeziumProperties.HEARTBEAT_PREFIX);
            ps.setString(2, Lsn.of(lastSeen).toString());
            ps.setLong(3, HEARTBEAT_MIN_WAL_BYTES);
            ps.executeQuery().close();
        } catch (SQLException | TributaryException e) {
            LOG.warn("Cannot write a heartbeat to slot {}: {}. While the captured tables are idle, the slot retains WAL; check the connection",
                    config.slotName(), e.getMessage());
        }
    }

    /** How long an incremental snapshot may see no change event before its window is nudged. */
    static final java.time.Duration SNAPSHOT_NUDGE = java.time.Duration.ofSeconds(1);
    /**
     * How long an incremental snapshot may read no row while the stream is idle and nudged before
     * capture restarts from the lake's position.
     */
    static final java.time.Duration SNAPSHOT_STALL = java.time.Duration.ofSeconds(15);

    /** When the capture thread last handed over a batch holding change events. */
    private volatile java.time.Instant lastEvents = java.time.Instant.now();
    /** Whether an incremental snapshot was requested and has not completed; set by the capture thread. */
    private volatile boolean snapshotRunning;
    /** The tables the running incremental snapshot still reads, for messages; set by the capture thread. */
    private volatile List<TableId> snapshotTables = List.of();

    /**
     * Debezium's read-only incremental snapshot emits a chunk once the stream shows a transaction
     * the chunk's query could not see ({@code PostgresReadOnlyIncrementalSnapshotChangeEventSource}):
     * a data change of a captured table past the high watermark's {@code xmax}, or a decoded commit
     * whose transaction id equals that {@code xmax} or is at or below its {@code xmin} (PostgreSQL,
     * "Snapshot Information Functions": {@code pg_current_snapshot}). On a quiet source none comes,
     * Debezium's streaming loop idles and delivers nothing, and the snapshot stalls. A transactional
     * heartbeat message is such a transaction: written by a timer every {@link #SNAPSHOT_NUDGE} while
     * a snapshot runs, the engine is idle (no batch being handed over) and no change event arrived
     * for as long.
     * <p>
     * It is not always enough: the commit must carry exactly the high watermark's {@code xmax}, the
     * next transaction id the cluster hands out, and a transaction that pgoutput does not decode can
     * take it first (another database's, an ANALYZE's, one that touches no published table). Any
     * later decoded commit that is not a data change (a heartbeat, another application's logical
     * message) then leaves the snapshot waiting for a change on the captured tables, which may never
     * come. After {@link #SNAPSHOT_STALL} without a snapshot row while nudged, capture stops with a
     * {@link ErrorCode#SOURCE_FAILED} error, which the pipeline treats as a lost connection: it
     * restarts from the lake's position, and Debezium's restart reads the chunk again under new
     * watermarks.
     */
    private void nudgeSnapshotWindow() {
        java.time.Instant now = java.time.Instant.now();
        if (!snapshotRunning || handling.isLocked() || now.isBefore(lastEvents.plus(SNAPSHOT_NUDGE))) {
            return;
        }
        if (!now.isBefore(lastEvents.plus(SNAPSHOT_STALL)) && !stopRequested) {
            failure.compareAndSet(null, new TributaryException(ErrorCode.SOURCE_FAILED, "The incremental snapshot of " + snapshotTables
                    + " has read no row for " + SNAPSHOT_STALL.toSeconds() + " s while the stream was idle: Debezium's read-only snapshot waits for a commit"
                    + " at its high watermark that a transaction it does not decode took (another database's, or one touching no published table)."
                    + " Capture restarts from the lake's position and reads the chunk again. If this repeats, look for a transaction left open"
                    + " (pg_stat_activity.backend_xid): it holds every window back until a captured table changes"));
            stopInBackground();
            return;
        }
        try {
            emitMessage(DebeziumProperties.HEARTBEAT_PREFIX, "");
        } catch (TributaryException e) {
            LOG.warn("Cannot write a heartbeat to slot {} for the running snapshot: {}. The snapshot waits for the next transaction on the captured database; check the connection",
                    config.slotName(), e.getMessage());
        }
    }

    /** Commits a transaction holding one logical decoding message; returns the message's WAL position. */
    private Lsn emitMessage(String prefix, String content) {
        try (Connection c = connector.open();
             PreparedStatement ps = c.prepareStatement("SELECT pg_logical_emit_message(true, ?, ?)::text")) {
            ps.setString(1, prefix);
            ps.setString(2, content);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return Lsn.parse(rs.getString(1));
            }
        } catch (SQLException e) {
            throw connector.translate(e);
        }
    }

    /**
     * Refuses to share the replication slot: a slot streams to one connection at a time, and a second
     * reader would take over its acknowledgements. The walsender of a pipeline that was just killed
     * lingers for a moment, so an active slot is polled for {@link #SLOT_RELEASE_WAIT} first.
     */
    private void refuseSlotInUse() {
        ReplicationSetup setup = setup();
        long deadline = System.nanoTime() + SLOT_RELEASE_WAIT.toNanos();
        java.util.OptionalInt pid = setup.slotActivePid();
        while (pid.isPresent() && System.nanoTime() < deadline) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            pid = setup.slotActivePid();
        }
        if (pid.isPresent()) {
            throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Cannot start streaming from replication slot " + config.slotName()
                    + ": it is in use by server process " + pid.getAsInt() + " (see pg_stat_replication for its client). Stop the other pipeline"
                    + " that reads this slot, or give this one its own slot (source.slot)", null);
        }
    }

    /** How long a replication slot in use by another connection is waited for before refusing to start. */
    static final java.time.Duration SLOT_RELEASE_WAIT = java.time.Duration.ofSeconds(5);

    /**
     * A table captured only from now on would lack the rows it had before: a table added to an
     * existing pipeline is snapshotted on its own while the others stream (Debezium's read-only
     * incremental snapshot), which needs its primary key and PostgreSQL 13. An empty one needs no
     * snapshot: it joined the publication before it was found empty, so the stream carries every row.
     */
    private AddedTables planAddedTables(List<TableId> tables, SourceOffset resumeFrom) {
        Optional<List<TableId>> captured = OffsetCodec.tables(resumeFrom);
        if (captured.isEmpty()) {
            return AddedTables.none(tables);
        }
        List<TableId> added = tables.stream().filter(t -> !captured.get().contains(t)).toList();
        if (added.isEmpty()) {
            return AddedTables.none(tables);
        }
        List<TableId> running = OffsetCodec.incrementalSnapshotTables(resumeFrom);
        List<TableId> resumed = added.stream().filter(running::contains).toList();
        java.util.Set<TableId> complete = new java.util.HashSet<>(captured.get());
        List<TableId> toRequest = new java.util.ArrayList<>();
        ReplicationSetup setup = setup();
        for (TableId table : added) {
            if (resumed.contains(table)) {
                continue;
            }
            if (setup.isEmpty(table)) {
                complete.add(table);
            } else {
                toRequest.add(table);
            }
        }
        java.util.Map<TableId, String> obstacles = setup.incrementalSnapshotObstacles(toRequest);
        if (!obstacles.isEmpty()) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot capture " + obstacles.entrySet().stream().map(e -> e.getKey() + " (" + e.getValue() + ")")
                    .collect(java.util.stream.Collectors.joining(", ")) + " in pipeline through slot " + config.slotName()
                    + ": a table added after the initial snapshot is snapshotted on its own while the others stream, and this one cannot be. "
                    + "Leave it out of source.tables (and the publication), or run `tributary resnapshot -c <pipeline.yaml>` to snapshot every table again");
        }
        if (!resumed.isEmpty()) {
            LOG.info("Resuming the snapshot of table(s) {} where it stopped, while streaming the others", resumed);
        }
        if (!toRequest.isEmpty()) {
            LOG.info("Snapshotting added table(s) {} while streaming the others", toRequest);
        }
        return new AddedTables(tables, complete, resumed, toRequest);
    }

    /**
     * Which tables a new initial snapshot reads in chunks while streaming (resumable after a crash)
     * and which by the blocking snapshot from the new slot's exported snapshot (started over after a
     * crash). Chunked are the tables estimated above {@code source.snapshot.resumable-above} rows that
     * Debezium's read-only incremental snapshot can read: a primary key, PostgreSQL 13 or later, not
     * empty now (an empty one would never be listed in Debezium's offset, see {@link AddedTables}).
     * A snapshot asked for by {@code tributary resnapshot} replaces silver and stays blocking; a
     * blocking snapshot that died part-way starts over with the same tables it read before
     * ({@code resumeFrom}'s captured tables), since their rows are being replaced.
     */
    private AddedTables planInitialSnapshot(ReplicationSetup.Prepared prepared, Optional<SourceOffset> resumeFrom) {
        List<TableId> tables = prepared.tables();
        if (resumeFrom.map(SourceOffset::requestsInitialSnapshot).orElse(false)) {
            return AddedTables.none(tables);
        }
        List<TableId> blockingBefore = resumeFrom.flatMap(OffsetCodec::tables).orElse(List.of());
        long threshold = config.snapshot().resumableAbove();
        ReplicationSetup setup = setup();
        List<TableId> candidates = tables.stream()
                .filter(t -> prepared.estimatedRows().getOrDefault(t, 0L) > threshold && !blockingBefore.contains(t) && !setup.isEmpty(t))
                .toList();
        java.util.Map<TableId, String> obstacles = setup.incrementalSnapshotObstacles(candidates);
        obstacles.forEach((table, reason) -> LOG.info("Initial snapshot of {} is blocking and starts over after a crash: {}", table, reason));
        List<TableId> resumable = candidates.stream().filter(t -> !obstacles.containsKey(t)).toList();
        if (resumable.isEmpty()) {
            return AddedTables.none(tables);
        }
        LOG.info("Initial snapshot of {} in chunks of {} rows while streaming (resumes after a crash), of the other tables from the slot's exported snapshot",
                resumable, config.snapshot().chunkSize());
        java.util.Set<TableId> blocking = new java.util.HashSet<>(tables);
        resumable.forEach(blocking::remove);
        return new AddedTables(tables, blocking, List.of(), resumable);
    }

    /**
     * Where the replication slot is confirmed, read after {@link #run} returned. pgjdbc confirms a
     * keepalive's server position on its own once every message it received was acknowledged, so
     * the slot may stand past the lake's watermark with nothing captured in between; the pipeline
     * records that position so a restart does not take it for a gap.
     */
    private Optional<Lsn> slotConfirmedFlushLsn() {
        if (!streamed) {
            // Mid initial snapshot the slot is replaced on restart; its position means nothing yet.
            return Optional.empty();
        }
        return setup().slot().flatMap(ReplicationSetup.SlotState::confirmedFlushLsn);
    }

    /**
     * The replication slot's {@code confirmed_flush_lsn} when it is past {@code committed}: only this
     * pipeline's connection moved the slot, and only past changes the lake has or WAL with nothing
     * to capture (keepalives, heartbeats, other databases' writes).
     */
    @Override
    public Optional<SourcePosition> quietPositionAfter(SourcePosition committed) {
        return slotConfirmedFlushLsn().filter(confirmed -> Lsn.of(committed).isBefore(confirmed)).map(confirmed -> confirmed.position(0));
    }

    @Override
    public void run(ChangeHandler handler, RunMode mode) {
        ReplicationSetup.Prepared prepared = prepare();
        refuseSlotInUse();
        List<TableId> tables = prepared.tables();
        String seedId = UUID.randomUUID().toString();
        // A new initial snapshot asked for by the operator starts like a first one, from a new slot.
        Optional<SourceOffset> seedOffset = resumeOffset.filter(offset -> !offset.requestsInitialSnapshot());
        AddedTables added = AddedTables.none(tables);
        boolean initialSnapshot = seedOffset.map(OffsetCodec::midSnapshot).orElse(true);
        if (initialSnapshot) {
            if (setup().dropInactiveSlot()) {
                LOG.warn("Dropped replication slot {}: the initial snapshot starts over, from a new slot's exported snapshot", config.slotName());
            }
            added = planInitialSnapshot(prepared, resumeOffset);
        } else {
            added = planAddedTables(tables, seedOffset.get());
            setup().checkSlotContinuity(Lsn.of(resumePosition), previousSession);
        }
        seedOffset.ifPresent(offset -> LakeOffsetBackingStore.seed(seedId, OffsetCodec.storeEntry(config.slotName(), offset)));
        BatchAssembler<io.debezium.engine.ChangeEvent<SourceRecord, SourceRecord>> assembler = new BatchAssembler<>(io.debezium.engine.ChangeEvent::value, new ChangeEventConverter(keepRaw, prepared.keyOnlyIdentity()), new SnapshotProgress(prepared.estimatedRows()), resumePosition, seedOffset, maxBatchEvents);
        LOG.info("Capturing {} table(s) from {} through slot {} and publication {}{}", tables.size(), config.jdbcUrl(), config.slotName(),
                config.publicationName(), seedOffset.isPresent() ? ", resuming after " + resumePosition : ", starting with an initial snapshot");
        AtomicReference<Fence> fence = new AtomicReference<>();
        AddedTables addedTables = added;
        java.util.concurrent.atomic.AtomicBoolean snapshotsRequested = new java.util.concurrent.atomic.AtomicBoolean(added.toRequest().isEmpty());
        java.util.Properties properties = DebeziumProperties.build(config, tables, seedId, heartbeat, prepared.identityKeys());
        if (added.snapshotting()) {
            properties = DebeziumProperties.withIncrementalSnapshots(properties, config.snapshot().chunkSize());
        }
        if (initialSnapshot && added.snapshotting()) {
            List<TableId> resumable = added.toRequest();
            List<TableId> blocking = tables.stream().filter(t -> !resumable.contains(t)).toList();
            properties = DebeziumProperties.withBlockingSnapshotOf(properties, blocking);
        }
        java.util.concurrent.atomic.AtomicBoolean handedOver = new java.util.concurrent.atomic.AtomicBoolean(seedOffset.isPresent());
        AtomicReference<SourcePosition> lastSeen = new AtomicReference<>(resumePosition);
        AtomicReference<java.time.Instant> lastProgress = new AtomicReference<>(java.time.Instant.now());
        DebeziumEngine<io.debezium.engine.ChangeEvent<SourceRecord, SourceRecord>> built = DebeziumEngine.create(Connect.class)
                .using(properties)
                .notifying((records, committer) -> {
                    handling.lock();
                    try {
                        if (closed) {
                            // Stopping: leave these unacknowledged; a restart re-delivers them.
                            return;
                        }
                        AtomicReference<Optional<SourcePosition>> accepted = new AtomicReference<>(Optional.empty());
                        AtomicReference<SourcePosition> deliveredThrough = new AtomicReference<>();
                        java.util.concurrent.atomic.AtomicBoolean handedEvents = new java.util.concurrent.atomic.AtomicBoolean();
                        try {
                            assembler.assemble(records, delivered -> {
                                if (closed) {
                                    // A large transaction is handed over batch by batch: stop between two.
                                    throw new StopDelivery();
                                }
                                ChangeBatch batch = new ChangeBatch(delivered.events(), delivered.through(), OffsetCodec.withTables(delivered.offset(), addedTables.capturedAsOf(delivered.events(), delivered.offset())),
                                        delivered.snapshotStarted(), delivered.snapshotCompleted(), delivered.consistent());
                                if (assembler.takeSnapshotEnded()) {
                                    // The snapshot's rows carry Debezium's snapshot LSN, a little before the new
                                    // slot's consistent point, where the slot is confirmed. The lake's watermark
                                    // moves there too, so a restart does not mistake the difference for a gap.
                                    Optional<Lsn> consistentPoint = setup().slot().flatMap(ReplicationSetup.SlotState::confirmedFlushLsn);
                                    if (consistentPoint.isPresent()) {
                                        batch = assembler.raiseTo(batch, consistentPoint.get());
                                    }
                                }
                                deliveredThrough.set(batch.through());
                                handedOver.set(true);
                                if (!batch.events().isEmpty()) {
                                    lastEvents = java.time.Instant.now();
                                    handedEvents.set(true);
                                }
                                accepted.set(handler.accept(batch));
                            });
                        } catch (StopDelivery stopping) {
                            // Leave the rest unacknowledged; a restart replays the transaction and the
                            // lake skips what it committed.
                            return;
                        }
                        if (!snapshotsRequested.get() && assembler.streaming() && handedOver.get()) {
                            // Asked for once streaming runs: Debezium's incremental snapshots run beside the stream.
                            // And once a batch carried an offset, so a chunk read inside the first
                            // transaction has an offset before it to resume from.
                            InProcessSignalChannel.requestIncrementalSnapshot(seedId, addedTables.toRequest());
                            snapshotsRequested.set(true);
                        }
                        if (mode == RunMode.CATCH_UP && fence.get() == null && assembler.streaming() && !addedTables.snapshotting()) {
                            // Written only once streaming has begun (heartbeats flow even from a quiet
                            // source): the stream then starts at or before the fence, so the fence is
                            // decoded after every transaction committed before it. Written earlier, an
                            // initial snapshot that starts over after a crash would begin past it.
                            // Not while an incremental snapshot runs: a commit that is no data change
                            // can leave its window waiting (see nudgeSnapshotWindow), and catching up
                            // waits for the snapshot anyway.
                            fence.set(emitFence());
                        }
                        streamed |= assembler.streaming();
                        java.time.Instant now = java.time.Instant.now();
                        boolean running = addedTables.snapshotting() && snapshotsRequested.get();
                        if (running && !snapshotRunning) {
                            // The stall clock starts with the snapshot.
                            lastEvents = now;
                        }
                        snapshotRunning = running;
                        snapshotTables = running ? addedTables.running() : List.of();
                        SourcePosition through = deliveredThrough.get();
                        if (through != null && through.isAfter(lastSeen.get())) {
                            lastSeen.set(through);
                            lastProgress.set(now);
                        } else if (assembler.streaming() && !running && !now.isBefore(lastProgress.get().plus(config.heartbeatInterval()))) {
                            // While an incremental snapshot runs its nudges are the heartbeats.
                            lastProgress.set(now);
                            emitHeartbeat(lastSeen.get());
                        }
                        Optional<SourcePosition> committed = accepted.get();
                        boolean caughtUp = fence.get() != null && assembler.fencePassed(fence.get()) && !addedTables.snapshotting();
                        if (caughtUp) {
                            committed = handler.drain();
                        }
                        if (committed.isPresent()) {
                            for (io.debezium.engine.ChangeEvent<SourceRecord, SourceRecord> done : assembler.acknowledgeable(committed.get())) {
                                committer.markProcessed(done);
                            }
                        }
                        committer.markBatchFinished();
                        if (handedEvents.get()) {
                            // Handing over may take a while (a lake commit): the idle time counts from here.
                            lastEvents = java.time.Instant.now();
                        }
                        if (caughtUp && !stopRequested) {
                            LOG.info("Caught up with the source: every transaction committed before the fence is in the lake");
                            stopInBackground();
                        }
                    } catch (RuntimeException e) {
                        failure.compareAndSet(null, e);
                        stopInBackground();
                        throw e;
                    } finally {
                        handling.unlock();
                    }
                })
                .using((success, message, error) -> {
                    if (!success && error != null && !closed) {
                        failure.compareAndSet(null, error);
                    }
                })
                .build();
        engine.set(built);
        java.util.concurrent.ScheduledExecutorService nudger = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tributary-snapshot-nudge");
            t.setDaemon(true);
            return t;
        });
        try {
            if (closed) {
                return;
            }
            if (added.resumes()) {
                // Debezium reads a chunk as it starts, then decodes the stream from the lake's
                // position. A commit decoded after that chunk must carry an id at or below the chunk's
                // xmin, or exactly its xmax, to emit it; one committed now, before the chunk, is.
                // Without it the first decoded commit could be a heartbeat that a transaction of
                // another database kept from the xmax (see nudgeSnapshotWindow).
                emitMessage(DebeziumProperties.HEARTBEAT_PREFIX, "");
            }
            if (added.snapshotting()) {
                nudger.scheduleWithFixedDelay(this::nudgeSnapshotWindow, SNAPSHOT_NUDGE.toMillis(), SNAPSHOT_NUDGE.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            }
            built.run();
            // Stopping the engine interrupts the thread that runs it, which is ours: a stop we asked
            // for must not leave the interrupt flag set for the caller's next blocking call.
            Thread stopper = this.stopper.get();
            if (stopper != null) {
                try {
                    stopper.join(30_000);
                } catch (InterruptedException expected) {
                    // the stopper's own interrupt of this thread
                }
            }
            if (closed || failure.get() != null || stopRequested) {
                Thread.interrupted();
            }
        } finally {
            nudger.shutdownNow();
            LakeOffsetBackingStore.forget(seedId);
            InProcessSignalChannel.forget(seedId);
            closeEngine();
            assembler.close();
        }
        Throwable error = failure.get();
        if (error != null) {
            throw translate(error);
        }
    }

    private TributaryException translate(Throwable error) {
        if (error instanceof TributaryException t) {
            return t;
        }
        for (Throwable c = error; c != null; c = c.getCause()) {
            if (c instanceof TributaryException t) {
                return t;
            }
            if (c instanceof SQLException sql) {
                return connector.translate(sql);
            }
        }
        String message = config.password().map(p -> p.mask(String.valueOf(error.getMessage()))).orElse(String.valueOf(error.getMessage()));
        return new TributaryException(ErrorCode.SOURCE_FAILED, "Cannot capture changes through slot " + config.slotName() + ": " + message, error);
    }

    /** Ends the hand-over of a poll's batches when the source is closed part-way. */
    private static final class StopDelivery extends RuntimeException {
        StopDelivery() {
            super(null, null, false, false);
        }
    }

    /** Closes the engine from another thread: close() waits for the consumer thread, which may be the caller. */
    private void stopInBackground() {
        stopRequested = true;
        Thread thread = new Thread(this::closeEngine, "tributary-capture-stop");
        thread.setDaemon(true);
        if (stopper.compareAndSet(null, thread)) {
            thread.start();
        }
    }

    private void closeEngine() {
        DebeziumEngine<?> e = engine.get();
        if (e != null) {
            try {
                e.close();
            } catch (IOException ex) {
                LOG.warn("Debezium engine did not close cleanly: {}. The slot is released when the connection drops", ex.getMessage());
            } catch (IllegalStateException alreadyStopped) {
                // Debezium's asynchronous engine refuses a second close ("Engine has been already
                // shut down"): it stopped on its own (a failure, or the end of --once), or the
                // stopper thread closed it first. Either way it is closed, which is what was asked.
                LOG.debug("Debezium engine was already shut down: {}", alreadyStopped.getMessage());
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        // Wait for a commit in progress: closing the engine interrupts its thread. The engine is closed
        // by the one stopper thread, which run() waits for before clearing that interrupt.
        handling.lock();
        handling.unlock();
        if (engine.get() != null && !stopRequested) {
            endReplicationConnection();
        }
        stopInBackground();
    }

    /**
     * Ends the slot's walsender. Debezium's engine stops polling before it stops its streaming
     * thread, which then waits up to 90 s on a full event queue; with the connection gone and the
     * handler discarding what is queued, the streaming thread ends at once. Nothing is lost: what
     * was not committed is re-delivered from the slot on restart.
     */
    private void endReplicationConnection() {
        try (Connection c = connector.open();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE slot_name = ? AND active_pid IS NOT NULL")) {
            ps.setString(1, config.slotName());
            ps.execute();
        } catch (SQLException | TributaryException e) {
            LOG.debug("Could not end the replication connection of slot {} early: {}", config.slotName(), e.getMessage());
        }
    }
}
