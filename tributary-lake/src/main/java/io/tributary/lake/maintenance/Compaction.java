package io.tributary.lake.maintenance;

import io.tributary.config.MaintenanceConfig;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.LargeValueMetrics;
import io.tributary.lake.catalog.LocalFiles;
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
 * delete files apply to, into files of the target size, and drops the delete files no other data
 * file needs. A partitioned table is compacted per partition. Committed as an Iceberg
 * {@link RewriteFiles} validated from the snapshot the rows were read at and carrying that
 * snapshot's data sequence number, so equality deletes a writer commits meanwhile still apply to
 * the new files (Iceberg spec, "Row-level Deletes" and "Scan Planning": an equality delete applies
 * to data files of a lower data sequence number). A conflicting commit (a truncate replacing the
 * same files) fails validation: the attempt's files are deleted and the table re-planned, a bounded
 * number of times. With an unknown commit state nothing is deleted.
 *
 * <p>Bronze data files holding initial snapshot reads ({@code _op = 'r'}) are never rewritten: a
 * restarted initial snapshot removes the abandoned attempt's reads with a row filter that Iceberg
 * applies to whole files only.
 *
 * <p>Rows are read with their deletes applied in one pass: every equality delete file is read once
 * into a key index, instead of once per data file as Iceberg's generic reader does. When the
 * deletes hold more than {@link #DELETE_KEYS_PER_PASS} keys, the deleted rows are marked first in
 * several passes, each holding one hash share of the keys, so memory stays bounded.
 */
final class Compaction {
    private static final Logger LOG = LoggerFactory.getLogger(Compaction.class);
    static final int ATTEMPTS = 4;
    private static final int LENGTH_CHECK_EVERY = 1000;
    /**
     * Equality delete keys held in memory at once (about 200 bytes each for a bigint key and a
     * position); a compaction whose deletes hold more marks the deleted rows in several passes.
     */
    static final long DELETE_KEYS_PER_PASS = 500_000L;

    private final LakeCatalog catalog;
    private final MaintenanceConfig config;
    private volatile Runnable beforeCommit = () -> { };
    private volatile long deleteKeysPerPass = DELETE_KEYS_PER_PASS;

    Compaction(LakeCatalog catalog, MaintenanceConfig config) {
        this.catalog = catalog;
        this.config = config;
    }

    /** Live data and delete files of a snapshot, and what compaction did. */
    /** For tests: runs after the new files are written and before the commit, where a concurrent writer's commit may land. */
    void beforeCommit(Runnable hook) {
        this.beforeCommit = hook;
    }

    /** For tests: fewer delete keys per pass, so a small table takes the several-pass path. */
    void deleteKeysPerPass(long keys) {
        this.deleteKeysPerPass = keys;
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
            if (plan.hasPositionDeletes()) {
                LOG.warn("Not compacting {}: it has position delete files, which compaction does not apply. Rewrite it with an engine "
                        + "that applies them (e.g. Spark's rewrite_data_files) if reads get slow", id);
                return new Result(CompactionOutcome.SKIPPED_POSITION_DELETES, plan.dataFiles(), plan.dataFiles(), plan.deleteFiles(), plan.deleteFiles());
            }
            if (mode == Maintenance.Mode.DRY_RUN) {
                return new Result(CompactionOutcome.WOULD_COMPACT, plan.dataFiles(), plan.dataFiles(), plan.deleteFiles(), plan.deleteFiles());
            }
            List<DataFile> written = new ArrayList<>();
            try {
                RewriteFiles rewrite = table.newRewrite()
                        .validateFromSnapshot(plan.start().snapshotId())
                        .dataSequenceNumber(plan.start().sequenceNumber())
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

    private record Plan(Snapshot start, Schema schema, List<Group> groups, List<DeleteFile> removableDeletes, boolean hasPositionDeletes,
            int dataFiles, int deleteFiles) {
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
            return new Plan(null, table.schema(), List.of(), List.of(), false, 0, 0);
        }
        Schema schema = start.schemaId() == null ? table.schema() : table.schemas().get(start.schemaId());
        Map<String, List<FileScanTask>> byPartition = new LinkedHashMap<>();
        long small = config.targetFileSize().bytes() / 4 * 3;
        Set<String> deletePaths = new HashSet<>();
        List<FileScanTask> pinned = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(start.snapshotId()).includeColumnStats().planFiles()) {
            for (FileScanTask t : tasks) {
                boolean candidate = t.file().fileSizeInBytes() < small || !t.deletes().isEmpty();
                if (bronze && candidate && holdsSnapshotReads(t.file(), schema)) {
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
        boolean positionDeletes = false;
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
                        positionDeletes |= d.content() == FileContent.POSITION_DELETES;
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
        return new Plan(start, schema, groups, removable, positionDeletes, dataFiles, live.size());
    }

    /**
     * Whether a bronze data file may hold rows of an initial snapshot ({@code _op = 'r'}): by the
     * column's bounds where they decide it, else by reading the column.
     */
    private static boolean holdsSnapshotReads(DataFile file, Schema schema) {
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
        try (CloseableIterable<Record> records = read(file, projection)) {
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
        Map<String, DeleteFile> equalityDeletes = new LinkedHashMap<>();
        for (Group g : plan.groups()) {
            for (FileScanTask t : g.tasks()) {
                t.deletes().stream().filter(d -> d.content() == FileContent.EQUALITY_DELETES).forEach(d -> equalityDeletes.putIfAbsent(d.path().toString(), d));
            }
        }
        long deleteKeys = equalityDeletes.values().stream().mapToLong(DeleteFile::recordCount).sum();
        long perPass = deleteKeysPerPass;
        int passes = (int) Math.max(1, (deleteKeys + perPass - 1) / perPass);
        // One pass: the rows are filtered as they are copied. More: the deleted rows are marked first,
        // a share of the keys at a time, and the copy skips the marked ones.
        DeleteIndex deletes = null;
        Map<String, BitSet> marked = Map.of();
        if (passes == 1) {
            deletes = new DeleteIndex(plan.schema(), 1, 0);
            for (Group g : plan.groups()) {
                for (FileScanTask t : g.tasks()) {
                    t.deletes().forEach(deletes::load);
                }
            }
        } else {
            marked = markDeleted(table, plan, equalityDeletes.values(), passes);
        }
        OutputFileFactory files = OutputFileFactory.builderFor(table, 1, System.nanoTime()).format(FileFormat.PARQUET)
                .operationId("compaction-" + java.util.UUID.randomUUID()).build();
        for (Group g : plan.groups()) {
            PartitionSpec spec = table.specs().get(g.specId());
            Map<String, String> writeProperties = DataFiles.properties(table, LargeValueMetrics.forInputs(plan.schema(), g.tasks().stream().map(FileScanTask::file).toList()));
            DataWriter<Record> writer = null;
            long rows = 0;
            try {
                for (FileScanTask t : g.tasks()) {
                    DeleteIndex.Filter filter = deletes != null ? deletes.filterFor(t.deletes()) : null;
                    BitSet gone = marked.get(t.file().path().toString());
                    int ordinal = 0;
                    try (CloseableIterable<Record> records = read(t.file(), plan.schema())) {
                        for (Record r : records) {
                            boolean deleted = filter != null ? filter.isDeleted(r) : gone != null && gone.get(ordinal);
                            ordinal++;
                            if (deleted) {
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

    /**
     * Marks the rows of the plan's data files that its equality deletes delete, in {@code passes}
     * passes over the delete keys split by hash, so that at most about {@link #DELETE_KEYS_PER_PASS}
     * keys are in memory at once: each pass reads every delete file keeping its share of the keys,
     * then the data files' equality columns only. Returns, per data file path, the ordinals (in file
     * order) of its deleted rows.
     */
    private static Map<String, BitSet> markDeleted(Table table, Plan plan, java.util.Collection<DeleteFile> equalityDeletes, int passes) {
        long started = System.nanoTime();
        Set<Integer> keyIds = new HashSet<>();
        equalityDeletes.forEach(d -> keyIds.addAll(d.equalityFieldIds()));
        Schema keys = TypeUtil.select(plan.schema(), keyIds);
        Map<String, BitSet> marked = new HashMap<>();
        long deleted = 0;
        for (int pass = 0; pass < passes; pass++) {
            DeleteIndex index = new DeleteIndex(plan.schema(), passes, pass);
            for (Group g : plan.groups()) {
                for (FileScanTask t : g.tasks()) {
                    t.deletes().forEach(index::load);
                }
            }
            for (Group g : plan.groups()) {
                for (FileScanTask t : g.tasks()) {
                    if (t.deletes().isEmpty()) {
                        continue;
                    }
                    DeleteIndex.Filter filter = index.filterFor(t.deletes());
                    BitSet gone = marked.computeIfAbsent(t.file().path().toString(), p -> new BitSet());
                    int ordinal = 0;
                    try (CloseableIterable<Record> records = read(t.file(), keys)) {
                        for (Record r : records) {
                            if (filter.isDeleted(r) && !gone.get(ordinal)) {
                                gone.set(ordinal);
                                deleted++;
                            }
                            ordinal++;
                        }
                    } catch (IOException e) {
                        throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read data file " + t.file().path() + ": " + e.getMessage(), e);
                    }
                }
            }
            LOG.debug("Compaction of {}: delete key pass {} of {} done, {} deleted row(s) marked so far", table.name(), pass + 1, passes, deleted);
        }
        LOG.info("Compaction of {}: marked {} deleted row(s) in {} pass(es) over {} equality delete(s) in {} ms", table.name(), deleted, passes,
                equalityDeletes.stream().mapToLong(DeleteFile::recordCount).sum(), (System.nanoTime() - started) / 1_000_000);
        return marked;
    }

    private static CloseableIterable<Record> read(org.apache.iceberg.ContentFile<?> file, Schema schema) {
        return LocalFiles.readParquet(file.path(), schema, org.apache.iceberg.expressions.Expressions.alwaysTrue());
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

    /**
     * The keys of equality delete files, each file read once: per set of equality field ids, the
     * delete files (by ordinal) that hold each key. Holds only the keys whose hash falls in share
     * {@code share} of {@code shares}; a row whose key is in another share is not deleted by it.
     */
    private static final class DeleteIndex {
        private final Schema schema;
        private final int shares;
        private final int share;
        private final Map<String, Integer> ordinals = new HashMap<>();
        private final Map<List<Integer>, Map<List<Object>, List<Integer>>> keys = new HashMap<>();

        DeleteIndex(Schema schema, int shares, int share) {
            this.schema = schema;
            this.shares = shares;
            this.share = share;
        }

        private boolean inShare(List<Object> key) {
            if (shares == 1) {
                return true;
            }
            int h = key.hashCode() * 0x9E3779B9;
            return Integer.remainderUnsigned(h ^ (h >>> 16), shares) == share;
        }

        void load(DeleteFile file) {
            if (file.content() != FileContent.EQUALITY_DELETES || ordinals.containsKey(file.path().toString())) {
                return;
            }
            int ordinal = ordinals.size();
            ordinals.put(file.path().toString(), ordinal);
            List<Integer> ids = ids(file);
            List<String> names = names(ids);
            Schema projection = TypeUtil.select(schema, new HashSet<>(ids));
            Map<List<Object>, List<Integer>> byKey = keys.computeIfAbsent(ids, k -> new HashMap<>());
            try (CloseableIterable<Record> records = read(file, projection)) {
                for (Record r : records) {
                    List<Object> key = new ArrayList<>(names.size());
                    names.forEach(n -> key.add(r.getField(n)));
                    if (!inShare(key)) {
                        continue;
                    }
                    List<Integer> holders = byKey.computeIfAbsent(key, k -> new ArrayList<>(1));
                    if (holders.isEmpty() || holders.get(holders.size() - 1) != ordinal) {
                        holders.add(ordinal);
                    }
                }
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read equality delete file " + file.path() + ": " + e.getMessage(), e);
            }
        }

        /** Which rows of a data file the given delete files (those scan planning applies to it) delete. */
        Filter filterFor(List<DeleteFile> applicable) {
            Map<List<Integer>, Set<Integer>> byIds = new LinkedHashMap<>();
            for (DeleteFile d : applicable) {
                byIds.computeIfAbsent(ids(d), k -> new HashSet<>()).add(ordinals.get(d.path().toString()));
            }
            List<List<String>> names = new ArrayList<>();
            List<Set<Integer>> files = new ArrayList<>();
            List<Map<List<Object>, List<Integer>>> indexes = new ArrayList<>();
            byIds.forEach((ids, ords) -> {
                names.add(names(ids));
                files.add(ords);
                indexes.add(keys.get(ids));
            });
            return row -> {
                for (int i = 0; i < names.size(); i++) {
                    List<Object> key = new ArrayList<>(names.get(i).size());
                    for (String n : names.get(i)) {
                        key.add(row.getField(n));
                    }
                    List<Integer> holders = indexes.get(i).get(key);
                    if (holders != null) {
                        for (int h : holders) {
                            if (files.get(i).contains(h)) {
                                return true;
                            }
                        }
                    }
                }
                return false;
            };
        }

        private static List<Integer> ids(DeleteFile file) {
            return file.equalityFieldIds().stream().sorted().toList();
        }

        private List<String> names(List<Integer> ids) {
            List<String> out = new ArrayList<>();
            for (int id : ids) {
                Types.NestedField field = schema.findField(id);
                if (field == null) {
                    throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot compact: an equality delete file is on field id " + id
                            + ", which the table schema does not have", null);
                }
                out.add(field.name());
            }
            return out;
        }

        @FunctionalInterface
        interface Filter {
            boolean isDeleted(Record row);
        }
    }
}
