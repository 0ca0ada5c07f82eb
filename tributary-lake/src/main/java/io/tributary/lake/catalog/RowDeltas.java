package io.tributary.lake.catalog;

import io.tributary.lake.scan.RowLocation;
import java.util.Collection;
import java.util.function.Supplier;
import org.apache.iceberg.ContentFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How the writers remove rows: a position delete file in the row delta that adds the new rows,
 * validated (Iceberg {@code RowDelta.validateFromSnapshot} and {@code validateDataFilesExist}) from
 * the snapshot the locations were read at, so a compaction committed meanwhile can never leave a
 * delete naming a removed file: the commit fails with a {@link ValidationException} instead, and
 * the writer reads the locations again and redoes its micro-batch.
 */
public final class RowDeltas {
    private static final Logger LOG = LoggerFactory.getLogger(RowDeltas.class);
    /** Attempts of one micro-batch whose row delta a concurrent compaction invalidated. */
    public static final int ATTEMPTS = 4;

    private RowDeltas() {
    }

    /**
     * Runs one micro-batch's write of {@code table}, again from the start (up to {@link #ATTEMPTS}
     * times) while its row delta fails validation because a concurrent commit (a compaction)
     * removed a data file holding rows it removes. {@code forgetLocations} runs after every failed
     * attempt, a validation failure or any other, so the next one reads the rows' locations from
     * the table again rather than from a cache it made stale.
     *
     * @throws ValidationException when the last attempt fails validation too
     */
    public static <T> T redoWhileRowsMove(Object table, Runnable forgetLocations, Supplier<T> microBatch) {
        for (int attempt = 1; ; attempt++) {
            try {
                return microBatch.get();
            } catch (ValidationException e) {
                forgetLocations.run();
                if (attempt == ATTEMPTS) {
                    throw e;
                }
                LOG.info("{}: a concurrent commit moved rows this micro-batch removes ({}); reading their locations again", table, e.getMessage());
            } catch (RuntimeException e) {
                forgetLocations.run();
                throw e;
            }
        }
    }

    /**
     * Adds to {@code delta} a position delete file removing {@code rows} (nothing when empty),
     * located as of snapshot {@code base}; returns the file, or null.
     */
    public static DeleteFile removeRows(RowDelta delta, DataFiles files, Collection<RowLocation> rows, Long base) {
        if (rows.isEmpty()) {
            return null;
        }
        if (base == null || base < 0) {
            throw new IllegalStateException("Rows to delete were located in no snapshot");
        }
        DeleteFile deletes = files.writePositionDeletes(rows);
        delta.addDeletes(deletes).validateFromSnapshot(base).validateDataFilesExist(DataFiles.referencedFiles(rows));
        return deletes;
    }

    /**
     * Commits {@code delta} and returns the snapshot it made; when it fails validation or loses a
     * commit race, deletes {@code written} (the files the commit would have added) and rethrows.
     */
    public static Snapshot commit(LakeCatalog catalog, Table table, RowDelta delta, ContentFile<?>... written) {
        try {
            catalog.commit(delta);
        } catch (ValidationException | CommitFailedException e) {
            for (ContentFile<?> f : written) {
                if (f == null) {
                    continue;
                }
                try {
                    table.io().deleteFile(f.path().toString());
                } catch (RuntimeException d) {
                    LOG.debug("Cannot delete {} of a failed commit of {}; orphan file removal deletes it later", f.path(), table.name(), d);
                }
            }
            throw e;
        }
        return table.currentSnapshot();
    }

    /**
     * Whether {@code committed} directly follows snapshot {@code base} (-1: no snapshot; null: unknown,
     * taken as followed): when not, another commit landed in between, and rows may have moved.
     */
    public static boolean follows(Snapshot committed, Long base) {
        if (base == null) {
            return true;
        }
        return base < 0 ? committed.parentId() == null : committed.parentId() != null && committed.parentId() == base.longValue();
    }

}
