package io.tributary.lake;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.bronze.BronzeWriter;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.commit.CommitSummary;
import io.tributary.lake.commit.CommittedState;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.commit.StateTable;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.layout.TableNames;
import io.tributary.lake.raw.RawWriter;
import io.tributary.lake.scan.LakeTable;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.CrashPoint;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lake of one pipeline: raw files, bronze, silver and history ({@code silver.<table>_history})
 * Iceberg tables, and the state table. Implements the commit protocol: per micro-batch, write raw
 * files, then for each touched table commit bronze, silver and history with the batch position in
 * the snapshot summary (skipping events at or below what that table already committed, so a replay
 * changes nothing), then record the watermark, the transaction-consistent position and the source
 * offset in the state table.
 *
 * <p>Readers get transaction-consistent reads from {@link #consistentView()}: every table at the
 * newest snapshot not after the recorded consistent position, so a source transaction shows in all
 * its tables or in none, even while the tables of a micro-batch commit one by one or a transaction
 * larger than a micro-batch commits in parts. Not thread-safe: one writer thread.
 */
public final class Lake implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(Lake.class);

    private final LakeCatalog catalog;
    private final String pipeline;
    private final Function<TableId, TableOptions> options;
    private final RawWriter raw;
    private final BronzeWriter bronze;
    private final io.tributary.lake.bronze.PreviousImages previousImages;
    private final io.tributary.lake.silver.SilverWriter silver;
    /** Null when {@code lake.history} is disabled. */
    private final io.tributary.lake.silver.HistoryWriter history;
    private final StateTable state;
    private final TableCommits tableCommits;
    /** The shards of a lake landed by several lake workers; unused by a pipeline that reads all of its source. */
    private final io.tributary.lake.commit.Shards shards;
    private final Clock clock;
    private final LakeConfig config;
    private final Map<TableIdentifier, SourcePosition> committedPositions = new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * Tables a {@link #consistentView()} plans at once: on the 2-core development machine, a
     * 1,000,000-row lake's four tables took 550–650 ms one after the other (42 snapshots each).
     */
    private static final int PLANNER_THREADS = 4;
    private java.util.concurrent.ExecutorService planners;
    private final java.util.concurrent.ExecutorService writers = java.util.concurrent.Executors.newFixedThreadPool(
            Math.max(2, Runtime.getRuntime().availableProcessors()), r -> {
                Thread t = new Thread(r, "tributary-lake-writer");
                t.setDaemon(true);
                return t;
            });

    private Lake(LakeCatalog catalog, LakeConfig config, String pipeline, Function<TableId, TableOptions> options, Clock clock) {
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.options = options;
        this.raw = config.raw() == LakeConfig.RawLayer.ENABLED ? new RawWriter(catalog.io(), config.warehouse()) : null;
        this.bronze = new BronzeWriter(catalog);
        this.previousImages = new io.tributary.lake.bronze.PreviousImages(catalog);
        java.nio.file.Path keyIndexes = keyIndexFolder(config, pipeline);
        this.silver = new io.tributary.lake.silver.SilverWriter(catalog, pipeline, keyIndexes);
        this.history = config.history() == LakeConfig.HistoryLayer.ENABLED ? new io.tributary.lake.silver.HistoryWriter(catalog, pipeline, keyIndexes) : null;
        this.config = config;
        this.state = new StateTable(catalog, pipeline);
        this.clock = clock;
        this.shards = new io.tributary.lake.commit.Shards(catalog, pipeline, clock::instant);
        this.tableCommits = new TableCommits(catalog, pipeline, options, bronze, previousImages, silver, history, committedPositions, writers);
        this.objectStore = new io.tributary.lake.storage.LakeObjectStore(config.s3());
    }

    private final io.tributary.lake.storage.LakeObjectStore objectStore;

    /** The lake's object storage ({@code lake.s3}) for sources that read files from it; connects on first use. */
    public io.tributary.spi.ObjectStore objectStore() {
        return objectStore;
    }

    public static Lake open(LakeConfig config, String pipeline, Function<TableId, TableOptions> options) {
        return open(LakeCatalog.open(config), config, pipeline, options);
    }

    /** As {@link #open(LakeConfig, String, Function)}, on an open catalog of {@code config}'s warehouse. */
    public static Lake open(LakeCatalog catalog, LakeConfig config, String pipeline, Function<TableId, TableOptions> options) {
        return new Lake(catalog, config, pipeline, options, Clock.systemUTC());
    }

    public LakeCatalog catalog() {
        return catalog;
    }

    /** The lease is renewed by a commit, or while idle once it is this old (well inside {@link StateTable#LEASE_TIMEOUT}). */
    public static final Duration LEASE_RENEWAL = Duration.ofSeconds(10);

    /**
     * Takes the lake for this process before a pipeline starts (see {@link StateTable}); every later
     * commit checks that it still owns it.
     *
     * @return how the previous owner left the lake: a pipeline that died holding it may have let
     *         the source run ahead of the lake's watermark over positions it never received a change for
     * @throws TributaryException PIPELINE_FENCED when another pipeline's lease is live
     */
    public StateTable.PreviousOwner acquireLease() {
        state.acquire(clock.instant());
        return state.previousOwner();
    }

    /** Renews the lease if no commit renewed it for {@link #LEASE_RENEWAL}; call it on the commit thread while idle. */
    public void renewLease() {
        Instant now = clock.instant();
        state.renew(now, now.minus(LEASE_RENEWAL));
        shards.renew(now.minus(LEASE_RENEWAL));
    }

    /**
     * For a lake worker ({@code source.workers: group}): takes the lake's lease when no live
     * process holds it, so this worker runs table maintenance and gold for the lake; the other
     * workers land their shards only. Call again from time to time: a dead holder's lease is taken
     * over once it is stale.
     *
     * @return whether this process holds the lake's lease
     */
    public boolean acquireLeaseAsWorker() {
        return state.acquireAsWorker(clock.instant());
    }

    /** How long {@link #claimShards} waits for another live worker to give a shard up. */
    public static final Duration SHARD_CLAIM_PATIENCE = StateTable.LEASE_TIMEOUT.plusSeconds(15);

    /**
     * For a lake worker: takes {@code names} (shards of the source, Kafka topics) for this
     * process, then brings the tables of each back to the shard's committed position (a worker
     * that died between committing a table and recording its shard left it ahead, see
     * {@link #rollBackToWatermark()}), so the source can re-deliver from the shard's offset.
     *
     * @return where each shard resumes
     * @throws TributaryException PIPELINE_FENCED when a shard stays held by another live worker
     *         for {@link #SHARD_CLAIM_PATIENCE}
     */
    public Map<String, io.tributary.spi.ShardResume> claimShards(java.util.Set<String> names) {
        Map<String, io.tributary.lake.commit.ShardState> claimed = shards.claim(names, SHARD_CLAIM_PATIENCE);
        Map<String, io.tributary.spi.ShardResume> out = new LinkedHashMap<>();
        for (io.tributary.lake.commit.ShardState shard : claimed.values()) {
            for (String table : shard.tables()) {
                for (TableIdentifier id : layerTables(table)) {
                    forget(id);
                    rollBack(id, shard.position(), "shard " + shard.name() + " position").ifPresent(line ->
                            LOG.warn("{}: the worker that held the shard stopped between committing this table and recording the shard; "
                                    + "the source delivers it again", line));
                }
            }
            out.put(shard.name(), new io.tributary.spi.ShardResume(shard.position(), shard.offset()));
        }
        return out;
    }

    /** For a lake worker: gives shards up, after the pipeline committed what it delivered of them. */
    public void releaseShards(java.util.Set<String> names) {
        Map<String, io.tributary.lake.commit.ShardState> all = shards.read();
        shards.release(names);
        for (String name : names) {
            if (all.containsKey(name)) {
                all.get(name).tables().forEach(table -> layerTables(table).forEach(this::forget));
            }
        }
    }

    /** The shards this process holds. */
    public java.util.Set<String> heldShards() {
        return shards.held();
    }

    /** Every shard of the lake with its state (empty for a lake not landed by lake workers). */
    public Map<String, io.tributary.lake.commit.ShardState> shardStates() {
        return shards.read();
    }

    /** Bronze, silver and history of a lake table name. */
    private static List<TableIdentifier> layerTables(String lakeName) {
        TableIdentifier silverId = TableIdentifier.of(Layer.SILVER.namespace(), lakeName);
        return List.of(TableIdentifier.of(Layer.BRONZE.namespace(), lakeName), silverId, io.tributary.lake.silver.HistoryWriter.historyOf(silverId));
    }

    /** Drops what this process remembers of a table it may not have written last: its committed position and open key indexes. */
    private void forget(TableIdentifier id) {
        committedPositions.remove(id);
        silver.releaseIndex(id);
        if (history != null) {
            history.releaseIndex(id);
        }
    }

    /** Releases the lease so the next pipeline starts at once; a failure is logged, as a restart takes over a dead owner's lease anyway. */
    public void releaseLease() {
        try {
            state.release(clock.instant());
        } catch (RuntimeException e) {
            boolean takenOver = e instanceof TributaryException t && t.errorCode() == ErrorCode.PIPELINE_FENCED;
            if (!takenOver) {
                LOG.warn("Cannot release the lake's lease: {}. A restart on this host takes over at once, elsewhere after {} s", e.getMessage(),
                        StateTable.LEASE_TIMEOUT.toSeconds());
            }
        }
    }

    /**
     * Whether this process holds the lake's lease now, checked against the catalog (false once
     * another pipeline took it over, or before {@link #acquireLease()} and after {@link #releaseLease()}).
     */
    public boolean holdsLease() {
        if (state.lease().isEmpty()) {
            return false;
        }
        try {
            state.verify("maintain the lake");
            return true;
        } catch (TributaryException e) {
            if (e.errorCode() == ErrorCode.PIPELINE_FENCED) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Brings every bronze, silver and history table back to the state table's watermark, before a
     * pipeline resumes from it. A table is ahead of the watermark when the process stopped after
     * committing it and before recording the micro-batch in the state table (or when a commit's
     * outcome was unknown). The source re-delivers that micro-batch, but not always as the same
     * events: the rows of an incremental snapshot chunk read again reflect the table as it is now, so
     * they take other positions than the first time, and skipping by position would drop some. Such
     * a table is rolled back (Iceberg {@code ManageSnapshots.rollbackTo}, which only moves the current
     * snapshot; the files stay until snapshot expiry) to the newest snapshot of its chain whose
     * position is not after the watermark; a table whose first commit is past it is dropped from the
     * catalog without deleting files (orphan-file removal collects them), and is created again.
     * Call it while holding the lease, before the first commit.
     *
     * @return one line per table rolled back or dropped
     */
    public List<String> rollBackToWatermark() {
        SourcePosition watermark = state.read().map(CommittedState::watermark).orElse(SourcePosition.BEGINNING);
        List<String> done = new ArrayList<>();
        for (Layer layer : List.of(Layer.BRONZE, Layer.SILVER)) {
            for (TableIdentifier id : catalog.tables(layer.namespace())) {
                rollBack(id, watermark, "watermark").ifPresent(line -> {
                    LOG.warn("{}: the last run stopped between committing this table and recording its micro-batch; the source delivers it again", line);
                    done.add(line);
                });
            }
        }
        committedPositions.clear();
        return done;
    }

    /**
     * Rolls a table committed past {@code position} back to its newest snapshot at or below it, or
     * drops it when its first commit is past it; returns what was done, empty when nothing was.
     */
    private Optional<String> rollBack(TableIdentifier id, SourcePosition position, String what) {
        Optional<Table> loaded = catalog.load(id);
        if (loaded.isEmpty()) {
            return Optional.empty();
        }
        Table table = loaded.get();
        table.refresh();
        Optional<SourcePosition> committed = SnapshotPositions.committed(table);
        if (committed.isEmpty() || !committed.get().isAfter(position)) {
            return Optional.empty();
        }
        Optional<org.apache.iceberg.Snapshot> target = SnapshotPositions.newestAtOrBelow(table, position);
        if (target.isPresent()) {
            catalog.commit(table.manageSnapshots().rollbackTo(target.get().snapshotId()));
            return Optional.of("Rolled back " + id + " from position " + committed.get() + " to snapshot " + target.get().snapshotId()
                    + " at or below the " + what + " " + position);
        }
        catalog.dropTable(id, false);
        return Optional.of("Dropped " + id + ": its first commit, at position " + committed.get() + ", is past the " + what + " " + position);
    }

    /**
     * Converts every table an earlier release wrote with equality delete files (see
     * {@link io.tributary.lake.maintenance.EqualityDeleteConversion}), one INFO line per table; call it
     * while holding the lease, before the first commit.
     *
     * @return the tables converted
     */
    public List<TableIdentifier> convertEqualityDeletes() {
        return new io.tributary.lake.maintenance.EqualityDeleteConversion(catalog).convertAll();
    }

    /** Where to resume: the last recorded watermark and source offset, empty for a new lake. */
    public Optional<CommittedState> committedState() {
        return state.read();
    }

    /**
     * Makes the next run take a new initial snapshot of every table instead of resuming (the
     * state table then records {@link SourceOffset#NEW_INITIAL_SNAPSHOT} at the same watermark).
     * The snapshot's first commit per table replaces silver; bronze appends its reads.
     *
     * @return whether anything was committed before; without a committed state the next run
     *         snapshots anyway and nothing is recorded
     */
    public boolean requestInitialSnapshot() {
        Optional<CommittedState> current = state.read();
        current.ifPresent(s -> state.record(s.watermark(), SourceOffset.NEW_INITIAL_SNAPSHOT, clock.instant(), s.consistent()));
        return current.isPresent();
    }

    /**
     * Commits one micro-batch. {@code events} ascend by position; {@code through} and {@code offset}
     * describe the end of the batch. For each table in {@code snapshotStarted}, silver is emptied
     * right before the table's first snapshot row, so a restarted initial snapshot replaces the
     * state instead of merging into it.
     *
     * @throws TributaryException LAKE_COMMIT_FAILED or LAKE_IO_FAILED; nothing is acknowledged then
     */
    public CommitSummary commit(List<ChangeEvent> events, SourcePosition through, SourceOffset offset, java.util.Set<TableId> snapshotStarted) {
        return commit(events, through, offset, snapshotStarted, through);
    }

    /**
     * As {@link #commit(List, SourcePosition, SourceOffset, java.util.Set)} for a micro-batch that
     * may end inside a source transaction: {@code consistent} (not after {@code through}) is the
     * end of the last transaction the lake then holds in full, recorded in the state table for
     * readers ({@link #consistentTables()}).
     */
    public CommitSummary commit(List<ChangeEvent> events, SourcePosition through, SourceOffset offset, java.util.Set<TableId> snapshotStarted,
                                SourcePosition consistent) {
        return commit(events, through, offset, snapshotStarted, consistent, Map.of());
    }

    /**
     * As {@link #commit(List, SourcePosition, SourceOffset, java.util.Set, SourcePosition)}; for a
     * lake worker, {@code shardProgress} holds where each shard it holds stands after the batch,
     * and is recorded (with the shards' tables, before their first commit) instead of a
     * watermark for the whole lake.
     *
     * @throws TributaryException PIPELINE_FENCED when a shard of {@code shardProgress} was taken over by another worker
     */
    public CommitSummary commit(List<ChangeEvent> events, SourcePosition through, SourceOffset offset, java.util.Set<TableId> snapshotStarted,
                                SourcePosition consistent, Map<String, io.tributary.spi.ShardProgress> shardProgress) {
        if (consistent.isAfter(through)) {
            throw new IllegalArgumentException("Consistent position " + consistent + " is after the batch position " + through);
        }
        Instant start = clock.instant();
        // A pipeline presumed dead must not commit after another took over (the watermark record
        // below is the atomic check; this one keeps its table commits out, too).
        if (shardProgress.isEmpty()) {
            state.verify("commit through " + through);
        } else {
            Map<String, java.util.Set<String>> tablesByShard = new LinkedHashMap<>();
            shardProgress.forEach((shard, p) -> tablesByShard.put(shard, io.tributary.lake.commit.Shards.lakeNames(p.tables())));
            shards.register(tablesByShard);
        }
        Map<TableId, List<ChangeEvent>> byTable = new LinkedHashMap<>();
        for (ChangeEvent e : events) {
            byTable.computeIfAbsent(e.table(), t -> new ArrayList<>()).add(e);
        }
        // Tables are independent: their commits run in parallel, and the raw files beside them.
        List<java.util.concurrent.Future<Integer>> tasks = new ArrayList<>();
        if (raw != null) {
            tasks.add(writers.submit(() -> {
                raw.write(events);
                return 0;
            }));
        }
        if (history != null) {
            tableCommits.requireNoHistoryClash(byTable.keySet());
        }
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (Map.Entry<TableId, List<ChangeEvent>> entry : byTable.entrySet()) {
            counts.put(TableNames.lakeName(entry.getKey()), entry.getValue().size());
            boolean reset = snapshotStarted.contains(entry.getKey());
            tasks.add(writers.submit(() -> tableCommits.commitAligned(entry.getKey(), entry.getValue(), reset, consistent, through, start)));
        }
        int snapshots = 0;
        RuntimeException failure = null;
        for (java.util.concurrent.Future<Integer> task : tasks) {
            try {
                snapshots += task.get();
            } catch (java.util.concurrent.ExecutionException e) {
                RuntimeException cause = e.getCause() instanceof RuntimeException r ? r
                        : new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot write to the lake: " + e.getCause(), e.getCause());
                if (failure == null) {
                    failure = cause;
                } else {
                    failure.addSuppressed(cause);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new TributaryException(ErrorCode.LAKE_COMMIT_FAILED, "Interrupted while committing through " + through, e);
            }
        }
        if (failure != null) {
            throw failure;
        }
        CrashPoint.reach(CrashPoint.TABLES_COMMITTED);
        if (shardProgress.isEmpty()) {
            state.record(through, offset, clock.instant(), consistent);
        } else {
            shards.record(through, consistent, shardProgress);
        }
        CrashPoint.reach(CrashPoint.WATERMARK_RECORDED);
        return new CommitSummary(events.size(), counts, snapshots, Duration.between(start, clock.instant()));
    }

    /**
     * Every Iceberg table of the lake's layers at its current snapshot. Not transaction-consistent:
     * while a micro-batch commits, one table may hold a source transaction another does not yet;
     * readers of the data use {@link #consistentView()}.
     */
    public List<LakeTable> tables() {
        List<LakeTable> out = new ArrayList<>();
        for (Layer layer : Layer.values()) {
            for (TableIdentifier id : catalog.tables(layer.namespace())) {
                catalog.load(id).ifPresent(t -> out.add(LakeTable.of(layer, t, catalog.localCopies())));
            }
        }
        return out;
    }

    /**
     * Every Iceberg table of the lake's layers at the state table's consistent position
     * ({@link CommittedState#consistent()}, the watermark in lakes older than it): each table at its
     * newest snapshot whose effective position is not after it ({@link io.tributary.lake.scan.ConsistentSnapshots}),
     * so every source transaction shows in all its tables or in none, gold included. A table first
     * written after that position reads as empty. Without a recorded state, the current snapshots.
     */
    public io.tributary.lake.scan.LakeView consistentView() {
        Optional<SourcePosition> consistent = state.read().map(CommittedState::consistent);
        List<java.util.concurrent.Future<Optional<LakeTable>>> planned = new ArrayList<>();
        // Loading a table's metadata and planning its files mostly waits on reads of small files
        // (metadata JSON, manifest list, manifests): the tables are planned side by side.
        for (Layer layer : Layer.values()) {
            for (TableIdentifier id : catalog.tables(layer.namespace())) {
                planned.add(planners().submit(() -> catalog.load(id).map(t -> consistent.isEmpty() ? LakeTable.of(layer, t, catalog.localCopies())
                        : LakeTable.of(layer, t, io.tributary.lake.scan.ConsistentSnapshots.at(t, consistent.get()).map(org.apache.iceberg.Snapshot::snapshotId),
                                catalog.localCopies()))));
            }
        }
        List<LakeTable> out = new ArrayList<>();
        for (java.util.concurrent.Future<Optional<LakeTable>> f : planned) {
            try {
                f.get().ifPresent(out::add);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                planned.forEach(p -> p.cancel(true));
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Interrupted while planning the tables of the lake", e);
            } catch (java.util.concurrent.ExecutionException e) {
                planned.forEach(p -> p.cancel(true));
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot plan the tables of the lake: " + e.getCause(), e.getCause());
            }
        }
        return new io.tributary.lake.scan.LakeView(consistent, out);
    }

    /** The threads that plan the tables of a {@link #consistentView()}, started on first use. */
    private synchronized java.util.concurrent.ExecutorService planners() {
        if (planners == null) {
            planners = java.util.concurrent.Executors.newFixedThreadPool(PLANNER_THREADS, r -> {
                Thread t = new Thread(r, "tributary-lake-planner");
                t.setDaemon(true);
                return t;
            });
        }
        return planners;
    }

    /** Where this process keeps the key indexes of a pipeline's silver and history tables: {@code <state-dir>/<pipeline>/key-index}. */
    public static java.nio.file.Path keyIndexFolder(LakeConfig config, String pipeline) {
        return config.stateOf(pipeline).resolve("key-index");
    }

    /**
     * Removes the key indexes earlier releases kept inside the warehouse ({@code tributary/key-index},
     * {@code tributary/history-index}): caches of the tables, now kept in the state directory.
     *
     * @return the folders removed
     */
    public List<java.nio.file.Path> removeStateFromWarehouse() {
        List<java.nio.file.Path> removed = new java.util.ArrayList<>();
        if (!config.isLocal()) {
            return removed;
        }
        java.nio.file.Path warehouse = config.localWarehouse();
        for (String obsolete : List.of("key-index", "history-index")) {
            java.nio.file.Path folder = warehouse.resolve("tributary").resolve(obsolete);
            if (!java.nio.file.Files.isDirectory(folder)) {
                continue;
            }
            try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(folder)) {
                for (java.nio.file.Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    java.nio.file.Files.delete(p);
                }
            } catch (java.io.IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot remove " + folder + ", key indexes of an earlier release: " + e.getMessage(), e);
            }
            LOG.info("Removed {}: key indexes now live in the state directory (state-dir)", folder);
            removed.add(folder);
        }
        return removed;
    }

    public Optional<Table> load(Layer layer, String name) {
        return catalog.load(TableIdentifier.of(layer.namespace(), name));
    }

    /**
     * Where bronze, silver and silver's history tables of {@code lakeNames} (as {@link
     * TableNames#lakeName}) are after the last commit: one {@link io.tributary.spi.LakeCommit} per
     * existing table with a snapshot, for announcing commits to other systems.
     */
    public List<io.tributary.spi.LakeCommit> currentCommits(String pipeline, java.util.Collection<String> lakeNames) {
        List<io.tributary.spi.LakeCommit> out = new ArrayList<>();
        for (String name : lakeNames) {
            load(Layer.BRONZE, name).flatMap(t -> commitOf(pipeline, Layer.BRONZE, name, t)).ifPresent(out::add);
            load(Layer.SILVER, name).flatMap(t -> commitOf(pipeline, Layer.SILVER, name, t)).ifPresent(out::add);
            String history = name + TableNames.HISTORY_SUFFIX;
            load(Layer.SILVER, history).flatMap(t -> commitOf(pipeline, Layer.SILVER, history, t)).ifPresent(out::add);
        }
        return out;
    }

    /** As {@link #currentCommits(String, java.util.Collection)} for every table of {@code layer}. */
    public List<io.tributary.spi.LakeCommit> currentCommits(String pipeline, Layer layer) {
        List<io.tributary.spi.LakeCommit> out = new ArrayList<>();
        for (TableIdentifier id : catalog.tables(layer.namespace())) {
            catalog.load(id).flatMap(t -> commitOf(pipeline, layer, id.name(), t)).ifPresent(out::add);
        }
        return out;
    }

    private static Optional<io.tributary.spi.LakeCommit> commitOf(String pipeline, Layer layer, String name, Table table) {
        org.apache.iceberg.Snapshot snapshot = table.currentSnapshot();
        if (snapshot == null) {
            return Optional.empty();
        }
        Map<String, String> summary = snapshot.summary() == null ? Map.of() : snapshot.summary();
        long added = Long.parseLong(summary.getOrDefault(org.apache.iceberg.SnapshotSummary.ADDED_RECORDS_PROP, "0"));
        long deleted = Long.parseLong(summary.getOrDefault(org.apache.iceberg.SnapshotSummary.DELETED_RECORDS_PROP, "0"))
                + Long.parseLong(summary.getOrDefault(org.apache.iceberg.SnapshotSummary.ADDED_POS_DELETES_PROP, "0"));
        return Optional.of(new io.tributary.spi.LakeCommit(pipeline, layer.namespace(), name, snapshot.snapshotId(),
                Optional.ofNullable(summary.get(SnapshotPositions.POSITION)), added, deleted, Instant.ofEpochMilli(snapshot.timestampMillis())));
    }

    /** The table {@code <layer>.<name>} at its current snapshot, for queries; empty when it does not exist. */
    public Optional<LakeTable> lakeTable(Layer layer, String name) {
        return load(layer, name).map(t -> LakeTable.of(layer, t, catalog.localCopies()));
    }

    @Override
    public void close() {
        writers.shutdown();
        synchronized (this) {
            if (planners != null) {
                planners.shutdown();
            }
        }
        if (history != null) {
            history.close();
        }
        silver.close();
        objectStore.close();
        catalog.close();
    }
}
