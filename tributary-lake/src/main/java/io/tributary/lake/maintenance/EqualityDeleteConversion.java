package io.tributary.lake.maintenance;

import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.layout.Layer;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileContent;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.RewriteFiles;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Converts a table an earlier release of Tributary wrote with equality delete files, which
 * DuckDB's and Snowflake's Iceberg readers refuse or misread, into one every engine reads: its live
 * rows (equality and position deletes applied by Iceberg's generic reader, the only place equality
 * deletes are still applied) are written into new data files, which replace every data and delete
 * file of the current snapshot in one Iceberg {@link RewriteFiles} commit validated from that
 * snapshot. The commit changes files, not rows: it carries no {@code tributary.position}, so
 * transaction-consistent reads treat it like a compaction. Runs on the first start of a pipeline
 * and in {@code tributary maintain}; a lake is never left with a mix readers cannot handle, as the
 * readers refuse a table that still holds equality deletes ({@link io.tributary.lake.scan.LiveFiles}).
 */
public final class EqualityDeleteConversion {
    private static final Logger LOG = LoggerFactory.getLogger(EqualityDeleteConversion.class);
    /** Rows per data file the conversion writes (the rows of one file are held in memory). */
    static final int ROWS_PER_FILE = 200_000;

    private final LakeCatalog catalog;

    public EqualityDeleteConversion(LakeCatalog catalog) {
        this.catalog = catalog;
    }

    /** Converts every table of the lake's layers that holds equality delete files; returns those converted. */
    public List<TableIdentifier> convertAll() {
        List<TableIdentifier> converted = new ArrayList<>();
        for (Layer layer : Layer.values()) {
            for (TableIdentifier id : catalog.tables(layer.namespace())) {
                catalog.load(id).ifPresent(t -> {
                    if (convert(id, t)) {
                        converted.add(id);
                    }
                });
            }
        }
        return converted;
    }

    /** Whether the table's current snapshot holds equality delete files. */
    public static boolean needed(Table table) {
        table.refresh();
        Snapshot current = table.currentSnapshot();
        if (current == null) {
            return false;
        }
        // The snapshot summary's totals answer without reading manifests (Iceberg keeps them when every ancestor had them).
        String total = current.summary().get("total-equality-deletes");
        if (total != null) {
            return !"0".equals(total);
        }
        return Compaction.liveDeleteFiles(table, current).stream().anyMatch(d -> d.content() == FileContent.EQUALITY_DELETES);
    }

    /**
     * Converts the table if its current snapshot holds equality delete files.
     *
     * @return whether it was converted
     * @throws TributaryException LAKE_IO_FAILED when its files cannot be read or written
     */
    public boolean convert(TableIdentifier id, Table table) {
        if (!needed(table)) {
            return false;
        }
        long started = System.nanoTime();
        Snapshot start = table.currentSnapshot();
        if (table.spec().isPartitioned()) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot convert the equality deletes of " + id
                    + ": the table is partitioned, and no release of Tributary wrote equality deletes to a partitioned table", null);
        }
        List<DataFile> oldData = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(start.snapshotId()).planFiles()) {
            tasks.forEach(t -> oldData.add(t.file()));
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot plan a scan of " + id + ": " + e.getMessage(), e);
        }
        List<DeleteFile> oldDeletes = Compaction.liveDeleteFiles(table, start);
        DataFiles files = new DataFiles(table);
        List<DataFile> written = new ArrayList<>();
        long rows = 0;
        try (CloseableIterable<Record> live = LiveRows.withEqualityDeletes(table)) {
            List<Record> chunk = new ArrayList<>();
            for (Record r : live) {
                chunk.add(r.copy());
                if (chunk.size() == ROWS_PER_FILE) {
                    written.add(files.write(chunk, null));
                    rows += chunk.size();
                    chunk.clear();
                }
            }
            if (!chunk.isEmpty()) {
                written.add(files.write(chunk, null));
                rows += chunk.size();
            }
            RewriteFiles rewrite = table.newRewrite().validateFromSnapshot(start.snapshotId()).set(Maintenance.MAINTENANCE, "equality-delete-conversion");
            oldData.forEach(rewrite::deleteFile);
            oldDeletes.forEach(rewrite::deleteFile);
            written.forEach(rewrite::addFile);
            catalog.commit(rewrite);
        } catch (IOException | RuntimeException e) {
            written.forEach(f -> {
                try {
                    table.io().deleteFile(f.path().toString());
                } catch (RuntimeException d) {
                    LOG.debug("Cannot delete {} of a failed conversion of {}", f.path(), id, d);
                }
            });
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot convert the equality deletes of " + id + ": " + e.getMessage(), e);
        }
        LOG.info("Converted {} from equality deletes to plain data files: {} live row(s) of {} data file(s) and {} delete file(s) rewritten into "
                + "{} data file(s) in {} ms", id, rows, oldData.size(), oldDeletes.size(), written.size(), (System.nanoTime() - started) / 1_000_000);
        return true;
    }
}
