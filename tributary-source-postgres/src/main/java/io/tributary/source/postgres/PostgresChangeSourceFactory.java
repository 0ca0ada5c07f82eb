package io.tributary.source.postgres;

import io.tributary.config.PostgresSourceConfig;
import io.tributary.source.postgres.offset.OffsetCodec;
import io.tributary.source.postgres.slot.PostgresConnector;
import io.tributary.source.postgres.slot.ReplicationSetup;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ChangeSourceFactory;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceLag;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.SourceSession;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@code source.type: postgres}: logical replication through pgoutput (PostgreSQL "Logical
 * Replication", chapter 31), captured with Debezium's PostgreSQL connector.
 */
public final class PostgresChangeSourceFactory implements ChangeSourceFactory<PostgresSourceConfig> {
    @Override
    public String type() {
        return PostgresSourceConfig.TYPE;
    }

    @Override
    public Class<PostgresSourceConfig> settingsType() {
        return PostgresSourceConfig.class;
    }

    @Override
    public ChangeSource open(PostgresSourceConfig settings, SourceSession session) {
        return new PostgresChangeSource(settings, session.resumeOffset(), session.committed(),
                session.keepRawEvents() ? PostgresChangeSource.RawEvents.KEEP : PostgresChangeSource.RawEvents.DROP)
                .withHeartbeatAtMost(session.heartbeatAtMost())
                .withBatchesOfAtMost(session.maxBatchEvents())
                .after(session.previousEndedAbruptly() ? ReplicationSetup.PreviousSession.ENDED_ABRUPTLY : ReplicationSetup.PreviousSession.STOPPED_CLEANLY);
    }

    /** The WAL insert position ({@code pg_current_wal_lsn()}) and the bytes of WAL from the watermark to it. */
    @Override
    public SourceLag lag(PostgresSourceConfig settings, Optional<SourcePosition> watermark) {
        Lsn current = new ReplicationSetup(new PostgresConnector(settings)).currentWalLsn();
        long bytes = watermark.map(w -> Lsn.of(w).bytesUntil(current)).orElse(current.value());
        return new SourceLag(current.toString(), bytes);
    }

    /** Refuses while the pipeline's replication slot is active (a running pipeline streams from it). */
    @Override
    public void requireNotCapturing(PostgresSourceConfig settings, String pipelineName) {
        ReplicationSetup setup = new ReplicationSetup(new PostgresConnector(settings));
        if (setup.slot().map(ReplicationSetup.SlotState::active).orElse(false)) {
            throw new TributaryException(ErrorCode.PIPELINE_FENCED, "replication slot " + settings.slotName()
                    + " is in use by a running pipeline. Stop it");
        }
    }

    /**
     * Those a blocking initial snapshot was reading, those Debezium's incremental snapshot still
     * lists, and configured tables not captured yet.
     */
    @Override
    public List<TableId> snapshotting(PostgresSourceConfig settings, SourceOffset offset) {
        Set<TableId> running = new LinkedHashSet<>();
        Optional<List<TableId>> captured = OffsetCodec.tables(offset);
        if (OffsetCodec.midSnapshot(offset)) {
            captured.ifPresent(running::addAll);
        }
        running.addAll(OffsetCodec.incrementalSnapshotTables(offset));
        captured.ifPresent(c -> settings.tables().stream().filter(t -> !c.contains(t)).forEach(running::add));
        return List.copyOf(running);
    }
}
