package io.tributary.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.config.InvalidConfigException;
import io.tributary.config.PipelineConfig;
import io.tributary.lake.Lake;
import io.tributary.lake.commit.CommittedState;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeTable;
import io.tributary.pipeline.PipelineStatus;
import io.tributary.pipeline.ReconnectingFile;
import io.tributary.pipeline.Sources;
import io.tributary.query.QueryEngine;
import io.tributary.spi.SourceLag;
import io.tributary.spi.TributaryException;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "status", description = "Per table: rows in each layer, last commit, snapshot id, committed position; lag behind the source.")
final class StatusCommand implements Callable<Integer> {
    @Mixin
    ConfigOption options;

    @Option(names = "--json", description = "Print JSON.")
    boolean json;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** The status of a pipeline, as printed. */
    record Report(Optional<CommittedState> state, Optional<SourceLag> sourceLag, String sourceError, List<LakeTable> tables, Map<String, Long> rows,
                  Optional<PipelineStatus.Reconnecting> reconnecting, List<io.tributary.spi.TableId> snapshotting,
                  Map<String, io.tributary.lake.commit.ShardState> shards) {
        /** What the lake does not hold yet, in the source's unit; -1 when unknown. */
        long behind() {
            return sourceLag.map(SourceLag::behind).orElse(-1L);
        }

        long lagSeconds() {
            if (behind() <= 0) {
                return behind() == 0 ? 0 : -1;
            }
            return state.map(s -> Duration.between(s.committedAt(), Instant.now()).toSeconds()).orElse(-1L);
        }
    }

    /**
     * @param sourceUnusable why the source cannot be asked for its position (e.g. its password is
     *                       not set), or empty when {@code config} holds the source's settings
     */
    static Report report(PipelineConfig config, Optional<String> sourceUnusable) {
        try (Lake lake = Lake.open(config.lake(), config.name(), config::optionsFor)) {
            List<LakeTable> tables = lake.tables();
            try (QueryEngine q = QueryEngine.open(tables)) {
                return report(config, sourceUnusable, lake, tables, q);
            }
        }
    }

    /** The report over a lake already open, with {@code q} over its {@code tables}. */
    static Report report(PipelineConfig config, Lake lake, List<LakeTable> tables, QueryEngine q) {
        return report(config, Optional.empty(), lake, tables, q);
    }

    private static Report report(PipelineConfig config, Optional<String> sourceUnusable, Lake lake, List<LakeTable> tables, QueryEngine q) {
        Optional<SourceLag> lag = Optional.empty();
        String error = sourceUnusable.orElse(null);
        Optional<CommittedState> state = lake.committedState();
        if (sourceUnusable.isEmpty()) {
            try {
                lag = Optional.of(Sources.lag(config, state.map(CommittedState::watermark), state.map(CommittedState::offset)));
            } catch (TributaryException e) {
                error = e.getMessage();
            }
        }
        // Row counts come from a scan with deletes applied: snapshot summaries cannot tell live rows.
        Map<String, Long> rows = new java.util.HashMap<>();
        for (LakeTable t : tables) {
            Object n = q.query("SELECT count(*) FROM \"" + t.layer().namespace() + "\".\"" + t.name() + "\"").rows().get(0).get(0);
            rows.put(t.qualifiedName(), ((Number) n).longValue());
        }
        return new Report(state, lag, error, tables, rows, ReconnectingFile.read(config.lake().stateOf(config.name())), snapshotting(config, state),
                lake.shardStates());
    }

    /**
     * Tables whose initial snapshot is not complete as of the lake's committed source offset: those
     * a blocking snapshot was reading, those Debezium's incremental snapshot still lists, and
     * configured tables not captured yet.
     */
    private static List<io.tributary.spi.TableId> snapshotting(PipelineConfig config, Optional<CommittedState> state) {
        if (state.isEmpty() || state.get().offset().requestsInitialSnapshot()) {
            return List.of();
        }
        try {
            return Sources.snapshotting(config, state.get().offset());
        } catch (TributaryException e) {
            // An offset this version cannot read says nothing about snapshots; the rest of the status stands.
            return List.of();
        }
    }

