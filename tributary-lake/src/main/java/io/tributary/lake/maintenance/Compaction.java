package io.tributary.lake.maintenance;

import io.tributary.config.MaintenanceConfig;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.LargeValueMetrics;
import io.tributary.lake.catalog.LocalFiles;
import io.tributary.lake.scan.LiveFiles;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.ManifestFiles;
import org.apache.iceberg.ManifestReader;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compacts one table: rewrites the live rows of its small data files, and of the data files that
 * position delete files apply to, into files of the target size, and drops the delete files no
 * other data file needs. A partitioned table is compacted per partition. Committed as an Iceberg
 * {@link RewriteFiles} validated from the snapshot the rows were read at: a writer's position
 * deletes committed meanwhile against a rewritten file, or a truncate replacing the same files,
 * fail it (Iceberg's validation of new deletes for replaced data files); the attempt's files are
 * deleted and the table re-planned, a bounded number of times, so the writer's commit is never the
 * one that fails. With an unknown commit state nothing is deleted. Writers locate rows through key
 * indexes stamped with the table's snapshot, so a compaction makes them build those again.
 *
 * <p>Bronze data files holding initial snapshot reads ({@code _op = 'r'}) are never rewritten: a
 * restarted initial snapshot removes the abandoned attempt's reads with a row filter that Iceberg
 * applies to whole files only.
 *
 * <p>Which rows are live is {@link LiveFiles}'s rule: each position delete file is read once into
 * a bitmap per data file, and the copy skips the positions it names.
 */
final class Compaction {
    private static final Logger LOG = LoggerFactory.getLogger(Compaction.class);
    static final int ATTEMPTS = 4;
    private static final int LENGTH_CHECK_EVERY = 1000;

    private final LakeCatalog catalog;
    private final MaintenanceConfig config;
    private volatile Runnable beforeCommit = () -> { };

    Compaction(LakeCatalog catalog, MaintenanceConfig config) {
        this.catalog = catalog;
        this.config = config;
    }

    /** Live data and delete files of a snapshot, and what compaction did. */
    /** For tests: runs after the new files are written and before the commit, where a concurrent writer's commit may land. */
    void beforeCommit(Runnable hook) {
        this.beforeCommit = hook;
    }

    record Result(CompactionOutcome outcome, int dataFilesBefore, int dataFilesAfter, int deleteFilesBefore, int deleteFilesAfter) {
    }

    Result compact(TableIdentifier id, Table table, Maintenance.Mode mode) {
        for (int attempt = 1; ; attempt++) {
            table.refresh();
            Plan plan = plan(id, table);
            if (plan.groups().isEmpty()) {
                return new Result(CompactionOutcome.NOT_NEEDED, plan.dataFiles(), plan.dataFiles(), plan.deleteFiles(), plan.deleteFiles());
            }
            if (mode == Maintenance.Mode.DRY_RUN) {
                return new Result(CompactionOutcome.WOULD_COMPACT, plan.dataFiles(), plan.dataFiles(), plan.deleteFiles(), plan.deleteFiles());
            }
            List<DataFile> written = new ArrayList<>();
            try {
                RewriteFiles rewrite = table.newRewrite()
                        .validateFromSnapshot(plan.start().snapshotId())
                        .set(Maintenance.MAINTENANCE, "compaction");
                rewrite(table, plan, written);
                for (Group g : plan.groups()) {
                    g.tasks().forEach(t -> rewrite.deleteFile(t.file()));
                }
                plan.removableDeletes().forEach(rewrite::deleteFile);
                written.forEach(rewrite::addFile);
                beforeCommit.run();
                catalog.commit(rewrite);
                Counts after = Counts.of(table);
                LOG.info("Compacted {}: {} data file(s) and {} delete file(s) before, {} and {} after (rewrote {} data file(s) into {}, "
                        + "read at snapshot {})", id, plan.dataFiles(), plan.deleteFiles(), after.dataFiles(), after.deleteFiles(),
                        plan.groups().stream().mapToInt(g -> g.tasks().size()).sum(), written.size(), plan.start().snapshotId());
                return new Result(CompactionOutcome.COMPACTED, plan.dataFiles(), after.dataFiles(), plan.deleteFiles(), after.deleteFiles());
            } catch (CommitStateUnknownException e) {
                LOG.warn("Cannot confirm the compaction commit of {}: the catalog did not say whether it succeeded. Nothing was deleted; "
                        + "if it failed, the orphan file removal deletes its {} file(s) once they are older than maintenance.orphan-age", id, written.size());
                return new Result(CompactionOutcome.SKIPPED_UNKNOWN_STATE, plan.dataFiles(), plan.dataFiles(), plan.deleteFiles(), plan.deleteFiles());
            } catch (ValidationException | CommitFailedException e) {
                deleteQuietly(table, written);
                if (attempt == ATTEMPTS) {
                    LOG.warn("Cannot compact {}: {} attempts met a conflicting commit, the last: {}. The table is unchanged; the next "
                            + "maintenance run tries again", id, ATTEMPTS, e.getMessage());
                    return new Result(CompactionOutcome.SKIPPED_CONFLICT, plan.dataFiles(), plan.dataFiles(), plan.deleteFiles(), plan.deleteFiles());
                }
                LOG.info("Compaction of {} met a conflicting commit ({}); re-planning, attempt {} of {}", id, e.getMessage(), attempt + 1, ATTEMPTS);
            } catch (RuntimeException e) {
                deleteQuietly(table, written);
                throw e;
            }
        }
    }

    /** Data files grouped for one output: one partition of one spec, and the files of it to rewrite. */
    private record Group(int specId, StructLike partition, List<FileScanTask> tasks) {
    }

    private record Plan(Snapshot start, Schema schema, List<Group> groups, List<DeleteFile> removableDeletes, int dataFiles, int deleteFiles) {
    }

    /** Live data and delete files of a table's current snapshot. */
    record Counts(int dataFiles, int deleteFiles) {
        static Counts of(Table table) {
            Snapshot current = table.currentSnapshot();
            if (current == null) {
                return new Counts(0, 0);
            }
            int data = 0;
            try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(current.snapshotId()).planFiles()) {
                for (FileScanTask ignored : tasks) {
                    data++;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            return new Counts(data, liveDeleteFiles(table, current).size());
        }
    }

    /**
     * Every live delete file of {@code snapshot}, including those scan planning applies to no data
     * file (their key ranges miss every data file's, or their data files are gone).
     */
    static List<DeleteFile> liveDeleteFiles(Table table, Snapshot snapshot) {
        List<DeleteFile> out = new ArrayList<>();
        for (ManifestFile m : snapshot.deleteManifests(table.io())) {
            try (ManifestReader<DeleteFile> reader = ManifestFiles.readDeleteManifest(m, table.io(), table.specs())) {
                reader.forEach(d -> out.add(d.copyWithoutStats()));
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read delete manifest " + m.path() + " of " + table.name() + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    private Plan plan(TableIdentifier id, Table table) {
        boolean bronze = id.namespace().toString().equals(io.tributary.lake.layout.Layer.BRONZE.namespace());
        Snapshot start = table.currentSnapshot();
        if (start == null) {
            return new Plan(null, table.schema(), List.of(), List.of(), 0, 0);
        }
        Schema schema = start.schemaId() == null ? table.schema() : table.schemas().get(start.schemaId());
        Map<String, List<FileScanTask>> byPartition = new LinkedHashMap<>();
        long small = config.targetFileSize().bytes() / 4 * 3;
        Set<String> deletePaths = new HashSet<>();
        List<FileScanTask> pinned = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(start.snapshotId()).includeColumnStats().planFiles()) {
            for (FileScanTask t : tasks) {
                if (t.deletes().stream().anyMatch(d -> d.content() == FileContent.EQUALITY_DELETES)) {
                    throw LiveFiles.equalityDeletes(table);
                }
                boolean candidate = t.file().fileSizeInBytes() < small || !t.deletes().isEmpty();
                if (bronze && candidate && holdsSnapshotReads(table, t.file(), schema)) {
                    // A restarted initial snapshot deletes the reads of the abandoned attempt from bronze by a
                    // row filter (_op = 'r' and _position from where it began), which must match whole files:
                    // such files stay as the writer wrote them.
                    t.deletes().forEach(d -> deletePaths.add(d.path().toString()));
                    pinned.add(t);
                    continue;
                }
                PartitionSpec spec = table.specs().get(t.file().specId());
                byPartition.computeIfAbsent(t.file().specId() + "/" + spec.partitionToPath(t.file().partition()), k -> new ArrayList<>()).add(t);
                t.deletes().forEach(d -> deletePaths.add(d.path().toString()));
            }
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot plan the compaction of " + table.name() + ": " + e.getMessage(), e);
        }
        int dataFiles = byPartition.values().stream().mapToInt(List::size).sum() + pinned.size();
        List<Group> groups = new ArrayList<>();
        Set<String> kept = new HashSet<>();
        Map<String, DeleteFile> rewritten = new LinkedHashMap<>();
        pinned.forEach(t -> t.deletes().forEach(d -> kept.add(d.path().toString())));
        for (List<FileScanTask> tasks : byPartition.values()) {
            int specId = tasks.get(0).file().specId();
            long smallFiles = tasks.stream().filter(t -> t.file().fileSizeInBytes() < small).count();
            Set<String> groupDeletes = new HashSet<>();
            tasks.forEach(t -> t.deletes().forEach(d -> groupDeletes.add(d.path().toString())));
            boolean due = specId == table.spec().specId() && (smallFiles >= config.minSmallFiles() || groupDeletes.size() >= config.minDeleteFiles());
            List<FileScanTask> chosen = due ? tasks.stream().filter(t -> t.file().fileSizeInBytes() < small || !t.deletes().isEmpty()).toList() : List.of();
            boolean worth = chosen.size() >= 2 || chosen.stream().anyMatch(t -> !t.deletes().isEmpty());
            for (FileScanTask t : tasks) {
                if (worth && chosen.contains(t)) {
                    for (DeleteFile d : t.deletes()) {
                        rewritten.putIfAbsent(d.path().toString(), d);
                    }
                } else {
                    t.deletes().forEach(d -> kept.add(d.path().toString()));
                }
            }
            if (worth) {
                groups.add(new Group(specId, tasks.get(0).file().partition(), chosen));
            }
        }
        // A delete file may go only when every data file it applies to is rewritten. One that applies
        // to no data file now applies to none later either: data files committed later, and the
        // rewritten ones, carry a data sequence number at least its own (Iceberg spec, "Scan Planning").
        List<DeleteFile> removable = new ArrayList<>(rewritten.values().stream().filter(d -> !kept.contains(d.path().toString())).toList());
        List<DeleteFile> live = liveDeleteFiles(table, start);
        if (!groups.isEmpty()) {
            live.stream().filter(d -> !deletePaths.contains(d.path().toString()) && d.dataSequenceNumber() != null
                    && d.dataSequenceNumber() <= start.sequenceNumber()).forEach(removable::add);
        }
        return new Plan(start, schema, groups, removable, dataFiles, live.size());
    }

    /**
     * Whether a bronze data file may hold rows of an initial snapshot ({@code _op = 'r'}): by the
     * column's bounds where they decide it, else by reading the column.
     */
    private static boolean holdsSnapshotReads(Table table, DataFile file, Schema schema) {
        Types.NestedField op = schema.findField("_op");
        if (op == null || schema.findField("_position") == null) {
            return false;
        }
        java.nio.ByteBuffer lower = file.lowerBounds() == null ? null : file.lowerBounds().get(op.fieldId());
        java.nio.ByteBuffer upper = file.upperBounds() == null ? null : file.upperBounds().get(op.fieldId());
        if (lower != null && upper != null) {
            String lo = Conversions.fromByteBuffer(Types.StringType.get(), lower).toString();
            String hi = Conversions.fromByteBuffer(Types.StringType.get(), upper).toString();
            if ("r".compareTo(lo) < 0 || "r".compareTo(hi) > 0) {
                return false;
            }
            if (lo.equals("r") && hi.equals("r")) {
                return true;
            }
        }
        Schema projection = TypeUtil.select(schema, Set.of(op.fieldId()));
        try (CloseableIterable<Record> records = read(table, file, projection)) {
            for (Record r : records) {
                if ("r".equals(String.valueOf(r.getField(op.name())))) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read data file " + file.path() + ": " + e.getMessage(), e);
        }
    }

    private void rewrite(Table table, Plan plan, List<DataFile> written) {
        List<LiveFiles.LiveFile> inputs = new ArrayList<>();
        plan.groups().forEach(g -> g.tasks().forEach(t -> inputs.add(new LiveFiles.LiveFile(t.file(), t.deletes()))));
        Map<String, BitSet> deleted = LiveFiles.deletedPositions(table.io(), inputs);
        OutputFileFactory files = OutputFileFactory.builderFor(table, 1, System.nanoTime()).format(FileFormat.PARQUET)
                .operationId("compaction-" + java.util.UUID.randomUUID()).build();
        for (Group g : plan.groups()) {
            PartitionSpec spec = table.specs().get(g.specId());
            Map<String, String> writeProperties = DataFiles.properties(table, LargeValueMetrics.forInputs(plan.schema(), g.tasks().stream().map(FileScanTask::file).toList()));
            DataWriter<Record> writer = null;
            long rows = 0;
            try {
                for (FileScanTask t : g.tasks()) {
                    BitSet gone = deleted.get(t.file().path().toString());
                    int ordinal = 0;
                    try (CloseableIterable<Record> records = read(table, t.file(), plan.schema())) {
                        for (Record r : records) {
                            if (gone != null && gone.get(ordinal++)) {
                                continue;
                            }
                            if (writer == null) {
                                writer = DataFiles.dataWriter(plan.schema(), spec, spec.isUnpartitioned() ? null : g.partition(),
                                        spec.isUnpartitioned() ? files.newOutputFile() : files.newOutputFile(spec, g.partition()), writeProperties);
                            }
                            writer.write(r);
                            if (++rows % LENGTH_CHECK_EVERY == 0 && writer.length() >= config.targetFileSize().bytes()) {
                                writer.close();
                                written.add(writer.toDataFile());
                                writer = null;
                            }
                        }
                    }
                }
                if (writer != null) {
                    writer.close();
                    written.add(writer.toDataFile());
                    writer = null;
                }
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot compact " + table.name() + ": " + e.getMessage(), e);
            } finally {
                if (writer != null) {
                    try {
                        writer.close();
                        written.add(writer.toDataFile());
                    } catch (IOException | RuntimeException e) {
                        LOG.debug("Cannot close an abandoned compaction file of {}", table.name(), e);
                    }
                }
            }
        }
    }

    private static CloseableIterable<Record> read(Table table, org.apache.iceberg.ContentFile<?> file, Schema schema) {
        return LocalFiles.readParquet(table.io(), file.path(), schema, org.apache.iceberg.expressions.Expressions.alwaysTrue());
    }

    private static void deleteQuietly(Table table, List<DataFile> written) {
        for (DataFile f : written) {
            try {
                table.io().deleteFile(f.path().toString());
            } catch (RuntimeException e) {
                LOG.warn("Cannot delete {} of a failed compaction attempt of {}: {}. The orphan file removal deletes it later", f.path(), table.name(), e.getMessage());
            }
        }
        written.clear();
    }
}
