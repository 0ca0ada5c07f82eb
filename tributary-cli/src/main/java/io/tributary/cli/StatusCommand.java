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
import io.tributary.query.QueryEngine;
import io.tributary.source.postgres.offset.OffsetCodec;
import io.tributary.source.postgres.slot.PostgresConnector;
import io.tributary.source.postgres.slot.ReplicationSetup;
import io.tributary.spi.Lsn;
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
    record Report(Optional<CommittedState> state, Optional<Lsn> sourceLsn, String sourceError, List<LakeTable> tables, Map<String, Long> rows,
                  Optional<PipelineStatus.Reconnecting> reconnecting, List<io.tributary.spi.TableId> snapshotting) {
        long lagBytes() {
            return sourceLsn.map(l -> state.map(s -> s.watermark().commitLsn().bytesUntil(l)).orElse(l.value())).orElse(-1L);
        }

        long lagSeconds() {
            if (lagBytes() <= 0) {
                return lagBytes() == 0 ? 0 : -1;
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
        Optional<Lsn> lsn = Optional.empty();
        String error = sourceUnusable.orElse(null);
        if (sourceUnusable.isEmpty()) {
            try {
                lsn = Optional.of(new ReplicationSetup(new PostgresConnector(config.source())).currentWalLsn());
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
        Optional<CommittedState> state = lake.committedState();
        return new Report(state, lsn, error, tables, rows, ReconnectingFile.read(config.lake().warehouse()), snapshotting(config, state));
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
        io.tributary.spi.SourceOffset offset = state.get().offset();
        java.util.Set<io.tributary.spi.TableId> running = new java.util.LinkedHashSet<>();
        try {
            Optional<List<io.tributary.spi.TableId>> captured = OffsetCodec.tables(offset);
            if (OffsetCodec.midSnapshot(offset)) {
                captured.ifPresent(running::addAll);
            }
            running.addAll(OffsetCodec.incrementalSnapshotTables(offset));
            captured.ifPresent(c -> config.source().tables().stream().filter(t -> !c.contains(t)).forEach(running::add));
        } catch (TributaryException e) {
            // An offset this version cannot read says nothing about snapshots; the rest of the status stands.
            return List.of();
        }
        return List.copyOf(running);
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
        print(report(config, sourceUnusable), json, spec.commandLine().getOut());
        return 0;
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
            r.sourceLsn().ifPresent(l -> root.put("sourceLsn", l.toString()));
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
            root.put("lagBytes", r.lagBytes());
            root.put("lagSeconds", r.lagSeconds());
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
        out.println("source:     " + r.sourceLsn().map(l -> "WAL at " + l + ", lag " + r.lagBytes() + " bytes, " + r.lagSeconds() + " s")
                .orElse("unreachable: " + r.sourceError()));
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
