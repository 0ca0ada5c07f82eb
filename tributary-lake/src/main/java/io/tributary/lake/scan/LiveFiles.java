package io.tributary.lake.scan;

import io.tributary.lake.catalog.LocalFiles;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.MetadataColumns;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;

/**
 * Which rows of a table snapshot are live: the one definition every reader of the lake uses (the
 * Java readers through {@link io.tributary.lake.catalog.LiveRows}, compaction, the index rebuilds,
 * and DuckDB's SQL through {@link LakeTable}). A snapshot is planned into its data files, each with
 * the position delete files that apply to it (Iceberg spec, "Scan Planning": a position delete
 * applies to a data file of a data sequence number at most its own; Iceberg's planner assigns them),
 * and a row is live unless a position delete of its file names its ordinal. Tributary writes no
 * equality deletes; a snapshot that holds some (a lake of an earlier release, not yet converted by
 * {@code tributary maintain}) is refused here rather than read wrongly.
 */
public final class LiveFiles {
    private LiveFiles() {
    }

    /** A data file of a snapshot and the position delete files that apply to it. */
    public record LiveFile(DataFile file, List<DeleteFile> deletes) {
        public LiveFile {
            deletes = List.copyOf(deletes);
        }

        public String path() {
            return file.path().toString();
        }
    }

    /**
     * The data files of {@code snapshot} whose rows may match {@code filter} (file pruning only),
     * with their position delete files.
     *
     * @throws TributaryException LAKE_IO_FAILED when the manifests cannot be read, or when the
     *                            snapshot holds equality delete files
     */
    public static List<LiveFile> plan(Table table, Snapshot snapshot, Expression filter) {
        List<LiveFile> out = new ArrayList<>();
        if (snapshot == null) {
            return out;
        }
        try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(snapshot.snapshotId()).filter(filter).planFiles()) {
            for (FileScanTask task : tasks) {
                for (DeleteFile d : task.deletes()) {
                    if (d.content() == FileContent.EQUALITY_DELETES) {
                        throw equalityDeletes(table);
                    }
                }
                out.add(new LiveFile(task.file(), task.deletes()));
            }
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot plan a scan of " + table.name() + ": " + e.getMessage(), e);
        }
        return out;
    }

    /** The failure of a read of a table that still holds equality delete files. */
    public static TributaryException equalityDeletes(Table table) {
        return new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read " + table.name() + ": it holds equality delete files, written by an "
                + "earlier release of Tributary. Run `tributary maintain` (or start the pipeline) to convert the lake", null);
    }

    /**
     * The deleted ordinals of each data file the position delete files of {@code files} name,
     * every delete file read once.
     */
    public static Map<String, BitSet> deletedPositions(org.apache.iceberg.io.FileIO io, List<LiveFile> files) {
        Map<String, DeleteFile> deleteFiles = new LinkedHashMap<>();
        for (LiveFile f : files) {
            f.deletes().forEach(d -> deleteFiles.putIfAbsent(d.path().toString(), d));
        }
        Map<String, BitSet> out = new HashMap<>();
        Schema pathPos = new Schema(MetadataColumns.DELETE_FILE_PATH, MetadataColumns.DELETE_FILE_POS);
        for (DeleteFile d : deleteFiles.values()) {
            try (CloseableIterable<Record> rows = LocalFiles.readParquet(io, d.path(), pathPos, Expressions.alwaysTrue())) {
                String lastPath = null;
                BitSet bits = null;
                for (Record r : rows) {
                    String path = r.get(0).toString();
                    if (!path.equals(lastPath)) {
                        lastPath = path;
                        bits = out.computeIfAbsent(path, p -> new BitSet());
                    }
                    bits.set(Math.toIntExact((Long) r.get(1)));
                }
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read position delete file " + d.path() + ": " + e.getMessage(), e);
            }
        }
        return out;
    }
}
