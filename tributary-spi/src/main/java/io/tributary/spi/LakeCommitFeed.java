package io.tributary.spi;

import java.io.Closeable;
import java.time.Duration;
import java.util.List;

/**
 * Follows the lake commits another process announces through a {@link LakeCommitPublisher} (Kafka:
 * the {@code lake-commits} topic), from the announcements made after it was opened: what a process
 * that reacts to commits (a gold build, an orchestrator) reads. Not thread-safe.
 */
public interface LakeCommitFeed extends Closeable {
    /**
     * The announcements that arrived, in the order each table's were made, waiting up to
     * {@code timeout} for the first; empty when none arrived.
     *
     * @throws TributaryException {@link ErrorCode#SOURCE_FAILED} when the announcements cannot be read
     */
    List<LakeCommit> poll(Duration timeout);

    @Override
    void close();
}
