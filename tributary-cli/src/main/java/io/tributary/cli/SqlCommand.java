package io.tributary.cli;

import io.tributary.config.PipelineConfig;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.nio.file.Files;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "sql", description = "Query the lake with DuckDB: every table is visible as <layer>.<table> (bronze, silver, gold).")
final class SqlCommand implements Callable<Integer> {
    @Mixin
    ConfigOption options;

    @Option(names = "--format", defaultValue = "table", description = "table, csv or json (default: ${DEFAULT-VALUE}).")
    String format;

    @Parameters(index = "0", description = "The SQL statement.")
    String sql;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        ResultPrinter.Format f;
        try {
            f = ResultPrinter.Format.valueOf(format.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot print results as '" + format + "': use table, csv or json");
        }
        PipelineConfig config = options.load();
        if (!Files.exists(config.lake().warehouse().resolve(LakeCatalog.CATALOG_FILE))) {
            throw new TributaryException(ErrorCode.TABLE_NOT_FOUND, "Cannot query the lake at " + config.lake().warehouse()
                    + ": it has no tables yet. Run 'tributary run -c " + options.config + "' first");
        }
        try (Lake lake = Lake.open(config.lake(), config.name(), config::optionsFor); QueryEngine engine = QueryEngine.open(lake.tables())) {
            ResultPrinter.print(engine.query(sql), f, spec.commandLine().getOut());
        }
        return 0;
    }
}
