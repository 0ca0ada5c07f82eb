package io.tributary.spi;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.Optional;

/**
 * What a {@link ChangeSource} resumes from and how it delivers, as the pipeline knows it from the
 * lake when it opens the source.
 *
 * @param resumeOffset         the source offset the lake committed last; empty for a lake without
 *                             a commit (the source starts with an initial snapshot)
 * @param committed            the lake's watermark: events at or before it are in the lake
 * @param keepRawEvents        whether events carry their {@link RawRecord} (the raw layer is on)
 * @param heartbeatAtMost      the longest a quiet source may go without delivering its position
 * @param maxBatchEvents       the most events one {@link ChangeBatch} may hold, at least 1
 * @param previousEndedAbruptly whether the pipeline's previous session ended without releasing the
 *                             lake (a crash, a lost connection): the source may then have
 *                             confirmed positions the lake never recorded
 * @param objectStore          the lake's object storage ({@code lake.s3}), for sources that read
 *                             files from it; empty where the pipeline has no lake
 */
public record SourceSession(
        Optional<SourceOffset> resumeOffset,
        SourcePosition committed,
        boolean keepRawEvents,
        Duration heartbeatAtMost,
        int maxBatchEvents,
        boolean previousEndedAbruptly,
        Optional<ObjectStore> objectStore) {

    /** A session without object storage. */
    public SourceSession(Optional<SourceOffset> resumeOffset, SourcePosition committed, boolean keepRawEvents, Duration heartbeatAtMost, int maxBatchEvents,
                         boolean previousEndedAbruptly) {
        this(resumeOffset, committed, keepRawEvents, heartbeatAtMost, maxBatchEvents, previousEndedAbruptly, Optional.empty());
    }

    public SourceSession {
        requireNonNull(resumeOffset, "resumeOffset is null");
        requireNonNull(committed, "committed is null");
        requireNonNull(heartbeatAtMost, "heartbeatAtMost is null");
        requireNonNull(objectStore, "objectStore is null");
        if (maxBatchEvents < 1) {
            throw new IllegalArgumentException("maxBatchEvents must be positive, got " + maxBatchEvents);
        }
    }
}