    @Override
    public Integer call() {
        // The lake's part needs only the lake's settings; the source's lag needs the source's secrets too.
        PipelineConfig config = options.loadLakeSettings();
        Optional<String> sourceUnusable = Optional.empty();
        try {
            config = options.load();
        } catch (InvalidConfigException e) {
            sourceUnusable = Optional.of("Cannot connect to the source: " + e.problems().stream().map(Object::toString)
                    .collect(java.util.stream.Collectors.joining("; ")));
        }
        if (!config.hasLake()) {
            printCapture(config, sourceUnusable, json, spec.commandLine().getOut());
            return 0;
        }
        print(report(config, sourceUnusable), json, spec.commandLine().getOut());
        return 0;
    }

    /** A capture-only pipeline: what its sink holds (read without taking it over) and the source's lag behind it. */
    static void printCapture(PipelineConfig config, Optional<String> sourceUnusable, boolean json, PrintWriter out) {
        io.tributary.config.KafkaSinkConfig sink = config.sink().orElseThrow();
        Optional<io.tributary.spi.ChangeSink.Committed> committed = committed(io.tributary.spi.ChangeSinkFactory.forType(io.tributary.config.KafkaSinkConfig.TYPE),
                sink, config.name());
        Optional<SourceLag> lag = Optional.empty();
        String error = sourceUnusable.orElse(null);
        if (sourceUnusable.isEmpty()) {
            try {
                lag = Optional.of(Sources.lag(config, committed.map(io.tributary.spi.ChangeSink.Committed::position), committed.map(io.tributary.spi.ChangeSink.Committed::offset)));
            } catch (TributaryException e) {
                error = e.getMessage();
            }
        }
        if (json) {
            ObjectNode root = new ObjectMapper().createObjectNode();
            root.put("sink", sink.describe());
            committed.ifPresent(c -> {
                root.put("committedPosition", c.position().toString());
                c.committedAt().ifPresent(at -> root.put("committedAt", at.toString()));
            });
            lag.ifPresent(l -> {
                root.put("sourcePosition", l.position());
                root.put(lagKey(l), l.behind());
            });
            if (error != null) {
                root.put("sourceError", error);
            }
            out.println(root.toPrettyString());
        } else {
            out.println("pipeline:   captures into " + sink.describe());
            out.println("committed:  " + committed.map(c -> c.position() + c.committedAt().map(at -> " at " + at).orElse("")).orElse("nothing committed yet"));
            String unreachable = error;
            out.println("source:     " + lag.map(l -> "at " + l.position() + ", lag " + l.describeBehind()).orElseGet(() -> "unreachable: " + unreachable));
        }
        out.flush();
    }

    /** The {@code --json} key of a lag: {@code lagBytes} (PostgreSQL) or {@code lagRecords} (Kafka). */
    private static String lagKey(SourceLag lag) {
        return lag.unit() == SourceLag.Unit.RECORDS ? "lagRecords" : "lagBytes";
    }

    private static <S> Optional<io.tributary.spi.ChangeSink.Committed> committed(io.tributary.spi.ChangeSinkFactory<S> factory, Object settings,
                                                                             String pipeline) {
        return factory.committed(factory.settings(settings), pipeline);
    }

