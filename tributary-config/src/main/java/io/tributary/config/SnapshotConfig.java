package io.tributary.config;

/**
 * How a pipeline's first run reads the tables' existing rows (its initial snapshot).
 *
 * <p>A table whose estimated row count ({@code pg_class.reltuples}) is above {@code resumableAbove}
 * rows, and that has a primary key, is read in chunks of {@code chunkSize} rows ordered by that key
 * while the stream already runs: Debezium's read-only incremental snapshot (Debezium documentation,
 * PostgreSQL connector, "Incremental snapshots" and "Read-only incremental snapshots"; needs
 * PostgreSQL 13 or later for {@code pg_current_snapshot()}). Its progress is committed with the
 * lake's data, so after a crash it resumes at the first chunk not committed. Every other table
 * (at most {@code resumableAbove} rows, without a primary key, or on PostgreSQL 12) is read by the
 * blocking snapshot from the replication slot's exported snapshot, which starts over after a crash.
 *
 * @param chunkSize      rows per chunk of an incremental snapshot ({@code incremental.snapshot.chunk.size}),
 *                       1 to 1,000,000; each chunk is held in memory until its window closes
 * @param resumableAbove row estimate above which a table's initial snapshot is resumable, 0 or more
 */
public record SnapshotConfig(int chunkSize, long resumableAbove) {
    /** Chunks of 10,000 rows; tables above 100,000 estimated rows resume after a crash. */
    public static final SnapshotConfig DEFAULT = new SnapshotConfig(10_000, 100_000);

    public SnapshotConfig {
        if (chunkSize < 1 || chunkSize > 1_000_000) {
            throw new IllegalArgumentException("Snapshot chunk size must be between 1 and 1000000 rows, got " + chunkSize);
        }
        if (resumableAbove < 0) {
            throw new IllegalArgumentException("Resumable snapshot threshold must not be negative, got " + resumableAbove);
        }
    }
}
