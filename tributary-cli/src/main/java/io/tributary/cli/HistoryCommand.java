package io.tributary.cli;

import io.tributary.config.PipelineConfig;
import io.tributary.lake.Lake;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeTable;
import io.tributary.lake.scan.LakeView;
import io.tributary.lake.scan.TableKeys;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "history", description = {"Print every version of one row of a silver table, oldest first (by _valid_from, then _position), "
        + "from its history table silver.<table>_history, read at the lake's transaction-consistent position.",
        "Example: tributary history -c pipeline.yaml orders --key 42"})
final class HistoryCommand implements Callable<Integer> {
    private static final String HISTORY = "_history";
    /** What {@code --key <name>=…} must look like to be read as a column name rather than a value. */
    private static final java.util.regex.Pattern COLUMN_NAME = java.util.regex.Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    @Mixin
    ConfigOption options;

    @Option(names = "--format", defaultValue = "table", description = "table, csv or json (default: ${DEFAULT-VALUE}).")
    String format;

    @Option(names = "--key", required = true, paramLabel = "<value>",
            description = "A value of the row's primary key, or column=value; repeat it for each key column (plain values in the order of the table's columns; "
                    + "a value that itself looks like name=... is given as column=value).")
    List<String> key;

    @Parameters(index = "0", paramLabel = "<table>", description = "The silver table, e.g. orders or silver.orders.")
    String table;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        ResultPrinter.Format f = ResultPrinter.format(format);
        PipelineConfig config = options.loadWrittenLake("Cannot show the history of '" + table + "'");
        String name = table.startsWith(Layer.SILVER.namespace() + ".") ? table.substring(Layer.SILVER.namespace().length() + 1) : table;
        try (Lake lake = Lake.open(config.lake(), config.name(), config::optionsFor)) {
            LakeView view = lake.consistentView();
            List<String> known = view.tables().stream().filter(t -> t.layer() == Layer.SILVER && !t.name().endsWith(HISTORY)).map(LakeTable::name)
                    .sorted().toList();
            if (!known.contains(name)) {
                throw new TributaryException(ErrorCode.TABLE_NOT_FOUND, "Cannot show the history of '" + table + "': there is no table silver." + name
                        + ". Known tables: " + (known.isEmpty() ? "none" : String.join(", ", known)));
            }
            Optional<LakeTable> history = view.tables().stream().filter(t -> t.layer() == Layer.SILVER && t.name().equals(name + HISTORY)).findFirst();
            if (history.isEmpty()) {
                throw new TributaryException(ErrorCode.TABLE_NOT_FOUND, "Cannot show the history of silver." + name + ": it has no history table silver."
                        + name + HISTORY + " (is history disabled for it?)");
            }
            List<String> keyColumns = lake.load(Layer.SILVER, name).map(TableKeys::primaryKey).orElse(List.of());
            if (keyColumns.isEmpty()) {
                throw new TributaryException(ErrorCode.NO_PRIMARY_KEY, "Cannot show the history of one row of silver." + name
                        + ": the table has no primary key. Query silver." + name + HISTORY + " with 'tributary sql' instead");
            }
            List<String> values = keyValues(name, keyColumns);
            if (keyColumns.size() != values.size()) {
                throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot show the history of silver." + name + ": its primary key is ("
                        + String.join(", ", keyColumns) + "), " + keyColumns.size() + (keyColumns.size() == 1 ? " value" : " values") + " with --key, got "
                        + values.size());
            }
            try (QueryEngine engine = QueryEngine.open(view.tables())) {
                ResultPrinter.print(engine.versions(history.get(), keyColumns, values), f, spec.commandLine().getOut());
            }
        }
        return 0;
    }

    /**
     * The key values in the order of {@code keyColumns}: given as {@code column=value} for every key
     * column in any order, or as plain values in the order of the table's columns.
     */
    private List<String> keyValues(String name, List<String> keyColumns) {
        java.util.Map<String, String> named = new java.util.LinkedHashMap<>();
        for (String k : key) {
            int eq = k.indexOf('=');
            if (eq > 0 && !keyColumns.contains(k.substring(0, eq)) && COLUMN_NAME.matcher(k.substring(0, eq)).matches()) {
                // A misspelled key column, not a value: a value holding '=' after such a name is given named.
                throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot show the history of silver." + name + ": --key " + k.substring(0, eq)
                        + "=… names no key column; its primary key is (" + String.join(", ", keyColumns) + "). Give --key <column>=<value> for each of "
                        + "them, or plain values in that order");
            }
            if (eq > 0 && keyColumns.contains(k.substring(0, eq))) {
                if (named.put(k.substring(0, eq), k.substring(eq + 1)) != null) {
                    throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot show the history of silver." + name + ": --key " + k.substring(0, eq)
                            + "=… is given twice");
                }
            }
        }
        if (named.isEmpty()) {
            return key;
        }
        if (named.size() != key.size() || named.size() != keyColumns.size()) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot show the history of silver." + name + ": give every key column ("
                    + String.join(", ", keyColumns) + ") as column=value, or only plain values in that order; got " + String.join(", ", key));
        }
        return keyColumns.stream().map(named::get).toList();
    }
}
