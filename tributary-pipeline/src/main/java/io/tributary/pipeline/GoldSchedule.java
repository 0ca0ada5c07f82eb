package io.tributary.pipeline;

import io.tributary.config.PipelineConfig;
import io.tributary.lake.Lake;
import io.tributary.models.GoldBuilder;
import io.tributary.models.Model;
import io.tributary.models.ModelGraph;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.LakeCommit;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * When a running pipeline builds its gold models: after a commit with changes, at most once per
 * {@code models.interval} (or at once when forced: a catch-up's end), each build announced on the
 * lake-commit topics. A model with a bug is logged and retried at the next interval while capture
 * goes on; a model waiting for a table not in the lake yet is tried again after the next commit.
 */
final class GoldSchedule {
    private static final Logger LOG = LoggerFactory.getLogger(GoldSchedule.class);

    private final PipelineConfig config;
    private final Lake lake;
    private final Clock clock;
    private final List<Model> models;
    private final GoldBuilder gold;
    /** Announces gold tables built (a no-op without {@code lake-commits}). */
    private final Consumer<Supplier<List<LakeCommit>>> announce;
    /** Whether an initial snapshot is under way: its tables reach the lake one after another. */
    private final BooleanSupplier snapshotRunning;
    private volatile Instant lastBuild = Instant.EPOCH;
    private volatile boolean pending;
    /** The gold models the last build left out, and the tables each waits for, as last logged. */
    private volatile Map<String, Set<String>> waiting = Map.of();

    GoldSchedule(PipelineConfig config, Lake lake, Clock clock, Consumer<Supplier<List<LakeCommit>>> announce, BooleanSupplier snapshotRunning) {
        this.config = config;
        this.lake = lake;
        this.clock = clock;
        this.models = config.models().directory().map(ModelGraph::load).orElse(List.of());
        this.gold = new GoldBuilder(lake, config.name());
        this.announce = announce;
        this.snapshotRunning = snapshotRunning;
    }

    /** The next build rebuilds every model in full, incremental models included. */
    void requestFullRefresh() {
        gold.requestFullRefresh();
        pending = true;
    }

    /** A commit changed tables (or a run starts): the next {@link #build} builds. */
    void changed() {
        pending = true;
    }

    boolean pending() {
        return pending;
    }

    /**
     * Builds the models at {@code committed} when a change is pending and, unless {@code force},
     * {@code models.interval} passed since the last build.
     *
     * @throws TributaryException other than MODEL_ERROR, when the lake fails
     */
    void build(boolean force, SourcePosition committed) {
        if (models.isEmpty() || !pending) {
            return;
        }
        Instant now = clock.instant();
        if (!force && now.isBefore(lastBuild.plus(config.models().interval()))) {
            return;
        }
        lastBuild = now;
        try {
            GoldBuilder.Outcome outcome = gold.build(models, committed);
            if (!outcome.built().isEmpty()) {
                announce.accept(() -> lake.currentCommits(config.name(), io.tributary.lake.layout.Layer.GOLD).stream()
                        .filter(c -> outcome.built().contains(c.table())).toList());
            }
            // A model waiting for a table is tried again after the next commit with changes: only
            // a commit brings a table into the lake.
            pending = false;
            reportWaiting(outcome.waiting());
        } catch (TributaryException e) {
            if (e.errorCode() != ErrorCode.MODEL_ERROR) {
                throw e;
            }
            // A model with a bug: replication goes on, the model is retried at the next interval.
            LOG.warn("{}. Fix the model file if the error persists; retrying in {} s", e.getMessage(), config.models().interval().toSeconds());
        }
    }

    /** Cancels a build in progress (its table keeps its previous state). */
    void cancel() {
        gold.cancel();
    }

    /**
     * Logs the gold models a build left out when that set changes: at INFO while an initial
     * snapshot is under way (its tables reach the lake one after another), else at WARN, as the
     * table is then not captured or the model names it wrongly.
     */
    private void reportWaiting(Map<String, Set<String>> now) {
        if (now.equals(waiting)) {
            return;
        }
        waiting = now;
        if (now.isEmpty()) {
            return;
        }
        String names = now.entrySet().stream().map(e -> "gold." + e.getKey() + " (" + String.join(", ", e.getValue()) + ")")
                .collect(Collectors.joining(", "));
        if (snapshotRunning.getAsBoolean()) {
            LOG.info("Gold models waiting for tables the initial snapshot has not committed yet: {}; built once they are in the lake", names);
        } else {
            LOG.warn("Gold models not built, as they read tables that are not in the lake: {}. Capture those tables (source.tables and the "
                    + "publication) or fix the model files; tried again after the next commit with changes", names);
        }
    }
}
