package io.tributary.lake.maintenance;

import io.tributary.config.MaintenanceConfig;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.spi.SourcePosition;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Expires old table snapshots with Iceberg's {@code ExpireSnapshots}, which deletes the files only
 * expired snapshots referenced. Kept besides the newest {@code min-snapshots} and those younger than
 * {@code snapshot-retention}: the current snapshot and its newest ancestor stamped with
 * {@link SnapshotPositions#POSITION} (where a writer resumes), and the newest snapshot whose
 * effective position is at or below the lake's consistent watermark with its stamped ancestor (what
 * a transaction-consistent read uses), with every snapshot in between, so the parent chain a position
 * is found by stays whole. Iceberg keeps every ancestor of the current snapshot that is not older than
 * the expiry cut-off, so the cut-off is moved back to the oldest snapshot that must stay; commits
 * landing meanwhile are newer and so kept too.
 */
final class SnapshotExpiry {
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotExpiry.class);
    private static final int ATTEMPTS = 4;

    private final LakeCatalog catalog;
    private final MaintenanceConfig config;
    private final Clock clock;

    SnapshotExpiry(LakeCatalog catalog, MaintenanceConfig config, Clock clock) {
        this.catalog = catalog;
        this.config = config;
        this.clock = clock;
    }

    record Result(int expired, int kept) {
    }

    Result expire(TableIdentifier id, Table table, Maintenance.Mode mode, Optional<SourcePosition> consistent) {
        table.refresh();
        List<Snapshot> chain = chain(table);
        int before = size(table);
        if (chain.isEmpty()) {
            return new Result(0, before);
        }
        int needed = needed(chain, consistent);
        int retainLast = Math.max(config.minSnapshots(), needed);
        long olderThan = Math.min(clock.millis() - config.snapshotRetention().toMillis(), chain.get(needed - 1).timestampMillis());
        if (mode == Maintenance.Mode.DRY_RUN) {
            int kept = 0;
            for (Snapshot s : chain) {
                if (kept < retainLast || s.timestampMillis() >= olderThan) {
                    kept++;
                } else {
                    break;
                }
            }
            java.util.Set<Long> onChain = new java.util.HashSet<>();
            chain.forEach(s -> onChain.add(s.snapshotId()));
            long otherKept = 0;
            for (Snapshot s : table.snapshots()) {
                if (!onChain.contains(s.snapshotId()) && s.timestampMillis() >= olderThan) {
                    otherKept++;
                }
            }
            return new Result(before - kept - (int) otherKept, kept + (int) otherKept);
        }
        // Iceberg collects the files only expired snapshots referenced during the commit; they are
        // deleted after it, so a writer waiting for the catalog's commit lock is not held up meanwhile.
        List<String> unreferenced = new ArrayList<>();
        for (int attempt = 1; ; attempt++) {
            try {
                catalog.commit(table.expireSnapshots().expireOlderThan(olderThan).retainLast(retainLast).cleanExpiredFiles(true)
                        .deleteWith(unreferenced::add));
                break;
            } catch (CommitFailedException | IllegalArgumentException e) {
                // Iceberg 1.6's own retry of an expiry keeps the snapshot ids of its first attempt: when another
                // process expired some of them meanwhile, it fails ("arraySize cannot be negative") before
                // committing. A fresh expiry on the refreshed table is safe.
                unreferenced.clear();
                if (attempt == ATTEMPTS) {
                    LOG.warn("Cannot expire snapshots of {}: {}. Nothing was expired; the next maintenance run tries again", id, e.getMessage());
                    return new Result(0, before);
                }
                table.refresh();
            }
        }
        for (String file : unreferenced) {
            try {
                // Through the table's FileIO: the same on a local warehouse and on object storage.
                table.io().deleteFile(file);
            } catch (RuntimeException e) {
                LOG.warn("Cannot delete {} of an expired snapshot of {}: {}. The orphan file removal deletes it later", file, id, e.getMessage());
            }
        }
        table.refresh();
        int after = size(table);
        if (before > after) {
            LOG.info("Expired {} snapshot(s) of {}, kept {} (the newest {} at least, and those committed since {})", before - after, id, after,
                    retainLast, java.time.Instant.ofEpochMilli(olderThan));
        }
        return new Result(Math.max(0, before - after), after);
    }

    /**
     * How many of the newest snapshots of {@code chain} (the current snapshot first, then its
     * ancestors) must stay: through the stamped ancestor of the current snapshot, and through the
     * stamped ancestor of the newest snapshot at or below {@code consistent}.
     */
    static int needed(List<Snapshot> chain, Optional<SourcePosition> consistent) {
        int needed = 1;
        int firstStamped = -1;
        for (int i = 0; i < chain.size(); i++) {
            if (position(chain.get(i)).isPresent()) {
                firstStamped = i;
                break;
            }
        }
        if (firstStamped >= 0) {
            needed = firstStamped + 1;
        }
        if (consistent.isPresent()) {
            // The effective position of a snapshot is that of its newest stamped ancestor (itself if stamped).
            for (int i = 0; i < chain.size(); i++) {
                Optional<SourcePosition> p = position(chain.get(i));
                if (p.isPresent() && !p.get().isAfter(consistent.get())) {
                    needed = Math.max(needed, i + 1);
                    break;
                }
            }
        }
        return needed;
    }

    static List<Snapshot> chain(Table table) {
        List<Snapshot> out = new ArrayList<>();
        for (Snapshot s = table.currentSnapshot(); s != null; s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
            out.add(s);
        }
        return out;
    }

    private static Optional<SourcePosition> position(Snapshot s) {
        String p = s.summary().get(SnapshotPositions.POSITION);
        return p == null ? Optional.empty() : Optional.of(SourcePosition.decode(p));
    }

    private static int size(Table table) {
        int n = 0;
        for (Snapshot ignored : table.snapshots()) {
            n++;
        }
        return n;
    }
}
