package io.tributary.cli;

import io.tributary.config.PipelineConfig;
import io.tributary.lake.Lake;
import io.tributary.pipeline.Sources;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * The way out of a slot gap: makes the next {@code run} take a new initial snapshot of every table
 * (from a new replication slot) that replaces silver, instead of resuming from a slot that lost
 * changes. Bronze keeps its history and appends the new snapshot's reads.
 */
@Command(name = "resnapshot", description = "Make the next run take a new initial snapshot that replaces silver (after a replication slot gap).")
final class ResnapshotCommand implements Callable<Integer> {
    @Mixin
    ConfigOption options;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PipelineConfig config = options.load();
        // A running pipeline would record its own position over the request at its next commit.
        try {
            Sources.requireNotCapturing(config);
        } catch (TributaryException e) {
            if (e.errorCode() != ErrorCode.PIPELINE_FENCED) {
                throw e;
            }
            throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Cannot request a new initial snapshot for pipeline " + config.name()
                    + ": " + e.getMessage() + ", then run resnapshot again", e);
        }
        try (Lake lake = Lake.open(config.lake(), config.name(), config::optionsFor)) {
            boolean recorded = lake.requestInitialSnapshot();
            spec.commandLine().getOut().println(recorded
                    ? "The next run of pipeline " + config.name() + " takes a new initial snapshot of every table"
                            + " (PostgreSQL: from a new replication slot); it replaces silver, bronze keeps its history"
                    : "Nothing committed yet: the next run of pipeline " + config.name() + " takes an initial snapshot anyway");
            spec.commandLine().getOut().flush();
        }
        return 0;
    }
}