    static void print(Report r, boolean json, PrintWriter out) {
        Map<String, Map<Layer, LakeTable>> byName = new TreeMap<>();
        for (LakeTable t : r.tables()) {
            byName.computeIfAbsent(t.name(), k -> new java.util.EnumMap<>(Layer.class)).put(t.layer(), t);
        }
        if (json) {
            ObjectMapper mapper = new ObjectMapper();
            ObjectNode root = mapper.createObjectNode();
            r.state().ifPresent(s -> {
                root.put("watermark", s.watermark().toString());
                root.put("committedAt", s.committedAt().toString());
                root.put("consistentPosition", s.consistent().toString());
            });
            r.sourceLag().ifPresent(l -> root.put("sourcePosition", l.position()));
            r.reconnecting().ifPresent(rc -> {
                ObjectNode o = root.putObject("reconnecting");
                o.put("attempt", rc.attempt());
                o.put("since", rc.since().toString());
                o.put("lastError", rc.lastError());
            });
            if (r.sourceError() != null) {
                root.put("sourceError", r.sourceError());
            }
            if (!r.snapshotting().isEmpty()) {
                ArrayNode snapshotting = root.putArray("snapshotting");
                r.snapshotting().forEach(t -> snapshotting.add(t.toString()));
            }
            root.put(r.sourceLag().map(StatusCommand::lagKey).orElse("lagBytes"), r.behind());
            root.put("lagSeconds", r.lagSeconds());
            if (!r.shards().isEmpty()) {
                ArrayNode shards = root.putArray("shards");
                r.shards().values().forEach(sh -> {
                    ObjectNode o = shards.addObject();
                    o.put("shard", sh.name());
                    o.put("position", sh.position().toString());
                    o.put("committedAt", sh.committedAt().toString());
                    o.put("caughtUp", sh.caughtUp());
                    sh.tables().forEach(o.putArray("tables")::add);
                    sh.lease().ifPresent(l -> {
                        ObjectNode held = o.putObject("heldBy");
                        held.put("host", l.host());
                        held.put("pid", l.pid());
                        held.put("epoch", l.epoch());
                        held.put("renewedAt", l.renewedAt().toString());
                    });
                });
            }
            ArrayNode tables = root.putArray("tables");
            for (LakeTable t : r.tables()) {
                ObjectNode o = tables.addObject();
                o.put("table", t.qualifiedName());
                o.put("rows", r.rows().getOrDefault(t.qualifiedName(), 0L));
                t.snapshotId().ifPresent(id -> o.put("snapshotId", id));
                t.committedAt().ifPresent(at -> o.put("lastCommit", at.toString()));
                t.position().ifPresent(p -> o.put("position", p.toString()));
            }
            out.println(root.toPrettyString());
            out.flush();
            return;
        }
        out.println("watermark:  " + r.state().map(s -> s.watermark() + " committed at " + s.committedAt()).orElse("nothing committed yet"));
        r.state().filter(s -> !s.consistent().equals(s.watermark()))
                .ifPresent(s -> out.println("consistent: " + s.consistent() + " (readers see the lake there: a transaction is committed in parts)"));
        r.reconnecting().ifPresent(rc -> out.println("pipeline:   reconnecting to the source, attempt " + rc.attempt() + " since " + rc.since()
                + "; last error: " + rc.lastError()));
        out.println("source:     " + r.sourceLag().map(l -> "at " + l.position() + ", lag " + l.describeBehind() + ", " + r.lagSeconds() + " s")
                .orElse("unreachable: " + r.sourceError()));
        for (io.tributary.lake.commit.ShardState sh : r.shards().values()) {
            out.println("shard:      " + sh.name() + " at " + sh.position() + (sh.caughtUp() ? " (caught up)" : "") + ", "
                    + sh.lease().map(l -> "held by pid " + l.pid() + " on " + l.host() + " (epoch " + l.epoch() + ", renewed " + l.renewedAt() + ")")
                    .orElse("released"));
        }
        if (!r.snapshotting().isEmpty()) {
            out.println("snapshot:   initial snapshot running for " + r.snapshotting().stream().map(Object::toString).collect(java.util.stream.Collectors.joining(", ")));
        }
        out.printf("%-28s %12s %12s %12s  %-24s %-20s %s%n", "table", "bronze rows", "silver rows", "gold rows", "last commit", "snapshot id", "position");
        for (Map.Entry<String, Map<Layer, LakeTable>> e : byName.entrySet()) {
            Map<Layer, LakeTable> layers = e.getValue();
            LakeTable latest = layers.values().stream().filter(t -> t.committedAt().isPresent())
                    .max(java.util.Comparator.comparing(t -> t.committedAt().get())).orElse(layers.values().iterator().next());
            out.printf("%-28s %12s %12s %12s  %-24s %-20s %s%n", e.getKey(),
                    rows(r, layers.get(Layer.BRONZE)), rows(r, layers.get(Layer.SILVER)), rows(r, layers.get(Layer.GOLD)),
                    latest.committedAt().map(Instant::toString).orElse("-"),
                    latest.snapshotId().map(String::valueOf).orElse("-"),
                    latest.position().map(Object::toString).orElse("-"));
        }
        out.flush();
    }

    private static String rows(Report r, LakeTable t) {
        return t == null ? "-" : Long.toString(r.rows().getOrDefault(t.qualifiedName(), 0L));
    }
}
