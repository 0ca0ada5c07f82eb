package io.tributary.spi;

import static java.util.Objects.requireNonNull;

/**
 * How far a source is ahead of the lake, as the source reports it.
 *
 * @param position the source's current position in its own notation (PostgreSQL: the WAL insert
 *                 LSN, {@code 0/16B3748}, from {@code pg_current_wal_lsn()})
 * @param bytes    the log between the lake's watermark and {@code position}, in bytes; 0 when the
 *                 lake is caught up
 */
public record SourceLag(String position, long bytes) {
    public SourceLag {
        requireNonNull(position, "position is null");
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must not be negative, got " + bytes);
        }
    }
}
