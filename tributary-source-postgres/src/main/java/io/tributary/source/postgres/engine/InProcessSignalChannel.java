package io.tributary.source.postgres.engine;

import io.debezium.config.CommonConnectorConfig;
import io.debezium.pipeline.signal.SignalRecord;
import io.debezium.pipeline.signal.channels.SignalChannelReader;
import io.tributary.source.postgres.offset.LakeOffsetBackingStore;
import io.tributary.spi.TableId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.stream.Collectors;

/**
 * Hands Debezium signals from the process that runs the engine, without a signal table or topic:
 * Debezium loads this channel through {@link java.util.ServiceLoader} (enabled by
 * {@link #NAME} in {@code signal.enabled.channels}) and polls {@link #read()} every
 * {@code signal.poll.interval.ms}. Signals are queued per engine, keyed by the engine's seed id.
 */
public final class InProcessSignalChannel implements SignalChannelReader {
    public static final String NAME = "tributary-in-process";

    private static final Map<String, Queue<SignalRecord>> QUEUES = new ConcurrentHashMap<>();

    private String seedId;

    /** Queues an {@code execute-snapshot} signal asking for an incremental snapshot of {@code tables}. */
    public static void requestIncrementalSnapshot(String seedId, List<TableId> tables) {
        String collections = tables.stream().map(t -> "\"" + t + "\"").collect(Collectors.joining(","));
        SignalRecord signal = new SignalRecord(UUID.randomUUID().toString(), "execute-snapshot",
                "{\"data-collections\": [" + collections + "], \"type\": \"incremental\"}", Map.of());
        QUEUES.computeIfAbsent(seedId, id -> new ConcurrentLinkedQueue<>()).add(signal);
    }

    /** Drops the signals an engine did not read. */
    public static void forget(String seedId) {
        QUEUES.remove(seedId);
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public void init(CommonConnectorConfig connectorConfig) {
        seedId = connectorConfig.getConfig().getString(LakeOffsetBackingStore.SEED_ID);
    }

    @Override
    public List<SignalRecord> read() {
        Queue<SignalRecord> queue = seedId == null ? null : QUEUES.get(seedId);
        List<SignalRecord> out = new ArrayList<>();
        if (queue != null) {
            for (SignalRecord s = queue.poll(); s != null; s = queue.poll()) {
                out.add(s);
            }
        }
        return out;
    }

    @Override
    public void close() {
        // Nothing held: the queue belongs to the source that started the engine.
    }
}
