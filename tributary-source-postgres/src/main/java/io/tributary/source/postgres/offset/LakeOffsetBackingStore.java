package io.tributary.source.postgres.offset;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.connect.runtime.WorkerConfig;
import org.apache.kafka.connect.storage.MemoryOffsetBackingStore;

/**
 * Debezium's offset store for Tributary: in memory only, seeded at start with the offset the lake
 * committed last. The lake is the one durable record of where to resume, so no offset file can be
 * ahead of it. Debezium instantiates this class by name; the seed is handed over through
 * {@link #seed(String, Map)} under the id given in the {@value #SEED_ID} property.
 */
public final class LakeOffsetBackingStore extends MemoryOffsetBackingStore {
    public static final String SEED_ID = "tributary.offset.seed.id";
    private static final Map<String, Map<ByteBuffer, ByteBuffer>> SEEDS = new ConcurrentHashMap<>();

    public static void seed(String id, Map<ByteBuffer, ByteBuffer> data) {
        SEEDS.put(id, Map.copyOf(data));
    }

    public static void forget(String id) {
        SEEDS.remove(id);
    }

    @Override
    public java.util.Set<Map<String, Object>> connectorPartitions(String connectorName) {
        return java.util.Set.of();
    }

    @Override
    public void configure(WorkerConfig config) {
        super.configure(config);
        String id = config.originalsStrings().get(SEED_ID);
        Map<ByteBuffer, ByteBuffer> seed = id == null ? null : SEEDS.get(id);
        if (seed != null) {
            data.putAll(seed);
        }
    }
}
