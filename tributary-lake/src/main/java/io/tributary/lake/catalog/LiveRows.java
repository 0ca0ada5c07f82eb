package io.tributary.lake.catalog;

import java.io.File;
import java.net.URI;
import java.nio.file.Path;
import org.apache.iceberg.BaseTable;
import org.apache.iceberg.Files;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.StaticTableOperations;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;

/**
 * Reads the live rows of a table's current snapshot (row-level deletes applied) with Iceberg's
 * generic reader. The files are opened as local files: Iceberg's Hadoop file IO would make Parquet
 * load Hadoop's MapReduce input formats, which are not on the class path.
 */
public final class LiveRows {
    private LiveRows() {
    }

    /** Every live row of the table's current snapshot, as the catalog holds it now. */
    public static CloseableIterable<Record> of(Table table) {
        return of(table, Expressions.alwaysTrue());
    }

    /** The live rows of the table's current snapshot that match {@code filter}. */
    public static CloseableIterable<Record> of(Table table, Expression filter) {
        // Refreshed: table maintenance in another process may have compacted the table and expired
        // the snapshot this (cached) instance last saw, deleting its files.
        Table local = new BaseTable(new StaticTableOperations(((HasTableOperations) table).operations().refresh(), new LocalFileIO()), table.name());
        return IcebergGenerics.read(local).where(filter).build();
    }

    /** Read-only access to files of the local warehouse. */
    private static final class LocalFileIO implements FileIO {
        @Override
        public InputFile newInputFile(String path) {
            return Files.localInput(file(path));
        }

        @Override
        public OutputFile newOutputFile(String path) {
            throw new UnsupportedOperationException("Read-only file IO cannot write " + path);
        }

        @Override
        public void deleteFile(String path) {
            throw new UnsupportedOperationException("Read-only file IO cannot delete " + path);
        }

        private static File file(String path) {
            return path.startsWith("file:") ? Path.of(URI.create(path)).toFile() : new File(path);
        }
    }
}
