package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * Table maintenance of the lake's Iceberg tables (section {@code maintenance:}): compaction of
 * small data files and of delete files, expiry of old table snapshots, removal of orphan files.
 *
 * <p>{@code interval}: how often a running pipeline runs it. {@code snapshotRetention} and
 * {@code minSnapshots}: a table snapshot is expired once it is older than the retention and not one
 * of the newest {@code minSnapshots} (the snapshots a resume or a consistent read needs are always
 * kept). {@code orphanAge}: a file no snapshot or metadata file references is removed once it is
 * older than this (a writer writes its files before it commits them, so this must exceed the
 * longest commit). {@code targetFileSize}: the size compaction writes data files of; a data file
 * below three quarters of it is small. A table (a partition, for a partitioned table) is compacted
 * once it has {@code minSmallFiles} small data files or {@code minDeleteFiles} delete files.
 */
public record MaintenanceConfig(Mode mode, Duration interval, Duration snapshotRetention, int minSnapshots, Duration orphanAge,
        DataSize targetFileSize, int minSmallFiles, int minDeleteFiles) {
    public static final MaintenanceConfig DEFAULT = new MaintenanceConfig(Mode.ENABLED, Duration.ofHours(1), Duration.ofHours(1), 10,
            Duration.ofDays(1), DataSize.ofMegabytes(128), 10, 10);

    public MaintenanceConfig {
        requireNonNull(mode, "mode is null");
        requireNonNull(interval, "interval is null");
        requireNonNull(snapshotRetention, "snapshotRetention is null");
        requireNonNull(orphanAge, "orphanAge is null");
        requireNonNull(targetFileSize, "targetFileSize is null");
        for (Duration d : new Duration[] {interval, snapshotRetention, orphanAge}) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("Maintenance durations must be positive, got " + d);
            }
        }
        if (minSnapshots < 1) {
            throw new IllegalArgumentException("minSnapshots must be at least 1, got " + minSnapshots);
        }
        if (minSmallFiles < 2) {
            throw new IllegalArgumentException("minSmallFiles must be at least 2, got " + minSmallFiles);
        }
        if (minDeleteFiles < 1) {
            throw new IllegalArgumentException("minDeleteFiles must be at least 1, got " + minDeleteFiles);
        }
    }

    /** Whether a running pipeline maintains its tables ({@code tributary maintain} runs either way). */
    public enum Mode { ENABLED, DISABLED }
}
