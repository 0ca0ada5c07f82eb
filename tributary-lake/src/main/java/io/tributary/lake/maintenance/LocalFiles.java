package io.tributary.lake.maintenance;

import java.io.File;
import java.nio.file.Path;
import org.apache.iceberg.Files;
import org.apache.iceberg.io.InputFile;

/**
 * Locations of the local warehouse as paths. Files are read as local files: Iceberg's Hadoop file IO
 * would make Parquet load Hadoop's MapReduce input formats, which are not on the class path.
 */
public final class LocalFiles {
    private LocalFiles() {
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
}
