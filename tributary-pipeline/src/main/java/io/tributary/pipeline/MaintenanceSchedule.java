package io.tributary.pipeline;

import io.tributary.lake.maintenance.Maintenance;
import io.tributary.lake.maintenance.TableReport;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Runs table maintenance of a running pipeline every {@code maintenance.interval} on a thread of its
 * own ({@code tributary-maintenance}), so micro-batches go on committing meanwhile (their commits and
 * maintenance's are serialized by the catalog, each only for its metadata swap). {@code mayRun} is
 * asked before each table: false once the pipeline is stopping or no longer holds the lake's lease.
 * A failed run is logged and the next one tries again.
 */
final class MaintenanceSchedule implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MaintenanceSchedule.class);
    /** How long {@link #close()} waits for a table in progress. */
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);

    private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tributary-maintenance");
        t.setDaemon(true);
        return t;
    });
    private final Maintenance maintenance;
    private final String pipeline;
    private final BooleanSupplier mayRun;
    private volatile boolean stopping;
    private volatile int runs;

    private MaintenanceSchedule(Maintenance maintenance, String pipeline, BooleanSupplier mayRun) {
        this.maintenance = maintenance;
        this.pipeline = pipeline;
        this.mayRun = mayRun;
    }

    static MaintenanceSchedule start(Maintenance maintenance, String pipeline, Duration interval, BooleanSupplier mayRun) {
        MaintenanceSchedule schedule = new MaintenanceSchedule(maintenance, pipeline, mayRun);
        schedule.thread.scheduleWithFixedDelay(schedule::runOnce, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
        return schedule;
    }

    private void runOnce() {
        MDC.put("pipeline", pipeline);
        BooleanSupplier proceed = () -> !stopping && mayRun.getAsBoolean();
        if (!proceed.getAsBoolean()) {
            return;
        }
        long start = System.nanoTime();
        try {
            List<TableReport> reports = maintenance.run(Optional.empty(), Maintenance.Mode.APPLY, proceed);
            runs++;
            LOG.info("Maintained {} table(s) in {} ms: {} snapshot(s) expired, {} orphan file(s) removed, {} table(s) compacted", reports.size(),
                    (System.nanoTime() - start) / 1_000_000, reports.stream().mapToInt(TableReport::snapshotsExpired).sum(),
                    reports.stream().mapToInt(TableReport::orphansRemoved).sum(),
                    reports.stream().filter(r -> r.compaction() == io.tributary.lake.maintenance.CompactionOutcome.COMPACTED).count());
        } catch (RuntimeException e) {
            LOG.warn("Table maintenance failed: {}. Replication goes on; the next run tries again. If it keeps failing, run `tributary maintain --debug`",
                    e.getMessage(), e);
        } finally {
            MDC.remove("pipeline");
        }
    }

    /** Runs completed so far. */
    int runs() {
        return runs;
    }

    /** Stops the schedule, waiting up to a minute for the table in progress. */
    @Override
    public void close() {
        stopping = true;
        thread.shutdown();
        try {
            if (!thread.awaitTermination(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("Table maintenance did not stop within {} s; interrupting it. Files it wrote without committing are removed by a later run", STOP_TIMEOUT.toSeconds());
                thread.shutdownNow();
            }
        } catch (InterruptedException e) {
            thread.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
