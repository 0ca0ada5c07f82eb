package io.tributary.cli;

import io.tributary.config.PipelineConfig;
import io.tributary.models.GoldBuilder;
import io.tributary.pipeline.GoldRun;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "gold", description = "Build the gold models from the lake once (or, with --follow, after every commit the pipeline announces on "
        + "lake-commits), beside a pipeline that runs without models.")
final class GoldCommand implements Callable<Integer> {
    @Mixin
    ConfigOption options;

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--follow", description = "Keep running: build again after each bronze or silver commit announced on lake-commits, at most "
            + "once per models.interval, until SIGTERM/Ctrl-C.")
    boolean follow;

    @Option(names = "--full-refresh", description = "Rebuild every model in full at the first build, incremental models included.")
    boolean fullRefresh;

    @Override
    public Integer call() {
        PipelineConfig config = options.load();
        if (!config.hasLake()) {
            throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "pipeline " + config.name()
                    + " captures to Kafka only: gold needs the configuration of the pipeline that fills the lake");
        }
        GoldRun run = new GoldRun(config);
        if (fullRefresh) {
            run.fullRefresh();
        }
        if (follow) {
            try (StopSignals signals = new StopSignals(run::close)) {
                run.follow();
            }
            return 0;
        }
        GoldBuilder.Outcome outcome = run.buildOnce();
        spec.commandLine().getOut().println("Built " + outcome.built().size() + " gold table(s)" + (outcome.built().isEmpty() ? ""
                : ": " + String.join(", ", outcome.built())) + (outcome.waiting().isEmpty() ? "" : "; waiting for tables not in the lake: "
                + outcome.waiting()));
        return 0;
    }
}
