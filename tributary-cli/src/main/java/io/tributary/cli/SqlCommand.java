package io.tributary.cli;

import io.tributary.config.PipelineConfig;
import io.tributary.lake.Lake;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeView;
import io.tributary.models.Model;
import io.tributary.models.ModelGraph;
import io.tributary.query.QueryEngine;
import io.tributary.spi.TributaryException;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "sql", description = {"Query the lake with DuckDB: every table is visible as <layer>.<table> (bronze, silver, gold), "
        + "all read at the lake's transaction-consistent position.",
        "silver.<t>_history holds every version of the rows of silver.<t>; silver.<t>_as_of(ts) returns them as of an instant."})
final class SqlCommand implements Callable<Integer> {
    @Mixin
    ConfigOption options;

    @Option(names = "--format", defaultValue = "table", description = "table, csv or json (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--as-of", paramLabel = "<instant>", converter = InstantArgument.class,
            description = "Answer as the source stood at this instant (ISO-8601, e.g. 2026-11-22T10:15:00Z): silver.<t> from its history table, "
                    + "silver.<t>_history as known then, bronze.<t> up to it, gold models evaluated over those.")
    Instant asOf;

    @Parameters(index = "0", description = "The SQL statement.")
    String sql;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        ResultPrinter.Format f = ResultPrinter.format(format);
        PipelineConfig config = options.loadWrittenLake("Cannot query the lake");
        try (Lake lake = Lake.open(config.lake(), config.name(), config::optionsFor)) {
            LakeView view = lake.consistentView();
            try (QueryEngine engine = asOf == null ? QueryEngine.open(view.tables()) : openAsOf(view, config)) {
                ResultPrinter.print(engine.query(sql), f, spec.commandLine().getOut());
            }
        }
        return 0;
    }

    /**
     * The bronze and silver tables a query names, directly or through the gold models it reads (an
     * as-of query evaluates those from their files), as {@code <layer>.<table>}.
     */
    static Set<String> lakeTablesRead(String sql, List<Model> models) {
        Set<String> tables = new TreeSet<>(ModelGraph.lakeReferences(sql));
        Map<String, Model> byName = new HashMap<>();
        models.forEach(m -> byName.put(m.name(), m));
        Deque<String> gold = new ArrayDeque<>(ModelGraph.goldReferences(sql));
        Set<String> seen = new HashSet<>();
        while (!gold.isEmpty()) {
            Model model = byName.get(gold.pop());
            if (model != null && seen.add(model.name())) {
                tables.addAll(model.lakeReferences());
                gold.addAll(model.dependencies());
            }
        }
        return tables;
    }

    /** An engine as of {@link #asOf}, with the gold models evaluated as views in dependency order. */
    private QueryEngine openAsOf(LakeView view, PipelineConfig config) {
        QueryEngine engine = QueryEngine.openAsOf(view.tables(), asOf);
        try {
            engine.latestCommitTime().filter(asOf::isAfter).ifPresent(latest -> spec.commandLine().getErr().println("note: the lake holds the source's "
                    + "changes committed up to " + latest + " (its consistent position " + view.consistent().map(Object::toString).orElse("-")
                    + "): the answer is as of " + latest));
            List<Model> models = config.models().directory().map(ModelGraph::load).orElse(List.of());
            for (String table : lakeTablesRead(sql, models)) {
                engine.firstCommitTime(table).filter(asOf::isBefore).ifPresent(first -> spec.commandLine().getErr().println("note: the lake's history of "
                        + table + " starts at " + first + " (the first change or initial snapshot read it holds): as of " + asOf
                        + " the answer holds none of its rows"));
            }
            for (Model model : models) {
                try {
                    engine.defineView(Layer.GOLD, model.name(), model.sql());
                } catch (TributaryException e) {
                    // One broken model must not fail queries that do not read it.
                    engine.defineUnreadable(Layer.GOLD, model.name(), "Cannot evaluate gold." + model.name() + " as of " + asOf + " from "
                            + model.file() + ": " + e.getMessage());
                }
            }
            return engine;
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
    }
}
