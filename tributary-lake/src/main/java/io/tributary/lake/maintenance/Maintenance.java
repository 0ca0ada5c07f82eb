package io.tributary.lake.maintenance;

import static java.util.Objects.requireNonNull;

import io.tributary.config.MaintenanceConfig;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.commit.StateTable;
import io.tributary.lake.layout.Layer;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Table maintenance of a lake, table by table: compaction of bronze and silver tables (the
 * {@code _history} tables included; gold tables are rewritten whole by their rebuilds), then expiry
 * of old table snapshots and removal of orphan files in every table, the state table included. See
 * {@link MaintenanceConfig} for the settings.
 *
 * <p>Runs beside a writer, in the same process or another: its commits carry
 * {@value #MAINTENANCE} and never {@link SnapshotPositions#POSITION}, so positions are read past
 * them; a compaction that meets a conflicting commit is re-planned and retried, never the writer's
 * commit (a writer's row delta or append is re-applied on top of a maintenance commit by Iceberg's
 * own commit retry). A table whose maintenance fails is reported and the run goes on with the next.
 * Not thread-safe: one run at a time per instance.
 */
public final class Maintenance {
    private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);
    /** Snapshot summary key of maintenance commits; its value says which ({@code compaction}). */
    public static final String MAINTENANCE = "tributary.maintenance";

    /** Whether a run changes the lake or only reports what it would do. */
    public enum Mode { APPLY, DRY_RUN }

    private final LakeCatalog catalog;
    private final Compaction compaction;
    private final SnapshotExpiry expiry;
    private final OrphanFiles orphans;
    private final Clock clock;

    public Maintenance(LakeCatalog catalog, MaintenanceConfig config, Clock clock) {
        this.catalog = requireNonNull(catalog, "catalog is null");
        this.clock = requireNonNull(clock, "clock is null");
        requireNonNull(config, "config is null");
        this.compaction = new Compaction(catalog, config);
        this.expiry = new SnapshotExpiry(catalog, config, clock);
        this.orphans = new OrphanFiles(config, clock);
    }

    /** Every table maintenance covers: the tables of each layer, then the state table. */
    public List<TableIdentifier> tables() {
        List<TableIdentifier> out = new ArrayList<>();
        for (Layer layer : Layer.values()) {
            out.addAll(catalog.tables(layer.namespace()));
        }
        if (catalog.load(StateTable.ID).isPresent()) {
            out.add(StateTable.ID);
        }
        return out;
    }

    /**
     * Maintains {@code table} ({@code layer.name}, e.g. {@code silver.orders} or {@code tributary.state}),
     * or every table when empty. {@code proceed} is asked before each table; once it says no, the run
     * stops (a pipeline that is stopping or lost its lease).
     *
     * @throws TributaryException INVALID_CONFIG when the named table does not exist in the lake
     */
    public List<TableReport> run(Optional<String> table, Mode mode, BooleanSupplier proceed) {
        List<TableIdentifier> ids;
        if (table.isPresent()) {
            TableIdentifier id = TableIdentifier.parse(table.get());
            if (catalog.load(id).isEmpty()) {
                throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot maintain table " + table.get() + ": it does not exist in the lake in "
                        + catalog.warehouse() + "; name it as layer.name, e.g. silver.orders", null);
            }
            ids = List.of(id);
        } else {
            ids = tables();
        }
        List<TableReport> reports = new ArrayList<>();
        for (TableIdentifier id : ids) {
            if (!proceed.getAsBoolean()) {
                LOG.info("Maintenance stopped before {}", id);
                break;
            }
            reports.add(maintain(id, mode));
        }
        return reports;
    }

    /** Compacts (bronze and silver only), expires snapshots of and removes orphan files of one table. */
    public TableReport maintain(TableIdentifier id, Mode mode) {
        Instant start = clock.instant();
        MDC.put("table", id.name());
        MDC.put("layer", id.namespace().toString());
        try {
            Table table = catalog.load(id).orElseThrow(() -> new TributaryException(ErrorCode.INVALID_CONFIG,
                    "Cannot maintain table " + id + ": it does not exist in the lake in " + catalog.warehouse(), null));
            boolean compacted = id.namespace().toString().equals(Layer.BRONZE.namespace()) || id.namespace().toString().equals(Layer.SILVER.namespace());
            Compaction.Result c;
            if (EqualityDeleteConversion.needed(table)) {
                Compaction.Counts before = Compaction.Counts.of(table);
                Compaction.Counts after = before;
                CompactionOutcome outcome = CompactionOutcome.WOULD_CONVERT;
                if (mode == Mode.APPLY) {
                    new EqualityDeleteConversion(catalog).convert(id, table);
                    after = Compaction.Counts.of(table);
                    outcome = CompactionOutcome.CONVERTED;
                }
                c = new Compaction.Result(outcome, before.dataFiles(), after.dataFiles(), before.deleteFiles(), after.deleteFiles());
            } else if (compacted) {
                c = compaction.compact(id, table, mode);
            } else {
                table.refresh();
                Compaction.Counts counts = Compaction.Counts.of(table);
                c = new Compaction.Result(CompactionOutcome.NOT_NEEDED, counts.dataFiles(), counts.dataFiles(), counts.deleteFiles(), counts.deleteFiles());
            }
            SnapshotExpiry.Result e = expiry.expire(id, table, mode, consistentPosition());
            int removed = orphans.remove(id, table, mode);
            return new TableReport(id.toString(), c.dataFilesBefore(), c.dataFilesAfter(), c.deleteFilesBefore(), c.deleteFilesAfter(), c.outcome(),
                    e.expired(), e.kept(), removed, Duration.between(start, clock.instant()), Optional.empty());
        } catch (RuntimeException e) {
            if (e instanceof TributaryException t && t.errorCode() == ErrorCode.INVALID_CONFIG) {
                throw e;
            }
            LOG.warn("Cannot maintain {}: {}. The table is unchanged or compacted consistently; the next maintenance run tries again. "
                    + "If it keeps failing, run `tributary maintain --table {} --debug`", id, e.getMessage(), id, e);
            return new TableReport(id.toString(), 0, 0, 0, 0, CompactionOutcome.FAILED, 0, 0, 0, Duration.between(start, clock.instant()),
                    Optional.of(String.valueOf(e.getMessage())));
        } finally {
            MDC.remove("table");
            MDC.remove("layer");
        }
    }

    /** The watermark consistent reads use, from the state table as the catalog holds it now. */
    private Optional<SourcePosition> consistentPosition() {
        Map<String, String> summary = catalog.currentSummary(StateTable.ID);
        String encoded = summary.getOrDefault(StateTable.CONSISTENT_POSITION, summary.get(SnapshotPositions.POSITION));
        return encoded == null ? Optional.empty() : Optional.of(SourcePosition.decode(encoded));
    }
}
