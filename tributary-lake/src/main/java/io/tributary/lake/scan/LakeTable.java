package io.tributary.lake.scan;

import io.tributary.lake.layout.Layer;
import io.tributary.lake.storage.LocalCopies;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Types;

/**
 * A lake table at one of its snapshots (the current one, or one chosen by
 * {@link ConsistentSnapshots}), described without Iceberg types so query engines can read it:
 * columns (of the table's current schema), the live data files of that snapshot with their data
 * sequence numbers, each with the position delete files that apply to it, as {@link LiveFiles}
 * plans them (the one definition of a live row: a row is live unless a position delete of its file
 * names its ordinal).
 * {@code position} is the snapshot's effective source position ({@link ConsistentSnapshots#effectivePosition}).
 * {@code files} gives an engine that reads files by path (DuckDB) a local file for each location.
 */
public record LakeTable(Layer layer, String name, List<LakeColumn> columns, Optional<Long> snapshotId, Optional<Instant> committedAt,
                        Optional<SourcePosition> position, List<DataFileRef> dataFiles, List<DeleteFileRef> deleteFiles, LocalCopies files) {

    /**
     * A column with its Iceberg type name (e.g. {@code decimal(10, 2)}, {@code timestamptz}), field id
     * and the names it had before renames: data files name a column as it was named when they were
     * written, so a reader of a renamed column matches it by field id (Iceberg spec, "Column Projection").
     */
    public record LakeColumn(String name, String icebergType, int fieldId, List<String> formerNames) {
        public LakeColumn {
            formerNames = List.copyOf(formerNames);
        }
    }

    /** A data file and the paths of the position delete files that apply to it. */
    public record DataFileRef(String path, long dataSequenceNumber, long records, List<String> deletes) {
        public DataFileRef {
            deletes = List.copyOf(deletes);
        }
    }

    /** A position delete file (Iceberg spec, "Position Delete Files": {@code file_path}, {@code pos}). */
    public record DeleteFileRef(String path, long dataSequenceNumber) {
    }

    public String qualifiedName() {
        return layer.namespace() + "." + name;
    }

    /** The table of a local warehouse at its current snapshot. */
    public static LakeTable of(Layer layer, Table table) {
        return of(layer, table, LocalCopies.DIRECT);
    }

    /** The table at its current snapshot, its files read through {@code files}. */
    public static LakeTable of(Layer layer, Table table, LocalCopies files) {
        Snapshot current = table.currentSnapshot();
        return of(layer, table, current == null ? Optional.empty() : Optional.of(current.snapshotId()), files);
    }

    /** The table of a local warehouse at snapshot {@code snapshotId}, as {@link #of(Layer, Table, Optional, LocalCopies)}. */
    public static LakeTable of(Layer layer, Table table, Optional<Long> snapshotId) {
        return of(layer, table, snapshotId, LocalCopies.DIRECT);
    }

    /** The local file of a data or delete file's location, downloaded first when the warehouse is on object storage. */
    public String localFile(String location) {
        return files.localFile(location).toString();
    }

    /**
     * The table at snapshot {@code snapshotId}, or empty (no rows) when absent.
     *
     * @throws TributaryException TABLE_NOT_FOUND when the table has no such snapshot (e.g. expired),
     *                            LAKE_IO_FAILED when its manifests cannot be read or the snapshot
     *                            holds equality deletes (a lake of an earlier release, not converted yet)
     */
    public static LakeTable of(Layer layer, Table table, Optional<Long> snapshotId, LocalCopies files) {
        List<LakeColumn> columns = new ArrayList<>();
        for (Types.NestedField f : table.schema().columns()) {
            List<String> former = table.schemas().values().stream().map(s -> s.findField(f.fieldId())).filter(java.util.Objects::nonNull)
                    .map(Types.NestedField::name).filter(n -> !n.equals(f.name())).distinct().toList();
            columns.add(new LakeColumn(f.name(), f.type().toString(), f.fieldId(), former));
        }
        Snapshot current = snapshotId.map(table::snapshot).orElse(null);
        if (snapshotId.isPresent() && current == null) {
            throw new TributaryException(ErrorCode.TABLE_NOT_FOUND, "Cannot read " + table.name() + " at snapshot " + snapshotId.get()
                    + ": the table has no such snapshot (expired?)");
        }
        List<DataFileRef> data = new ArrayList<>();
        java.util.Map<String, DeleteFileRef> deletes = new java.util.LinkedHashMap<>();
        for (LiveFiles.LiveFile f : LiveFiles.plan(table, current, Expressions.alwaysTrue())) {
            List<String> applying = new ArrayList<>();
            for (DeleteFile d : f.deletes()) {
                applying.add(d.path().toString());
                deletes.putIfAbsent(d.path().toString(), new DeleteFileRef(d.path().toString(), d.dataSequenceNumber()));
            }
            data.add(new DataFileRef(f.path(), f.file().dataSequenceNumber(), f.file().recordCount(), applying));
        }
        return new LakeTable(layer, table.name().substring(table.name().lastIndexOf('.') + 1), columns,
                Optional.ofNullable(current).map(Snapshot::snapshotId),
                Optional.ofNullable(current).map(s -> Instant.ofEpochMilli(s.timestampMillis())),
                current == null ? Optional.empty() : ConsistentSnapshots.effectivePosition(table, current), data, new ArrayList<>(deletes.values()), files);
    }
}
