package io.tributary.pipeline;

import io.tributary.config.LakeCommitsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.lake.Lake;
import io.tributary.lake.commit.CommittedState;
import io.tributary.lake.layout.Layer;
import io.tributary.models.GoldBuilder;
import io.tributary.models.Model;
import io.tributary.models.ModelGraph;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.LakeCommit;
import io.tributary.spi.LakeCommitFeed;
import io.tributary.spi.LakeCommitPublisher;
import io.tributary.spi.TributaryException;
import java.io.Closeable;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds a pipeline's gold models in a process of its own (CLI {@code tributary gold}), beside the
 * pipeline that fills bronze and silver: once ({@link #buildOnce}), or each time that pipeline
 * announces a bronze or silver commit on its {@code lake-commits} topic ({@link #follow}), at most
 * once per {@code models.interval}. A build reads the lake's consistent state as the pipeline's
 * own builds do ({@link GoldBuilder}), and its gold tables are announced in turn when
 * {@code lake-commits} is set. It takes no lease: the pipeline it follows keeps the lake's, and
 * should have no {@code models} of its own, or both build the same tables. Each build opens the
 * lake anew, as the catalog keeps the tables it loaded and another process commits them.
 */
public final class GoldRun implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(GoldRun.class);
    private static final Duration POLL = Duration.ofMillis(500);

    private final PipelineConfig config;
    private final List<Model> models;
    private volatile boolean fullRefresh;
    /** The build in progress, for {@link #close} to cancel. */
    private volatile GoldBuilder building;
    private final Clock clock = Clock.systemUTC();
    private volatile boolean closed;

    /**
     * @throws TributaryException {@link ErrorCode#INVALID_CONFIG} when the configuration has no
     *         {@code models}
     */
    public GoldRun(PipelineConfig config) {
        this.config = config;
        Optional<java.nio.file.Path> directory = config.models().directory();
        if (directory.isEmpty()) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "Pipeline " + config.name() + " has no models: set models: ./models (a folder with "
                    + "gold/<model>.sql) to build gold tables");
        }
        this.models = ModelGraph.load(directory.get());
    }

    /** Makes the next build rebuild every model in full, incremental ones included (CLI {@code --full-refresh}). */
    public void fullRefresh() {
        fullRefresh = true;
    }

    /**
     * Builds every model once against the lake's consistent state.
     *
     * @return the models built and those left waiting for tables the lake does not hold
     * @throws TributaryException {@link ErrorCode#MODEL_ERROR} when a model's SQL fails
     */
    public GoldBuilder.Outcome buildOnce() {
        try (LakeCommitPublisher announcer = announcer()) {
            return build(announcer);
        }
    }

    /**
     * Builds once, then after every announced bronze or silver commit of the pipeline (at most once
     * per {@code models.interval}), until {@link #close}. A model whose SQL fails is logged and
     * tried again at the next announcement.
     *
     * @throws TributaryException {@link ErrorCode#INVALID_CONFIG} without a {@code lake-commits}
     *         section; {@link ErrorCode#SOURCE_FAILED} when the announcements cannot be read
     */
    public void follow() {
        LakeCommitsConfig commits = config.lakeCommits().orElseThrow(() -> new TributaryException(ErrorCode.INVALID_CONFIG,
                "gold --follow reacts to the lake commits pipeline " + config.name() + " announces: set lake-commits: {type: kafka, …} (the same as "
                        + "the pipeline's)"));
        try (LakeCommitFeed feed = LakeCommitPublisher.Factory.follow(LakeCommitsConfig.TYPE, commits, config.name(), Set.of("bronze", "silver"));
             LakeCommitPublisher announcer = announcer()) {
            boolean pending = !tryBuild(announcer);
            Instant lastBuild = clock.instant();
            Set<String> changed = new TreeSet<>();
            while (!closed) {
                for (LakeCommit commit : feed.poll(POLL)) {
                    if (commit.addedRecords() > 0 || commit.deletedRecords() > 0) {
                        changed.add(commit.layer() + "." + commit.table());
                        pending = true;
                    }
                }
                if (pending && !closed && !clock.instant().isBefore(lastBuild.plus(config.models().interval()))) {
                    LOG.info("Building gold after commits to {}", changed);
                    lastBuild = clock.instant();
                    pending = !tryBuild(announcer);
                    changed.clear();
                }
            }
        }
    }

    /** Builds, logging a model error instead of throwing it; whether the build went through. */
    private boolean tryBuild(LakeCommitPublisher announcer) {
        try {
            build(announcer);
            return true;
        } catch (TributaryException e) {
            if (e.errorCode() != ErrorCode.MODEL_ERROR) {
                throw e;
            }
            LOG.warn("{}. Fix the model file; tried again at the next commit", e.getMessage());
            return false;
        }
    }

    private GoldBuilder.Outcome build(LakeCommitPublisher announcer) {
        try (Lake lake = Lake.open(config.lake(), config.name(), config::optionsFor)) {
            Optional<CommittedState> state = lake.committedState();
            if (state.isEmpty()) {
                LOG.info("Pipeline {} has committed nothing to the lake yet: no gold to build", config.name());
                return new GoldBuilder.Outcome(List.of(), Map.of());
            }
            GoldBuilder gold = new GoldBuilder(lake, config.name());
            if (fullRefresh) {
                gold.requestFullRefresh();
            }
            building = gold;
            if (closed) {
                return new GoldBuilder.Outcome(List.of(), Map.of());
            }
            GoldBuilder.Outcome outcome = gold.build(models, state.get().watermark());
            fullRefresh = false;
            if (!outcome.waiting().isEmpty()) {
                LOG.warn("Gold models not built, as they read tables that are not in the lake: {}", outcome.waiting());
            }
            if (!outcome.built().isEmpty()) {
                LOG.info("Built gold {} as of {}", outcome.built(), state.get().consistent());
                if (announcer != null) {
                    try {
                        announcer.publish(lake.currentCommits(config.name(), Layer.GOLD).stream().filter(c -> outcome.built().contains(c.table())).toList());
                    } catch (TributaryException e) {
                        LOG.warn("Cannot announce the gold build: {}", e.getMessage());
                    }
                }
            }
            return outcome;
        } finally {
            building = null;
        }
    }

    private LakeCommitPublisher announcer() {
        return config.lakeCommits().map(c -> LakeCommitPublisher.Factory.open(LakeCommitsConfig.TYPE, c, config.name())).orElse(null);
    }

    /** Ends {@link #follow} after the build in progress, if any, is cancelled (its table keeps its previous state). Idempotent. */
    @Override
    public void close() {
        closed = true;
        GoldBuilder gold = building;
        if (gold != null) {
            gold.cancel();
        }
    }
}
