package io.tributary.lake.scan;

import static java.util.Objects.requireNonNull;

/**
 * Where a row lives in a table snapshot: its data file's location (as the manifest names it) and
 * its ordinal in that file, starting at 0. What a position delete names (Iceberg spec, "Position
 * Delete Files": {@code file_path}, {@code pos}); ordered by file, then position, as the spec wants
 * them written.
 */
public record RowLocation(String file, long position) implements Comparable<RowLocation> {
    public RowLocation {
        requireNonNull(file, "file is null");
        if (position < 0) {
            throw new IllegalArgumentException("position is negative: " + position);
        }
    }

    @Override
    public int compareTo(RowLocation other) {
        // The locations of one micro-batch share a few String instances per file (the key index
        // numbers its files); comparing 150-character paths that share their prefix is the cost.
        int byFile = file == other.file ? 0 : file.compareTo(other.file);
        return byFile != 0 ? byFile : Long.compare(position, other.position);
    }
}
