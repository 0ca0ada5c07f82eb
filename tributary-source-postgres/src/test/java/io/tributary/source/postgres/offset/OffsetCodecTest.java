package io.tributary.source.postgres.offset;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.spi.SourceOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Regression: a Debezium 3 offset stored mid-snapshot ({@code "snapshot": "INITIAL"}) was taken for
 * a streaming offset, so a restart after a crash during the initial snapshot kept the old slot and
 * snapshotted without its exported snapshot: CrashRecoveryIT found updates in bronze after snapshot
 * reads that already held them.
 */
class OffsetCodecTest {
    @Test
    void anOffsetStoredDuringTheInitialSnapshotIsMidSnapshotInEitherDebeziumForm() {
        assertThat(OffsetCodec.midSnapshot(offset(Map.of("snapshot", "INITIAL", "last_snapshot_record", false, "snapshot_completed", false)))).isTrue();
        assertThat(OffsetCodec.midSnapshot(offset(Map.of("snapshot", true, "last_snapshot_record", false)))).isTrue();
    }

    @Test
    void anOffsetAfterTheLastSnapshotRecordOrWhileStreamingIsNot() {
        assertThat(OffsetCodec.midSnapshot(offset(Map.of("snapshot", "INITIAL", "last_snapshot_record", true, "snapshot_completed", false)))).isFalse();
        assertThat(OffsetCodec.midSnapshot(offset(Map.of("snapshot", "INITIAL", "last_snapshot_record", false, "snapshot_completed", true)))).isFalse();
        assertThat(OffsetCodec.midSnapshot(offset(Map.of("snapshot", true, "last_snapshot_record", true)))).isFalse();
        assertThat(OffsetCodec.midSnapshot(offset(Map.of()))).isFalse();
        // Regression (ResumableSnapshotIT): Debezium 3 keeps "snapshot": "INITIAL" in the offsets of
        // the stream that runs a chunked snapshot; dropping the slot for it lost the stream's position.
        assertThat(OffsetCodec.midSnapshot(offset(Map.of("snapshot", "INITIAL", "last_snapshot_record", false, "snapshot_completed", false,
                "incremental_snapshot_collections", "[{\"incremental_snapshot_collections_id\":\"public.big\"}]")))).isFalse();
    }

    private static SourceOffset offset(Map<String, Object> snapshotKeys) {
        Map<String, Object> offset = new LinkedHashMap<>(Map.of("lsn", 12345L, "txId", 7L, "ts_usec", 1L));
        offset.putAll(snapshotKeys);
        return OffsetCodec.encode(Map.of("server", "tributary"), offset);
    }
}
