package io.tributary.models;

import io.tributary.lake.Lake;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.gold.GoldTables;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeTable;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Materializes gold models: runs each model's SELECT with DuckDB over the lake read at its
 * transaction-consistent position ({@link Lake#consistentView()}), in dependency order, and writes
 * {@code gold.<model>} in one Iceberg commit stamped with that position (or the given watermark for
 * a lake without a recorded state, see {@link SnapshotPositions}), so readers choose gold snapshots
 * by the same rule as silver's.
 *
 * <p>A full build replaces the table's contents (an overwrite). An incremental build (a model with
 * {@code -- materialized: incremental}, see {@link ModelHeader}) runs the SELECT rendered for the
 * last build ({@link ModelTemplate}) and upserts its rows by the unique key ({@link GoldTables}
 * writes both). Rows whose key is not in the result are kept, as in dbt. An incremental model is built in full the
 * first time, after its file changed (its SHA-256 is kept in the snapshot summary under
 * {@value #MODEL_HASH}), when its result columns changed, and after {@link #requestFullRefresh()}.
 */
public final class GoldBuilder {
    private static final Logger LOG = LoggerFactory.getLogger(GoldBuilder.class);
    /** Snapshot summary key: SHA-256 of the model file the snapshot was built from. */
    public static final String MODEL_HASH = GoldTables.MODEL_HASH;
    /** Snapshot summary key: {@code full} or {@code incremental}. */
    public static final String BUILD = GoldTables.BUILD;
    /** Snapshot summary key: the latest bronze {@code _commit_ts} at the build, ISO-8601; absent when bronze was empty. */
    public static final String BUILT_AT = GoldTables.BUILT_AT;

    private final Lake lake;
    private final GoldTables gold;
    private volatile boolean fullRefresh;
    private volatile boolean cancelled;
    /** The engine of the build in progress, for {@link #cancel()}. */
    private volatile QueryEngine building;

    public GoldBuilder(Lake lake, String pipeline) {
        this.lake = lake;
        this.gold = new GoldTables(lake, pipeline);
    }

    /** Makes the next {@link #build} rebuild every model in full, incremental ones included. */
    public void requestFullRefresh() {
        fullRefresh = true;
    }

    /**
     * Stops the build in progress, from any thread, and makes every later {@link #build} return
     * at once: for a pipeline that stops. The model being built is not committed, so its table keeps
     * its previous state; the models not reached yet are left as they are.
     */
    public void cancel() {
        cancelled = true;
        QueryEngine engine = building;
        if (engine != null) {
            engine.cancel();
        }
    }

    /**
     * What one {@link #build} did.
     *
     * @param built the models built, in build order
     * @param waiting the models left for a later build, in build order, each with the bronze or silver tables it
     *     reads that are not in the lake yet (as {@code silver.orders}; a model reading a waiting
     *     gold model waits with it, and names {@code gold.<model>})
     */
    public record Outcome(List<String> built, Map<String, Set<String>> waiting) {
        public Outcome {
            built = List.copyOf(built);
            waiting = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(waiting));
        }
    }

    /**
     * Builds every model whose bronze and silver tables are all in the lake, in dependency order;
     * the others (a table the initial snapshot has not committed yet, or one that is not captured)
     * are left out, with the models that read them.
     *
     * @throws TributaryException MODEL_ERROR when a model's SQL fails (DuckDB's message)
     */
    public Outcome build(List<Model> models, SourcePosition watermark) {
        List<String> built = new ArrayList<>();
        Map<String, Set<String>> waiting = new java.util.LinkedHashMap<>();
        if (models.isEmpty()) {
            return new Outcome(built, waiting);
        }
        boolean full = fullRefresh;
        io.tributary.lake.scan.LakeView view = lake.consistentView();
        SourcePosition position = view.consistent().orElse(watermark);
        List<LakeTable> tables = view.tables();
        Set<String> present = new HashSet<>();
        tables.forEach(t -> present.add(t.layer().namespace() + "." + t.name().toLowerCase(java.util.Locale.ROOT)));
        try (QueryEngine engine = QueryEngine.open(tables)) {
            building = engine;
            // Set before reading the flag, as cancel() sets the flag before reading the engine.
            if (cancelled) {
                engine.cancel();
            }
            Optional<Instant> builtAt = models.stream().anyMatch(m -> m.header().incremental()) ? latestCommitTime(engine, tables) : Optional.empty();
            for (Model model : models) {
                if (engine.cancelled()) {
                    break;
                }
                Set<String> missing = new java.util.TreeSet<>(model.lakeReferences());
                missing.removeAll(present);
                model.dependencies().stream().filter(waiting::containsKey).forEach(d -> missing.add(Layer.GOLD.namespace() + "." + d));
                if (!missing.isEmpty()) {
                    waiting.put(model.name(), missing);
                    continue;
                }
                Instant start = Instant.now();
                Optional<LastBuild> last = full || !model.header().incremental() ? Optional.empty() : lastBuild(model);
                GoldTables.BuildKind kind = GoldTables.BuildKind.FULL;
                GoldTables.Target target = target(model);
                Optional<Long> rows = Optional.empty();
                if (last.isPresent()) {
                    rows = engine.stream(model.incrementalSql(last.get()), rs -> gold.upsert(target, rs, position, builtAt));
                    kind = GoldTables.BuildKind.INCREMENTAL;
                }
                if (rows.isEmpty()) {
                    kind = GoldTables.BuildKind.FULL;
                    rows = Optional.of(engine.stream(model.sql(), rs -> gold.replace(target, rs, position, builtAt)));
                }
                lake.lakeTable(Layer.GOLD, model.name()).ifPresent(engine::register);
                LOG.info("Built gold.{} ({} build): {} rows written in {} ms", model.name(), kind.summaryValue(), rows.get(),
                        Duration.between(start, Instant.now()).toMillis());
                built.add(model.name());
            }
            if (full && waiting.isEmpty() && !engine.cancelled()) {
                fullRefresh = false;
            }
        } catch (TributaryException e) {
            if (cancelled) {
                LOG.info("Stopped the gold build: gold tables not rebuilt yet keep their previous state (built: {})", built.isEmpty() ? "none" : built);
                return new Outcome(built, waiting);
            }
            if (e.errorCode() == ErrorCode.INVALID_SQL) {
                throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot build gold models: " + e.getMessage(), e);
            }
            throw e;
        } finally {
            building = null;
        }
        return new Outcome(built, waiting);
    }

    private static GoldTables.Target target(Model model) {
        return new GoldTables.Target(model.name(), model.header().uniqueKey(), model.template().fingerprint(),
                model.file() + ":" + model.header().uniqueKeyLine());
    }

    /** The position and commit time of the table's last Tributary build, if it was built from this model file. */
    private Optional<LastBuild> lastBuild(Model model) {
        return gold.lastBuild(model.name())
                .filter(b -> b.modelHash().equals(Optional.of(model.template().fingerprint())))
                .map(b -> new LastBuild(b.position(), b.builtAt()));
    }

    /**
     * The latest {@code _commit_ts} of all bronze tables: from the data files' metrics
     * ({@link GoldTables#latestCommitTime}), scanning the column only of a table with a file without one.
     */
    private Optional<Instant> latestCommitTime(QueryEngine engine, List<LakeTable> tables) {
        List<Instant> latest = new ArrayList<>();
        for (LakeTable bronze : tables) {
            if (bronze.layer() != Layer.BRONZE) {
                continue;
            }
            GoldTables.CommitTimeBound bound = gold.latestCommitTime(bronze.name());
            if (!bound.known()) {
                engine.stream("SELECT max(_commit_ts) FROM bronze.\"" + bronze.name().replace("\"", "\"\"") + "\"",
                        rs -> rs.next() ? Optional.ofNullable(rs.getObject(1, OffsetDateTime.class)) : Optional.<OffsetDateTime>empty())
                        .ifPresent(at -> latest.add(at.toInstant()));
            } else {
                bound.latest().ifPresent(latest::add);
            }
        }
        return latest.stream().max(Instant::compareTo);
    }
}
