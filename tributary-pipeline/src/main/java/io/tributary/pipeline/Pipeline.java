package io.tributary.pipeline;

import io.tributary.config.PipelineConfig;
import io.tributary.lake.Lake;
import io.tributary.lake.commit.CommitSummary;
import io.tributary.lake.commit.CommittedState;
import io.tributary.spi.ChangeBatch;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeHandler;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One pipeline: captures the source, cuts micro-batches ({@code commit.interval} after the first
 * event buffered, checked at every delivery and by a timer between them, or at
 * {@code commit.max-events}), commits each to the lake, and only then lets the source acknowledge
 * (the commit protocol of ARCHITECTURE.md). Gold models are rebuilt after silver commits, at most
 * once per {@code models.interval}. Capture runs on the caller's thread and commits on one commit
 * thread, so the next micro-batch is read while the previous one is written; {@link #close()} from
 * another thread stops capture, and {@link #run} returns after committing what was delivered.
 * {@link #run} first takes the lake's lease (a second pipeline on the same lake is refused), renews
 * it on the commit thread while idle, and releases it when it returns. While it holds the lease, table
 * maintenance runs every {@code maintenance.interval} on a thread of its own (unless disabled).
 *
 * <p>A lake worker (a source shared by several pipelines, {@code source.workers: group}) holds the
 * shards its source {@link #claim}s instead of the whole lake: it takes the lake's lease only when
 * it is free, and then also runs maintenance and gold for the lake; the other workers land their
 * shards only, and take the lease over when its holder's goes stale.
 */
public final class Pipeline implements ChangeHandler, Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);
    /**
     * A micro-batch is also cut once its events' {@link ChangeEvent#estimatedBytes()} reach this; one
     * that large (a huge value) is committed before capture goes on, as writing it to Parquet takes
     * several times its size in heap.
     */
    static final long MICRO_BATCH_ESTIMATE = 64L << 20;

    private final PipelineConfig config;
    private final Lake lake;
    private final Clock clock;
    private final List<ChangeEvent> buffer = new ArrayList<>();
    private final java.util.Set<io.tributary.spi.TableId> snapshotStarted = new java.util.HashSet<>();
    private final GoldSchedule goldSchedule;
    private final AtomicReference<ChangeSource> source = new AtomicReference<>();
    private final PipelineStatus status = new PipelineStatus();
    private SourcePosition bufferedThrough;
    private long bufferedEstimate;
    private SourceOffset bufferedOffset;
    private SourcePosition bufferedConsistent;
    /** Lake workers: where each held shard stands after the buffered batches. */
    private final Map<String, io.tributary.spi.ShardProgress> bufferedShards = new java.util.HashMap<>();
    /** Whether the source is shared by several pipelines ({@code source.workers: group}). */
    private final boolean workers;
    /** Lake workers: whether each shard was caught up in the last micro-batch submitted. */
    private final Map<String, Boolean> submittedCaughtUp = new java.util.HashMap<>();
    /** Lake workers: whether this one holds the lake's lease (it runs maintenance and gold). */
    private volatile boolean maintainer;
    private Instant bufferStarted;
    private volatile SourcePosition committed = SourcePosition.BEGINNING;
    private SourcePosition submitted = SourcePosition.BEGINNING;
    private Instant lastSubmit = Instant.EPOCH;
    private java.util.concurrent.Future<?> inFlight;
    /**
     * Guards the buffer and the micro-batch in flight: the source's thread delivers and drains, the
     * batch timer ({@link #submitIfDue}) submits a buffer that became due while nothing was delivered.
     */
    private final java.util.concurrent.locks.ReentrantLock buffering = new java.util.concurrent.locks.ReentrantLock();
    private final java.util.concurrent.ExecutorService committer = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tributary-commit");
        t.setDaemon(true);
        return t;
    });
    /** Tables whose initial snapshot was delivered as started and not yet as completed. */
    private final java.util.Set<io.tributary.spi.TableId> snapshotting = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean closed;
    private final AtomicReference<RuntimeException> leaseFailure = new AtomicReference<>();
    private volatile boolean leaseReleased;
    private MaintenanceSchedule maintenance;
    private final CloseLatch closing = new CloseLatch();
    /** Whether the previous session ended without releasing the lake (see {@link io.tributary.spi.SourceSession}). */
    private boolean previousEndedAbruptly;
    private volatile CommitListener listener = (events, visibleAt, commitTime) -> { };

    /**
     * Told about every micro-batch once it is committed and visible to readers, on the commit
     * thread: its events, when it became visible, and how long its lake commit took (writing its
     * files and committing every table and the state table).
     */
    @FunctionalInterface
    public interface CommitListener {
        void committed(List<ChangeEvent> events, Instant visibleAt, Duration commitTime);
    }

    public void onCommit(CommitListener listener) {
        this.listener = java.util.Objects.requireNonNull(listener, "listener is null");
    }

    public Pipeline(PipelineConfig config, Lake lake) {
        this.config = config;
        this.lake = lake;
        this.clock = Clock.systemUTC();
        this.goldSchedule = new GoldSchedule(config, lake, clock, this::announce, () -> !snapshotting.isEmpty());
        this.workers = config.source().sharedByWorkers();
    }

    public static Pipeline open(PipelineConfig config) {
        return new Pipeline(config, Lake.open(config.lake(), config.name(), config::optionsFor));
    }

    /**
     * Makes the next gold build of this run rebuild every model in full, incremental models included
     * (CLI {@code run --full-refresh}); call before {@link #run}.
     */
    public void fullRefreshModels() {
        goldSchedule.requestFullRefresh();
    }

    public PipelineStatus status() {
        return status;
    }

    public Lake lake() {
        return lake;
    }

    /**
     * Runs until {@link #close()} ({@code CONTINUOUS}) or until caught up with the source ({@code CATCH_UP}).
     *
     * @throws io.tributary.spi.TributaryException when the source or the lake fails
     */
    public void run(ChangeSource.RunMode mode) {
        MDC.put("pipeline", config.name());
        io.tributary.lake.layout.TableNames.requireDistinct(config.source().tables(), config.lake().history());
        if (workers) {
            maintainer = lake.acquireLeaseAsWorker();
            LOG.info(maintainer ? "Lake worker {} holds the lake's lease: it runs table maintenance and gold for the lake"
                    : "Lake worker {} lands its shards; another worker holds the lake's lease and runs maintenance and gold", config.name());
        } else {
            previousEndedAbruptly = lake.acquireLease() == io.tributary.lake.commit.StateTable.PreviousOwner.ENDED_WITHOUT_RELEASE;
        }
        java.util.concurrent.ScheduledExecutorService leaseTimer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tributary-lease");
            t.setDaemon(true);
            return t;
        });
        BatchTimer batchTimer = null;
        try {
            if (!workers) {
                // Before maintenance and capture start: tables a dead run committed past the watermark go
                // back to it (a lake worker does so per shard, as it claims them).
                lake.rollBackToWatermark();
            }
            if (!workers || maintainer) {
                // Key indexes of earlier releases sat in the warehouse; the state directory holds them now.
                lake.removeStateFromWarehouse();
                // A lake of an earlier release holds equality deletes, which many readers refuse: rewritten once.
                lake.convertEqualityDeletes();
            }
            // Renewed on the commit thread, between micro-batches; a commit renews it anyway.
            long every = Lake.LEASE_RENEWAL.toMillis() / 2;
            leaseTimer.scheduleWithFixedDelay(() -> committer.submit(this::renewLease), every, every, java.util.concurrent.TimeUnit.MILLISECONDS);
            batchTimer = BatchTimer.start(config.name(), config.commit().interval(), buffering, this::submitIfDue);
            if (config.maintenance().mode() == io.tributary.config.MaintenanceConfig.Mode.ENABLED) {
                maintenance = MaintenanceSchedule.start(new io.tributary.lake.maintenance.Maintenance(lake.catalog(), config.maintenance(), clock),
                        config.name(), config.maintenance().interval(), () -> !closed && !leaseReleased && leaseFailure.get() == null && lake.holdsLease());
            }
            announcer = config.lakeCommits().map(c -> io.tributary.spi.LakeCommitPublisher.Factory.open(io.tributary.config.LakeCommitsConfig.TYPE, c, config.name()))
                    .orElse(null);
            // Every table's current snapshot first: an announcement a crash left out is made now.
            announce(() -> {
                List<io.tributary.spi.LakeCommit> all = new java.util.ArrayList<>();
                for (io.tributary.lake.layout.Layer layer : io.tributary.lake.layout.Layer.values()) {
                    all.addAll(lake.currentCommits(config.name(), layer));
                }
                return all;
            });
            runLeased(mode);
        } catch (io.tributary.spi.TributaryException e) {
            lakeUnwritable = e.errorCode() == io.tributary.spi.ErrorCode.LAKE_IO_FAILED;
            throw e;
        } finally {
            if (announcer != null) {
                announcer.close();
            }
            if (maintenance != null) {
                maintenance.close();
            }
            if (batchTimer != null) {
                batchTimer.close();
            }
            leaseTimer.shutdownNow();
            leaseReleased = true;
            if (workers && !lakeUnwritable) {
                try {
                    lake.releaseShards(lake.heldShards());
                } catch (RuntimeException e) {
                    LOG.warn("Cannot release the shards of lake worker {}: {}. Another worker takes them over {} s after their last renewal",
                            config.name(), e.getMessage(), io.tributary.lake.commit.StateTable.LEASE_TIMEOUT.toSeconds());
                }
            }
            if (lakeUnwritable) {
                // Releasing is a commit too: it would wait for the storage through all its retries again.
                LOG.warn("The lake's lease is not released: the lake cannot be written. A restart on this host takes over at once, elsewhere after {} s",
                        io.tributary.lake.commit.StateTable.LEASE_TIMEOUT.toSeconds());
            } else {
                lake.releaseLease();
            }
        }
    }

    /** Set when a run ended because the lake's storage could not be written. */
    private boolean lakeUnwritable;
    /** Announces lake commits ({@code lake-commits}); null when not configured. */
    private io.tributary.spi.LakeCommitPublisher announcer;

    /**
     * Announces {@code commits} when {@code lake-commits} is configured. A failure is logged and
     * the pipeline goes on: the lake holds the commit, and the next commit and every start
     * announce the tables' current snapshots.
     */
    private void announce(java.util.function.Supplier<List<io.tributary.spi.LakeCommit>> commits) {
        if (announcer == null) {
            return;
        }
        try {
            List<io.tributary.spi.LakeCommit> list = commits.get();
            if (!list.isEmpty()) {
                announcer.publish(list);
            }
        } catch (io.tributary.spi.TributaryException e) {
            LOG.warn("Cannot announce lake commits to {}: {}. The lake holds them; the next commit announces its tables again",
                    config.lakeCommits().map(c -> c.topic("<layer>")).orElse("-"), e.getMessage());
        }
    }

    /** Runs on the commit thread; a lost lease stops the pipeline with its error. */
    private void renewLease() {
        if (leaseReleased) {
            return;
        }
        try {
            lake.renewLease();
            if (workers && !maintainer && lake.acquireLeaseAsWorker()) {
                maintainer = true;
                goldSchedule.changed();
                LOG.info("Lake worker {} took over the lake's lease: it runs table maintenance and gold for the lake now", config.name());
            }
        } catch (RuntimeException e) {
            leaseFailure.compareAndSet(null, e);
            close();
        }
    }

    private void runLeased(ChangeSource.RunMode mode) {
        Optional<CommittedState> state = lake.committedState();
        committed = state.map(CommittedState::watermark).orElse(SourcePosition.BEGINNING);
        submitted = committed;
        if (mode == ChangeSource.RunMode.CONTINUOUS) {
            // A stop does not wait for gold (see close()): the first commit builds what it left behind.
            goldSchedule.changed();
        }
        state.ifPresent(s -> LOG.info("Resuming pipeline {} from watermark {} committed at {}", config.name(), s.watermark(), s.committedAt()));
        Reconnects reconnects = new Reconnects(config.source(), clock);
        try {
            while (true) {
                ChangeSource capture = Sources.open(config, new io.tributary.spi.SourceSession(state.map(CommittedState::offset), committed,
                        config.lake().raw() == io.tributary.config.LakeConfig.RawLayer.ENABLED, config.commit().interval(), config.commit().maxEvents(),
                        previousEndedAbruptly, Optional.of(lake.objectStore())));
                source.set(capture);
                if (closed) {
                    return;
                }
                long deliveredBefore = status.deliveredBatches();
                try {
                    capture.run(this, mode);
                    status.connected();
                    drain();
                    recordQuietPosition(capture);
                    break;
                } catch (io.tributary.spi.TributaryException e) {
                    // A source unreachable from the start is more likely misconfigured than restarting:
                    // only a pipeline that has captured reconnects.
                    // While reconnecting, the slot may still be held by this pipeline's own broken
                    // connection until the server notices (wal_sender_timeout): wait for it like any outage.
                    boolean ownSlotLingers = e.errorCode() == io.tributary.spi.ErrorCode.PIPELINE_FENCED && reconnects.attempt() > 0
                            && status.deliveredBatches() == deliveredBefore;
                    if (closed || !(Reconnects.retryable(e) || ownSlotLingers) || status.deliveredBatches() == 0) {
                        throw e;
                    }
                    // What the source delivered before the connection broke is whole transactions: commit
                    // it, then resume from the lake's position.
                    drain();
                    if (workers) {
                        // The next consumer joins the group anew: the shards go to whichever member Kafka gives them.
                        lake.releaseShards(lake.heldShards());
                    }
                    Duration wait = reconnects.failed(e, status.deliveredBatches() > deliveredBefore);
                    status.reconnecting(reconnects.attempt(), e.getMessage());
                    ReconnectingFile.write(config.lake().stateOf(config.name()), status.reconnecting().orElseThrow());
                    LOG.warn("Lost the source ({}); reconnecting in {} ms, attempt {} (giving up after source.reconnect.max-elapsed {} s)",
                            e.getMessage(), wait.toMillis(), reconnects.attempt(), config.source().reconnect().maxElapsed().toSeconds());
                    if (closing.await(wait)) {
                        break;
                    }
                    state = lake.committedState();
                    // The broken connection may have confirmed keepalive positions the lake never recorded.
                    previousEndedAbruptly = true;
                } finally {
                    source.set(null);
                }
            }
        } finally {
            ReconnectingFile.clear(config.lake().stateOf(config.name()));
        }
        if (leaseFailure.get() != null) {
            throw leaseFailure.get();
        }
        // Whatever was delivered but not yet committed (a stop between commits) goes in now; the
        // source re-delivers it after a restart anyway and the lake skips what it has.
        drain();
        if (!closed && (goldSchedule.pending() || mode == ChangeSource.RunMode.CATCH_UP)) {
            buildGold(true);
        }
        buffering.lock();
        try {
            committer.shutdown();
        } finally {
            buffering.unlock();
        }
    }

    @Override
    public Optional<SourcePosition> accept(ChangeBatch batch) {
        buffering.lock();
        try {
            return buffer(batch);
        } finally {
            buffering.unlock();
        }
    }

    /** {@link #accept} with the buffer held. */
    private Optional<SourcePosition> buffer(ChangeBatch batch) {
        long estimate = ChangeEvent.estimatedBytes(batch.events());
        if (!buffer.isEmpty() && (buffer.size() + batch.events().size() > config.commit().maxEvents() || bufferedEstimate + estimate > MICRO_BATCH_ESTIMATE)) {
            // A micro-batch holds at most max-events: a large transaction arrives in batches of that
            // size, and the pipeline commits it across several micro-batches.
            submit();
        }
        bufferedEstimate += estimate;
        if (!batch.events().isEmpty() && bufferStarted == null) {
            bufferStarted = clock.instant();
        }
        buffer.addAll(batch.events());
        snapshotStarted.addAll(batch.snapshotStarted());
        snapshotting.addAll(batch.snapshotStarted());
        batch.snapshotCompleted().forEach(snapshotting::remove);
        bufferedThrough = batch.through();
        bufferedOffset = batch.offset();
        bufferedConsistent = batch.consistent();
        batch.shards().forEach((shard, progress) -> bufferedShards.merge(shard, progress, (before, after) -> {
            java.util.Set<io.tributary.spi.TableId> tables = new java.util.HashSet<>(before.tables());
            tables.addAll(after.tables());
            return new io.tributary.spi.ShardProgress(after.offset(), tables, after.caughtUp());
        }));
        if (status.reconnecting().isPresent()) {
            ReconnectingFile.clear(config.lake().stateOf(config.name()));
        }
        status.delivered(batch.events().size(), batch.through());
        boolean due = buffer.size() >= config.commit().maxEvents() || bufferedEstimate >= MICRO_BATCH_ESTIMATE
                || dueByTime()
                || buffer.isEmpty() && bufferedThrough.isAfter(submitted) && !batch.snapshotCompleted().isEmpty()
                // Only heartbeats moved the position (other databases write): a watermark-only commit,
                // at most once per source.heartbeat, lets the slot move on.
                || buffer.isEmpty() && bufferedThrough.isAfter(submitted) && !clock.instant().isBefore(lastSubmit.plus(config.source().heartbeatInterval()))
                // A lake worker that read all of a shard says so within commit.interval, even with nothing new:
                // the lake's consistent position (what readers see of every table) stops waiting for that shard.
                || buffer.isEmpty() && !clock.instant().isBefore(lastSubmit.plus(config.commit().interval()))
                && batch.shards().entrySet().stream().anyMatch(e -> e.getValue().caughtUp() && !submittedCaughtUp.getOrDefault(e.getKey(), false));
        if (due) {
            submit();
        } else {
            checkCommitter();
        }
        return acknowledgeable();
    }

    @Override
    public Optional<SourcePosition> drain() {
        buffering.lock();
        try {
            if (bufferedThrough != null && (bufferedThrough.isAfter(submitted) || !buffer.isEmpty())) {
                submit();
            }
            awaitInFlight();
            return acknowledgeable();
        } finally {
            buffering.unlock();
        }
    }

    /** Lake workers: takes the shards the source was given (see {@link Lake#claimShards}). */
    @Override
    public Map<String, io.tributary.spi.ShardResume> claim(java.util.Set<String> shards) {
        requireWorkers();
        buffering.lock();
        try {
            awaitInFlight();
            return lake.claimShards(shards);
        } finally {
            buffering.unlock();
        }
    }

    /** Lake workers: commits what was delivered, then gives the shards up. */
    @Override
    public void release(java.util.Set<String> shards) {
        requireWorkers();
        buffering.lock();
        try {
            drain();
            lake.releaseShards(shards);
        } finally {
            buffering.unlock();
        }
    }

    /** Whether {@code commit.interval} has passed since the first buffered event. */
    private boolean dueByTime() {
        return bufferStarted != null && !clock.instant().isBefore(bufferStarted.plus(config.commit().interval()));
    }

    /**
     * Runs on the {@link BatchTimer} with the buffer held: submits the buffer once
     * {@code commit.interval} has passed since its first event even when the source delivers
     * nothing more (measured without it: p99 freshness 2.1 s at 5,000 events/s with a 1 s
     * interval). Skips while a commit is in flight, and after a failed commit (the source's thread
     * raises it at its next delivery).
     */
    private void submitIfDue() {
        if (closed || committer.isShutdown() || buffer.isEmpty() || bufferedEstimate >= MICRO_BATCH_ESTIMATE || !dueByTime()) {
            return;
        }
        java.util.concurrent.Future<?> f = inFlight;
        if (f != null) {
            if (!f.isDone()) {
                return;
            }
            try {
                f.get();
            } catch (java.util.concurrent.ExecutionException | java.util.concurrent.CancellationException e) {
                return;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        submit();
    }

    private void requireWorkers() {
        if (!workers) {
            throw new UnsupportedOperationException("Pipeline " + config.name() + " reads all of its source (source.workers: single)");
        }
    }

    private Optional<SourcePosition> acknowledgeable() {
        SourcePosition position = committed;
        return position.equals(SourcePosition.BEGINNING) ? Optional.empty() : Optional.of(position);
    }

    /**
     * Hands the buffer to the commit thread, so capture goes on while the lake commits. At most one
     * micro-batch is in flight: a second waits for the first (back-pressure on the source).
     */
    private void submit() {
        awaitInFlight();
        MicroBatch batch = new MicroBatch(List.copyOf(buffer), bufferedThrough, bufferedOffset, java.util.Set.copyOf(snapshotStarted),
                bufferStarted == null ? clock.instant() : bufferStarted, bufferedConsistent, Map.copyOf(bufferedShards));
        bufferedShards.forEach((shard, progress) -> submittedCaughtUp.put(shard, progress.caughtUp()));
        bufferedShards.clear();
        boolean heavy = bufferedEstimate >= MICRO_BATCH_ESTIMATE;
        buffer.clear();
        bufferedEstimate = 0;
        snapshotStarted.clear();
        bufferStarted = null;
        submitted = batch.through();
        lastSubmit = clock.instant();
        inFlight = committer.submit(() -> commit(batch));
        if (heavy) {
            awaitInFlight();
        }
    }

    private void checkCommitter() {
        if (inFlight != null && inFlight.isDone()) {
            awaitInFlight();
        }
    }

    private void awaitInFlight() {
        java.util.concurrent.Future<?> f = inFlight;
        if (f == null) {
            return;
        }
        try {
            f.get();
            inFlight = null;
        } catch (java.util.concurrent.ExecutionException e) {
            inFlight = null;
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new io.tributary.spi.TributaryException(io.tributary.spi.ErrorCode.INTERNAL_ERROR, "Cannot commit to the lake: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new io.tributary.spi.TributaryException(io.tributary.spi.ErrorCode.INTERNAL_ERROR, "Interrupted while waiting for a lake commit", e);
        }
    }

    /** A micro-batch on its way to the lake. */
    private record MicroBatch(List<ChangeEvent> events, SourcePosition through, SourceOffset offset, java.util.Set<io.tributary.spi.TableId> snapshotStarted,
                              Instant firstBuffered, SourcePosition consistent, Map<String, io.tributary.spi.ShardProgress> shards) {
    }

    /** Runs on the commit thread. */
    private void commit(MicroBatch batch) {
        MDC.put("pipeline", config.name());
        if (workers && batch.shards().isEmpty()) {
            if (!batch.events().isEmpty()) {
                throw new IllegalStateException("Lake worker " + config.name() + " delivered " + batch.events().size() + " events of no shard");
            }
            // A worker that holds no shard has nothing to record.
            committed = batch.through();
            return;
        }
        CommitSummary summary = lake.commit(batch.events(), batch.through(), batch.offset(), batch.snapshotStarted(), batch.consistent(), batch.shards());
        Instant visibleAt = clock.instant();
        // Status first: it never shows less than what the source may acknowledge.
        status.committed(summary, batch.through(), visibleAt);
        committed = batch.through();
        listener.committed(batch.events(), visibleAt, summary.duration());
        if (!summary.eventsPerTable().isEmpty()) {
            announce(() -> lake.currentCommits(config.name(), summary.eventsPerTable().keySet()));
        }
        if (!batch.events().isEmpty()) {
            goldSchedule.changed();
            LOG.info("Committed {} change events to {} table(s) through {} in {} ms ({} ms since the first event was buffered): {}",
                    summary.events(), summary.eventsPerTable().size(), committed, summary.duration().toMillis(),
                    Duration.between(batch.firstBuffered(), visibleAt).toMillis(), summary.eventsPerTable());
        }
        buildGold(false);
    }

    private void buildGold(boolean force) {
        // Among lake workers, the one that holds the lake's lease builds gold.
        if (closed || workers && !maintainer) {
            return;
        }
        goldSchedule.build(force, committed);
    }

    /**
     * After a clean stop, moves the watermark to the source's quiet position when that is later
     * ({@link ChangeSource#quietPositionAfter}), so a restart does not mistake the difference for a gap.
     */
    private void recordQuietPosition(ChangeSource capture) {
        Optional<CommittedState> state = lake.committedState();
        Optional<SourcePosition> quiet = state.isEmpty() || state.get().offset().requestsInitialSnapshot() ? Optional.empty()
                : capture.quietPositionAfter(committed);
        if (quiet.isPresent() && quiet.get().isAfter(committed)) {
            SourcePosition position = quiet.get();
            lake.commit(List.of(), position, state.get().offset(), java.util.Set.of());
            committed = position;
            LOG.info("Recorded watermark {}: the slot was confirmed past the last commit with nothing to capture in between", position);
        }
    }

    /**
     * Stops capture; {@link #run} then commits what was delivered and returns. A gold build in
     * progress is cancelled, not awaited (its table keeps its previous state), and no gold build
     * follows: the next run builds gold after its first commit. Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        // First: the commit thread may be in a long build, and capture may be waiting for it.
        goldSchedule.cancel();
        closing.close();
        ChangeSource s = source.get();
        if (s != null) {
            s.close();
        }
    }
}
