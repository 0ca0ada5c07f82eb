package io.tributary.lake.catalog;

import java.io.File;
import java.nio.file.Path;
import org.apache.iceberg.Files;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetReaders;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.parquet.Parquet;

/**
 * Locations of the local warehouse as paths. Files are read as local files: Iceberg's Hadoop file IO
 * would make Parquet load Hadoop's MapReduce input formats, which are not on the class path.
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

    public static InputFile input(CharSequence location) {
        File file = path(location.toString()).toFile();
        return Files.localInput(file);
    }

    /**
     * The rows of a Parquet data or delete file of the warehouse, projected on {@code projection}
     * by field id (columns the file lacks read as null); {@code filter} skips row groups only, so the
     * caller checks rows itself.
     */
    public static CloseableIterable<Record> readParquet(CharSequence location, Schema projection, Expression filter) {
        return Parquet.read(input(location)).project(projection).filter(filter)
                .createReaderFunc(fileSchema -> GenericParquetReaders.buildReader(projection, fileSchema)).build();
    }
}
