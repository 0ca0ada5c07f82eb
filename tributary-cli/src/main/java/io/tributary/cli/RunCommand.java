package io.tributary.cli;

import io.tributary.config.PipelineConfig;
import io.tributary.pipeline.CapturePipeline;
import io.tributary.pipeline.Pipeline;
import io.tributary.spi.ChangeSource;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", description = "Replicate the source into the lake (or, with a sink, into Kafka) until SIGTERM/Ctrl-C (or, with --once, until caught up).")
final class RunCommand implements Callable<Integer> {
    @Mixin
    ConfigOption options;

    @Option(names = "--once", description = "Initial snapshot if needed, catch up to the source's current WAL position, commit, exit 0.")
    boolean once;

    @Option(names = "--full-refresh", description = "Rebuild every gold model in full at this run's first gold build, incremental models included.")
    boolean fullRefresh;

    @Override
    public Integer call() throws Exception {
        PipelineConfig config = options.load();
        if (!config.hasLake()) {
            if (fullRefresh) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "--full-refresh needs a lake; pipeline " + config.name()
                        + " captures to Kafka only");
            }
            try (AutoCloseable heap = HeapReport.startIfRequested(System.err);
                 CapturePipeline capture = new CapturePipeline(config); StopSignals signals = new StopSignals(capture::close)) {
                capture.run(once ? ChangeSource.RunMode.CATCH_UP : ChangeSource.RunMode.CONTINUOUS);
            }
            return 0;
        }
        try (AutoCloseable heap = HeapReport.startIfRequested(System.err);
             Pipeline pipeline = Pipeline.open(config); StopSignals signals = new StopSignals(pipeline::close)) {
            boolean ran = false;
            try {
                if (fullRefresh) {
                    pipeline.fullRefreshModels();
                }
                pipeline.run(once ? ChangeSource.RunMode.CATCH_UP : ChangeSource.RunMode.CONTINUOUS);
                ran = true;
            } finally {
                // Also after a failure: the catalog's connections and the storage clients are let go.
                try {
                    pipeline.lake().close();
                } catch (RuntimeException e) {
                    if (ran) {
                        throw e;
                    }
                    org.slf4j.LoggerFactory.getLogger(RunCommand.class).debug("Cannot close the lake after a failed run", e);
                }
            }
        }
        return 0;
    }
}
