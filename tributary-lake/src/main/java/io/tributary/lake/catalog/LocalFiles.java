package io.tributary.lake.catalog;

import java.nio.file.Path;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.parquet.Parquet;

/**
 * Locations of a local warehouse as paths, and Parquet reads of warehouse files through a table's
 * {@link FileIO} (local or object storage alike).
 */
public final class LocalFiles {
    private LocalFiles() {
    }

    /** Whether a location is on the local file system: a path, or a {@code file:} URI. */
    public static boolean isLocal(String location) {
        return location.startsWith("/") || location.startsWith("file:");
    }

    /** The absolute, normalized path of a location written as a path or a {@code file:} URI. */
    public static Path path(String location) {
        String path = location;
        if (path.startsWith("file:")) {
            // Iceberg writes file:/a/b or file:///a/b, unencoded.
            path = path.substring("file:".length());
            while (path.startsWith("//")) {
                path = path.substring(1);
            }
        }
        return Path.of(path).toAbsolutePath().normalize();
    }

    /**
     * The rows of a Parquet data or delete file of the warehouse, read through the table's
     * {@code io}, projected on {@code projection} by field id (columns the file lacks read as null);
     * {@code filter} skips row groups only, so the caller checks rows itself.
     */
    public static CloseableIterable<Record> readParquet(FileIO io, CharSequence location, Schema projection, Expression filter) {
        return Parquet.read(io.newInputFile(location.toString())).project(projection).filter(filter)
                .createReaderFunc(fileSchema -> GenericParquetReaders.buildReader(projection, fileSchema)).build();
    }
}
