package io.tributary.lake.silver;

import io.tributary.lake.catalog.LocalFiles;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

/**
 * Reads the open versions ({@code _valid_to IS NULL}) of chosen keys of a history table, applying
 * the table's equality deletes itself. Iceberg's generic reader reads every equality delete file
 * again for every data file it reads (its delete loader caches only inside Spark executors), so a
 * look-up grew with data files × delete files; here each delete file is read once per look-up and
 * only the deletes of the wanted keys are kept, so a look-up is one pass over the files the scan
 * plans. An equality delete applies to a data file with a lower data sequence number (Iceberg spec,
 * "Scan Planning"; the history table is unpartitioned, so to every such file).
 *
 * <p>With every key wanted (a truncate, or building the open-version index) the delete files are
 * not read: a version the writer closed is rewritten closed in the same commit as its delete, so of a
 * key's rows still open in the files the one with the latest {@code _position} is its open version,
 * and the caller keeps that one. Memory then stays bounded whatever the number of closed versions.
 *
 * <p>Covers what the history writer writes: equality deletes on (key columns, {@code _position})
 * and no position deletes, in an unpartitioned table. For anything else {@link #read} returns
 * false and reads nothing, and the caller reads with Iceberg's generic reader.
 */
final class OpenVersionReader {
    private OpenVersionReader() {
    }

    /**
     * Hands every open version matching {@code filter} whose key (normalized, in the order of
     * {@code keyFields}) is in {@code wanted} (every key when null) to {@code out}.
     *
     * @return false when the table holds delete files this reader does not cover; nothing was read then
     */
    static boolean read(Table table, Schema schema, List<Types.NestedField> keyFields, Expression filter, Set<List<Object>> wanted, Consumer<Record> out)
            throws IOException {
        // Maintenance in another process may have compacted the table and expired the snapshot this
        // instance last saw, deleting its files.
        table.refresh();
        if (table.currentSnapshot() == null) {
            return true;
        }
        if (table.spec().isPartitioned()) {
            return false;
        }
        Set<Integer> deleteIds = new HashSet<>();
        keyFields.forEach(f -> deleteIds.add(f.fieldId()));
        Types.NestedField positionField = schema.findField("_position");
        deleteIds.add(positionField.fieldId());
        Expression scan = Expressions.and(Expressions.isNull("_valid_to"), filter);
        List<FileScanTask> tasks = new ArrayList<>();
        Map<String, DeleteFile> deleteFiles = new LinkedHashMap<>();
        try (CloseableIterable<FileScanTask> planned = table.newScan().filter(scan).planFiles()) {
            for (FileScanTask task : planned) {
                for (DeleteFile d : task.deletes()) {
                    if (d.content() != FileContent.EQUALITY_DELETES || !Set.copyOf(d.equalityFieldIds()).equals(deleteIds)) {
                        return false;
                    }
                    deleteFiles.putIfAbsent(d.path().toString(), d);
                }
                tasks.add(task);
            }
        }
        // (key..., _position) -> the highest data sequence number of a delete of it.
        Map<List<Object>, Long> deleted = new HashMap<>();
        Schema deleteSchema = TypeUtil.select(schema, deleteIds);
        // Every key wanted: the deletes of every closed version would not fit in memory (see above).
        for (DeleteFile d : wanted == null ? List.<DeleteFile>of() : deleteFiles.values()) {
            long sequence = d.dataSequenceNumber();
            try (CloseableIterable<Record> rows = LocalFiles.readParquet(d.path(), deleteSchema, Expressions.alwaysTrue())) {
                for (Record r : rows) {
                    List<Object> key = key(r, keyFields);
                    if (!wanted.contains(key)) {
                        continue;
                    }
                    key.add(r.getField(positionField.name()));
                    deleted.merge(key, sequence, Math::max);
                }
            }
        }
        for (FileScanTask task : tasks) {
            Long dataSequence = task.file().dataSequenceNumber();
            long sequence = dataSequence == null ? 0 : dataSequence;
            try (CloseableIterable<Record> rows = LocalFiles.readParquet(task.file().path(), schema, scan)) {
                for (Record r : rows) {
                    if (r.getField("_valid_to") != null) {
                        continue;
                    }
                    if (wanted == null) {
                        out.accept(r);
                        continue;
                    }
                    List<Object> key = key(r, keyFields);
                    if (!wanted.contains(key)) {
                        continue;
                    }
                    key.add(r.getField(positionField.name()));
                    Long deletedAt = deleted.get(key);
                    if (deletedAt == null || deletedAt <= sequence) {
                        out.accept(r);
                    }
                }
            }
        }
        return true;
    }

    /** A row's key, normalized as {@link HistoryWriter#normalized}, in the order of {@code keyFields}; room for one more value. */
    static List<Object> key(Record r, List<Types.NestedField> keyFields) {
        List<Object> key = new ArrayList<>(keyFields.size() + 1);
        for (Types.NestedField field : keyFields) {
            key.add(HistoryWriter.normalized(r.getField(field.name()), field.type()));
        }
        return key;
    }
}
