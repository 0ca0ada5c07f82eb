package io.tributary.lake;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.bronze.BronzeWriter;
import io.tributary.lake.bronze.PreviousImages;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.layout.TableNames;
import io.tributary.lake.silver.HistoryWriter;
import io.tributary.lake.silver.SilverWriter;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.CrashPoint;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-table part of a {@link Lake#commit}: one table's events of a micro-batch into bronze,
 * silver and history, each layer skipping what it already committed (the table's stamped
 * position, {@link SnapshotPositions}), the layers of a table side by side on the lake's writer
 * threads where their sizes allow. {@link Lake} orchestrates the tables of a batch, the raw layer
 * and the state record around it.
 */
final class TableCommits {
    private static final Logger LOG = LoggerFactory.getLogger(TableCommits.class);

    private final LakeCatalog catalog;
    private final String pipeline;
    private final Function<TableId, TableOptions> options;
    private final BronzeWriter bronze;
    private final PreviousImages previousImages;
    private final SilverWriter silver;
    /** Null when {@code lake.history} is disabled. */
    private final HistoryWriter history;
    /** The position each table is committed through, as this process knows it; shared with {@link Lake}, which forgets entries. */
    private final Map<TableIdentifier, SourcePosition> committedPositions;
    private final ExecutorService writers;
    private final java.util.Set<String> historyNamesChecked = java.util.concurrent.ConcurrentHashMap.newKeySet();

    TableCommits(LakeCatalog catalog, String pipeline, Function<TableId, TableOptions> options, BronzeWriter bronze, PreviousImages previousImages,
                 SilverWriter silver, HistoryWriter history, Map<TableIdentifier, SourcePosition> committedPositions, ExecutorService writers) {
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.options = options;
        this.bronze = bronze;
        this.previousImages = previousImages;
        this.silver = silver;
        this.history = history;
        this.committedPositions = committedPositions;
        this.writers = writers;
    }

    /**
     * Commits a table's events, in two snapshots when {@code consistent} falls among them (the end
     * of a transaction followed by part of the next one): a reader at the consistent position then
     * finds a snapshot of each table ending exactly there (see {@link io.tributary.lake.scan.ConsistentSnapshots}).
     * An initial snapshot's first batch ({@code reset}) ends between transactions and is not split.
     */
    int commitAligned(TableId table, List<ChangeEvent> events, boolean reset, SourcePosition consistent, SourcePosition through, Instant start) {
        int split = 0;
        while (split < events.size() && !events.get(split).position().isAfter(consistent)) {
            split++;
        }
        if (reset || split == 0 || split == events.size()) {
            return commitTable(table, events, reset, through, start);
        }
        return commitTable(table, events.subList(0, split), false, through, start) + commitTable(table, events.subList(split, events.size()), false, through, start);
    }

    /**
     * Fails when a table of the batch is named like the history table of another captured table
     * (in this batch or already in bronze, which holds only source tables), for pipelines that
     * capture every table of the database; configured table lists are checked at start-up.
     */
    void requireNoHistoryClash(java.util.Set<TableId> tables) {
        TableNames.requireDistinct(tables, LakeConfig.HistoryLayer.ENABLED);
        for (TableId table : tables) {
            String name = TableNames.lakeName(table);
            if (!historyNamesChecked.contains(name)) {
                String suffix = TableNames.HISTORY_SUFFIX;
                boolean clash = name.endsWith(suffix) && name.length() > suffix.length()
                        && catalog.load(TableIdentifier.of(Layer.BRONZE.namespace(), name.substring(0, name.length() - suffix.length()))).isPresent()
                        || catalog.load(TableIdentifier.of(Layer.BRONZE.namespace(), name + suffix)).isPresent();
                if (clash) {
                    String other = name.endsWith(suffix) ? name.substring(0, name.length() - suffix.length()) : name + suffix;
                    throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot capture " + table + " beside the table the lake calls " + other
                            + ": silver." + (name.endsWith(suffix) ? name : other) + " would be both a silver table and a history table."
                            + " Capture only one of them, or set lake.history: disabled");
                }
                historyNamesChecked.add(name);
            }
        }
    }

    /** Puts a TRUNCATE at the position of the table's first snapshot row, for silver and its history only. */
    private static List<ChangeEvent> resetFirst(List<ChangeEvent> events) {
        List<ChangeEvent> out = new ArrayList<>(events.size() + 1);
        boolean reset = false;
        for (ChangeEvent e : events) {
            if (!reset && e.operation() == io.tributary.spi.ChangeOperation.READ) {
                out.add(new ChangeEvent(io.tributary.spi.ChangeOperation.TRUNCATE, e.schema(), null, null, e.position(), 0, e.commitTimestamp(), null));
                reset = true;
            }
            out.add(e);
        }
        return out;
    }

    /**
     * Commits one table's events to bronze, and beside it to silver and (when enabled) its history,
     * each skipping what it already committed; returns the number of snapshots made. The three are
     * separate Iceberg tables, each stamped with its own position, so a crash between any two of
     * their commits is repaired the same way whatever the order ({@link Lake#rollBackToWatermark()}).
     * Bronze, and history when silver's commit cannot change the key history reads from it, are
     * written on another writer thread when one is free (else on this one once silver is done):
     * the layers of a busy table do not wait for each other. History follows silver when silver's
     * key may change, and every layer runs on this one, one after the other, when the events
     * exceed {@link #CONCURRENT_LAYERS_MAX_BYTES}.
     */
    private int commitTable(TableId table, List<ChangeEvent> events, boolean reset, SourcePosition through, Instant start) {
        String name = TableNames.lakeName(table);
        TableIdentifier bronzeId = TableIdentifier.of(Layer.BRONZE.namespace(), name);
        TableIdentifier silverId = TableIdentifier.of(Layer.SILVER.namespace(), name);
        TableIdentifier historyId = io.tributary.lake.silver.HistoryWriter.historyOf(silverId);
        try {
            List<ChangeEvent> resolved = previousImages.resolve(bronzeId, events);
            List<ChangeEvent> forBronze = after(bronzeId, resolved);
            List<ChangeEvent> withReset = reset ? resetFirst(resolved) : resolved;
            List<ChangeEvent> forSilver = after(silverId, withReset);
            List<ChangeEvent> forHistory = history != null ? after(historyId, withReset) : List.of();
            TableOptions tableOptions = options.apply(table);
            java.util.concurrent.FutureTask<Integer> bronzeCommit = new java.util.concurrent.FutureTask<>(
                    () -> commitBronze(table, bronzeId, forBronze, reset, start));
            java.util.concurrent.FutureTask<Integer> historyCommit = new java.util.concurrent.FutureTask<>(() -> {
                if (forHistory.isEmpty()) {
                    return 0;
                }
                int made = history.apply(silverId, forHistory, tableOptions);
                committedPositions.put(historyId, forHistory.get(forHistory.size() - 1).position());
                return made;
            });
            boolean concurrent = ChangeEvent.estimatedBytes(resolved) <= CONCURRENT_LAYERS_MAX_BYTES;
            if (concurrent && !forBronze.isEmpty() && (!forSilver.isEmpty() || !forHistory.isEmpty())) {
                writers.execute(bronzeCommit);
            }
            // History reads silver's key; when silver's commit cannot change it, both run at once.
            boolean historyBesideSilver = concurrent && !forSilver.isEmpty() && !forHistory.isEmpty()
                    && io.tributary.lake.silver.HistoryWriter.keyUnchangedBy(catalog.load(silverId), forSilver, tableOptions);
            if (historyBesideSilver) {
                writers.execute(historyCommit);
            }
            int snapshots = 0;
            RuntimeException failure = null;
            try {
                if (!forSilver.isEmpty()) {
                    snapshots += silver.apply(silverId, forSilver, tableOptions);
                    committedPositions.put(silverId, forSilver.get(forSilver.size() - 1).position());
                }
            } catch (RuntimeException e) {
                failure = e;
            }
            try {
                // Runs history here unless a writer thread took it (a task runs at most once); after
                // a failed silver commit only when it already ran beside it.
                if (failure == null || historyBesideSilver) {
                    historyCommit.run();
                    snapshots += awaitLayer(historyCommit, failure);
                }
            } catch (RuntimeException e) {
                // Thrown only when silver succeeded: a failure after silver's is added to it.
                failure = e;
            } finally {
                bronzeCommit.run();
            }
            // Waits for bronze either way: nothing of the table is left running when this returns or throws.
            try {
                snapshots += awaitLayer(bronzeCommit, failure);
            } catch (RuntimeException e) {
                failure = e;
            }
            if (failure != null) {
                throw failure;
            }
            return snapshots;
        } catch (CommitStateUnknownException e) {
            committedPositions.remove(bronzeId);
            committedPositions.remove(silverId);
            committedPositions.remove(historyId);
            throw new TributaryException(ErrorCode.LAKE_COMMIT_FAILED, "Cannot confirm the commit of " + name + " at position " + through
                    + ": the catalog did not say whether it succeeded. Nothing was deleted; a restart reconciles from the snapshot summary", e);
        } catch (TributaryException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TributaryException(ErrorCode.LAKE_COMMIT_FAILED, "Interrupted while committing " + name + " at position " + through, e);
        } catch (RuntimeException e) {
            committedPositions.remove(bronzeId);
            committedPositions.remove(silverId);
            committedPositions.remove(historyId);
            throw new TributaryException(ErrorCode.LAKE_COMMIT_FAILED, "Cannot commit " + name + " at position " + through + ": " + e.getMessage(), e);
        }
    }

    /**
     * A table's events up to this {@link ChangeEvent#estimatedBytes() estimate} have their bronze
     * written beside silver and history; larger ones (a huge value, a large transaction's slice)
     * one layer after the other, as writing a value to Parquet holds several times its size in heap.
     */
    static final long CONCURRENT_LAYERS_MAX_BYTES = 16L << 20;

    /**
     * Waits for a layer's commit that ran (or runs) on another thread and returns its snapshots; its
     * failure is added to {@code earlier} (then the value is 0) or thrown when there is none.
     */
    private static int awaitLayer(java.util.concurrent.FutureTask<Integer> layer, RuntimeException earlier) throws InterruptedException {
        try {
            return layer.get();
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            RuntimeException cause = (RuntimeException) e.getCause();
            if (earlier == null) {
                throw cause;
            }
            earlier.addSuppressed(cause);
            return 0;
        }
    }

    /** Appends a table's events to bronze (or, for a restarted initial snapshot, replaces its earlier attempt's reads); returns the snapshots made. */
    private int commitBronze(TableId table, TableIdentifier bronzeId, List<ChangeEvent> forBronze, boolean reset, Instant start) {
        if (forBronze.isEmpty()) {
            return 0;
        }
        SourcePosition last = forBronze.get(forBronze.size() - 1).position();
        SourcePosition before = committedPositions.get(bronzeId);
        if (reset && before != null && !before.equals(SourcePosition.BEGINNING)) {
            // An initial snapshot starts over: its earlier attempt's reads go in the same commit.
            // The files holding them are named in the commit, so a compaction that rewrote one
            // meanwhile fails it: planned again on the new files.
            for (int attempt = 1; ; attempt++) {
                OverwriteFiles overwrite = bronze.prepareRestartedSnapshot(bronzeId, forBronze, start.atOffset(ZoneOffset.UTC),
                        new SourcePosition(before.commitKey(), 0), options.apply(table));
                CrashPoint.reach(CrashPoint.FILES_WRITTEN);
                try {
                    catalog.commit(SnapshotPositions.stamp(overwrite, pipeline, last));
                    break;
                } catch (org.apache.iceberg.exceptions.ValidationException e) {
                    if (attempt == 3) {
                        throw e;
                    }
                    LOG.info("Restarted snapshot of {} met a concurrent rewrite ({}); planning it again", bronzeId, e.getMessage());
                    catalog.load(bronzeId).ifPresent(Table::refresh);
                }
            }
        } else {
            AppendFiles append = bronze.prepare(bronzeId, forBronze, start.atOffset(ZoneOffset.UTC), options.apply(table));
            CrashPoint.reach(CrashPoint.FILES_WRITTEN);
            catalog.commit(SnapshotPositions.stamp(append, pipeline, last));
        }
        CrashPoint.reach(CrashPoint.TABLE_COMMITTED);
        committedPositions.put(bronzeId, last);
        return 1;
    }

    private List<ChangeEvent> after(TableIdentifier id, List<ChangeEvent> events) {
        SourcePosition committed = committedPositions.computeIfAbsent(id,
                t -> catalog.load(t).flatMap(SnapshotPositions::committed).orElse(SourcePosition.BEGINNING));
        if (committed.equals(SourcePosition.BEGINNING) || events.get(0).position().isAfter(committed)) {
            return events;
        }
        List<ChangeEvent> out = new ArrayList<>();
        for (ChangeEvent e : events) {
            if (e.position().isAfter(committed)) {
                out.add(e);
            }
        }
        if (out.size() < events.size()) {
            LOG.info("Skipped {} event(s) of {} already committed through {}", events.size() - out.size(), id, committed);
        }
        return out;
    }
}
