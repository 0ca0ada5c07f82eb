package io.tributary.cli;

import io.tributary.config.PipelineConfig;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.maintenance.CompactionOutcome;
import io.tributary.lake.maintenance.Maintenance;
import io.tributary.lake.maintenance.TableReport;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Runs table maintenance once (compaction, snapshot expiry, orphan file removal) with the
 * {@code maintenance:} settings of the configuration, and prints per table what it did. Safe while
 * the pipeline runs on the same lake: conflicting commits are retried by maintenance.
 */
@Command(name = "maintain", description = "Compact small and delete files, expire old table snapshots and remove orphan files, once; prints per table what was done.")
final class MaintainCommand implements Callable<Integer> {
    @Mixin
    ConfigOption options;

    @Option(names = "--table", paramLabel = "<layer.name>", description = "Only this table, e.g. silver.orders.")
    String table;

    @Option(names = "--dry-run", description = "Report what would be done without changing the lake.")
    boolean dryRun;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        PipelineConfig config = options.load();
        Maintenance.Mode mode = dryRun ? Maintenance.Mode.DRY_RUN : Maintenance.Mode.APPLY;
        List<TableReport> reports;
        try (LakeCatalog catalog = LakeCatalog.open(config.lake())) {
            reports = new Maintenance(catalog, config.maintenance(), Clock.systemUTC()).run(Optional.ofNullable(table), mode, () -> true);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(String.format(Locale.ROOT, "%-32s %15s %15s  %-22s %18s %8s %8s", "table", "data files", "delete files",
                dryRun ? "compaction (dry run)" : "compaction", dryRun ? "snapshots to expire" : "snapshots expired", "orphans", "time"));
        for (TableReport r : reports) {
            out.println(String.format(Locale.ROOT, "%-32s %15s %15s  %-22s %18s %8d %7.1fs", r.table(),
                    r.dataFilesBefore() + " -> " + r.dataFilesAfter(), r.deleteFilesBefore() + " -> " + r.deleteFilesAfter(),
                    r.compaction().name().toLowerCase(Locale.ROOT).replace('_', ' '), r.snapshotsExpired() + " (" + r.snapshotsKept() + " kept)",
                    r.orphansRemoved(), r.took().toMillis() / 1000.0));
        }
        out.flush();
        List<TableReport> failed = reports.stream().filter(r -> r.compaction() == CompactionOutcome.FAILED).toList();
        if (!failed.isEmpty()) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot maintain " + failed.size() + " table(s): "
                    + String.join("; ", failed.stream().map(r -> r.table() + ": " + r.failure().orElse("")).toList()), null);
        }
        return 0;
    }
}
