package io.tributary.lake.maintenance;

import io.tributary.config.MaintenanceConfig;
import io.tributary.lake.catalog.LocalFiles;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.ManifestContent;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.StatisticsFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes files under a table's {@code data/} and {@code metadata/} folders that nothing references
 * and that are older than {@code orphan-age}: not the current metadata file nor one in its metadata
 * log, not a manifest list, manifest, data or delete file of any remaining snapshot, not a statistics
 * file (Iceberg spec, "Table Metadata" and "Manifests"). Such files are left by writes that failed
 * before their commit. A writer writes its files before it commits them, so the age keeps a commit
 * in progress (here or in another process) safe. Only Parquet, Avro, metadata JSON and Puffin files
 * are considered, and the temporary files of local writes that never finished ({@code LocalFileIO}).
 */
final class OrphanFiles {
    private static final Logger LOG = LoggerFactory.getLogger(OrphanFiles.class);
    private static final List<String> KINDS = List.of(".parquet", ".avro", ".metadata.json", ".puffin", ".stats", ".tmp");

    private final MaintenanceConfig config;
    private final Clock clock;

    OrphanFiles(MaintenanceConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
    }

    /** Returns the number of orphan files removed (in a dry run: found). */
    int remove(TableIdentifier id, Table table, Maintenance.Mode mode) {
        Instant cutoff = clock.instant().minus(config.orphanAge());
        table.refresh();
        if (!(table.io() instanceof SupportsPrefixOperations listing)) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot look for orphan files of " + id + ": its storage (" + table.io().getClass().getSimpleName()
                    + ") cannot list files by prefix");
        }
        Set<String> referenced = referenced(table);
        List<String> orphans = new ArrayList<>();
        for (String folder : List.of("data", "metadata")) {
            String prefix = table.location().replaceAll("/+$", "") + "/" + folder + "/";
            for (FileInfo file : list(id, listing, prefix)) {
                String name = file.location().substring(file.location().lastIndexOf('/') + 1);
                if (KINDS.stream().anyMatch(name::endsWith) && !referenced.contains(canonical(file.location()))
                        && Instant.ofEpochMilli(file.createdAtMillis()).isBefore(cutoff)) {
                    orphans.add(file.location());
                }
            }
        }
        if (mode == Maintenance.Mode.DRY_RUN) {
            return orphans.size();
        }
        int removed = 0;
        for (String location : orphans) {
            try {
                table.io().deleteFile(location);
                removed++;
            } catch (RuntimeException e) {
                LOG.warn("Cannot remove orphan file {} of {}: {}. Check the warehouse's permissions", location, id, e.getMessage());
            }
        }
        if (removed > 0) {
            LOG.info("Removed {} orphan file(s) of {} older than {}", removed, id, cutoff);
        }
        return removed;
    }

    /**
     * The files under {@code prefix}, through the table's {@code FileIO}
     * ({@link SupportsPrefixOperations}), on object storage and local disk alike. A folder that does
     * not exist holds none; a listing that fails because a file went away while it was read (a
     * writer removing old metadata files after its commit, a concurrent maintenance run) is taken again.
     */
    private static List<FileInfo> list(TableIdentifier id, SupportsPrefixOperations listing, String prefix) {
        for (int attempt = 1; ; attempt++) {
            try {
                List<FileInfo> out = new ArrayList<>();
                listing.listPrefix(prefix).forEach(out::add);
                return out;
            } catch (RuntimeException e) {
                if (notFound(e) && attempt < 3) {
                    continue;
                }
                if (notFound(e)) {
                    return List.of();
                }
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot list the files of " + id + " under " + prefix + ": " + e.getMessage(), e);
            }
        }
    }

    private static boolean notFound(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.FileNotFoundException || t instanceof java.nio.file.NoSuchFileException
                    || t instanceof org.apache.iceberg.exceptions.NotFoundException) {
                return true;
            }
        }
        return false;
    }

    /** One spelling per file: a local location without its {@code file:} scheme ({@code file:/a}, {@code file:///a} and {@code /a} alike). */
    static String canonical(String location) {
        return LocalFiles.isLocal(location) ? LocalFiles.path(location).toString() : location;
    }

    private static Set<String> referenced(Table table) {
        TableMetadata metadata = ((HasTableOperations) table).operations().current();
        Set<String> out = new HashSet<>();
        out.add(canonical(metadata.metadataFileLocation()));
        metadata.previousFiles().forEach(e -> out.add(canonical(e.file())));
        for (StatisticsFile s : metadata.statisticsFiles()) {
            out.add(canonical(s.path()));
        }
        metadata.partitionStatisticsFiles().forEach(s -> out.add(canonical(s.path())));
        Set<String> manifests = new HashSet<>();
        for (Snapshot s : metadata.snapshots()) {
            if (s.manifestListLocation() != null) {
                out.add(canonical(s.manifestListLocation()));
            }
            for (ManifestFile m : s.allManifests(table.io())) {
                if (!manifests.add(m.path())) {
                    continue;
                }
                out.add(canonical(m.path()));
                try (CloseableIterable<? extends ContentFile<?>> files = m.content() == ManifestContent.DELETES
                        ? ManifestFiles.readDeleteManifest(m, table.io(), table.specs()) : ManifestFiles.read(m, table.io(), table.specs())) {
                    files.forEach(f -> out.add(canonical(f.location())));
                } catch (IOException e) {
                    throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read manifest " + m.path() + " of " + table.name() + ": " + e.getMessage(), e);
                }
            }
        }
        return out;
    }
}
