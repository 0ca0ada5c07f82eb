package io.tributary.lake.maintenance;

import io.tributary.config.MaintenanceConfig;
import io.tributary.lake.catalog.LocalFiles;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes files under a table's {@code data/} and {@code metadata/} folders that nothing references
 * and that are older than {@code orphan-age}: not the current metadata file nor one in its metadata
 * log, not a manifest list, manifest, data or delete file of any remaining snapshot, not a statistics
 * file (Iceberg spec, "Table Metadata" and "Manifests"). Such files are left by writes that failed
 * before their commit. A writer writes its files before it commits them, so the age keeps a commit
 * in progress (here or in another process) safe. Only Parquet, Avro, metadata JSON and Puffin files
 * are considered.
 */
final class OrphanFiles {
    private static final Logger LOG = LoggerFactory.getLogger(OrphanFiles.class);
    private static final List<String> KINDS = List.of(".parquet", ".avro", ".metadata.json", ".puffin", ".stats");

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
        Set<Path> referenced = referenced(table);
        Path location = LocalFiles.path(table.location());
        List<Path> orphans = new ArrayList<>();
        for (String folder : List.of("data", "metadata")) {
            Path dir = location.resolve(folder);
            if (!Files.isDirectory(dir)) {
                continue;
            }
            try {
                for (Path p : regularFiles(dir)) {
                    if (KINDS.stream().anyMatch(k -> p.getFileName().toString().endsWith(k)) && !referenced.contains(p.toAbsolutePath().normalize())
                            && modified(p).isBefore(cutoff)) {
                        orphans.add(p);
                    }
                }
            } catch (IOException | UncheckedIOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot list the files of " + id + " under " + dir + ": " + e.getMessage(), e);
            }
        }
        if (mode == Maintenance.Mode.DRY_RUN) {
            return orphans.size();
        }
        int removed = 0;
        for (Path p : orphans) {
            try {
                if (Files.deleteIfExists(p)) {
                    removed++;
                }
            } catch (IOException e) {
                LOG.warn("Cannot remove orphan file {} of {}: {}. Check the warehouse's file permissions", p, id, e.getMessage());
            }
        }
        if (removed > 0) {
            LOG.info("Removed {} orphan file(s) of {} older than {}", removed, id, cutoff);
        }
        return removed;
    }

    private static Set<Path> referenced(Table table) {
        TableMetadata metadata = ((HasTableOperations) table).operations().current();
        Set<Path> out = new HashSet<>();
        out.add(LocalFiles.path(metadata.metadataFileLocation()));
        metadata.previousFiles().forEach(e -> out.add(LocalFiles.path(e.file())));
        for (StatisticsFile s : metadata.statisticsFiles()) {
            out.add(LocalFiles.path(s.path()));
        }
        metadata.partitionStatisticsFiles().forEach(s -> out.add(LocalFiles.path(s.path())));
        Set<String> manifests = new HashSet<>();
        for (Snapshot s : metadata.snapshots()) {
            if (s.manifestListLocation() != null) {
                out.add(LocalFiles.path(s.manifestListLocation()));
            }
            for (ManifestFile m : s.allManifests(table.io())) {
                if (!manifests.add(m.path())) {
                    continue;
                }
                out.add(LocalFiles.path(m.path()));
                try (CloseableIterable<? extends ContentFile<?>> files = m.content() == ManifestContent.DELETES
                        ? ManifestFiles.readDeleteManifest(m, table.io(), table.specs()) : ManifestFiles.read(m, table.io(), table.specs())) {
                    files.forEach(f -> out.add(LocalFiles.path(f.path().toString())));
                } catch (IOException e) {
                    throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read manifest " + m.path() + " of " + table.name() + ": " + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    /**
     * The regular files under {@code dir}. A file deleted while the folder is read (a writer
     * removing old metadata files after its commit, a concurrent maintenance run) is left out
     * instead of failing the listing.
     */
    private static List<Path> regularFiles(Path dir) throws IOException {
        List<Path> out = new ArrayList<>();
        Files.walkFileTree(dir, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attrs) {
                if (attrs.isRegularFile()) {
                    out.add(file);
                }
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof java.nio.file.NoSuchFileException) {
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
        return out;
    }

    private static Instant modified(Path p) {
        try {
            return Files.getLastModifiedTime(p).toInstant();
        } catch (IOException e) {
            // Gone meanwhile (expired by a concurrent run): not an orphan to remove.
            return Instant.MAX;
        }
    }
}
