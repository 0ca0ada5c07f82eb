package io.tributary.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * Samples used heap every 50 ms on a daemon thread and keeps the peak (which includes garbage not
 * yet collected), and keeps the peak heap in use right after a garbage collection (what the
 * pipeline actually holds).
 */
final class HeapSampler {
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final Thread thread;
    private volatile long peak;
    private volatile long peakAfterGc;
    private volatile boolean running = true;

    private HeapSampler() {
        thread = new Thread(() -> {
            while (running) {
                peak = Math.max(peak, memory.getHeapMemoryUsage().getUsed());
                java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
            }
        }, "tributary-bench-heap");
        thread.setDaemon(true);
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener((notification, handback) -> {
                if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                    GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                    long used = info.getGcInfo().getMemoryUsageAfterGc().entrySet().stream()
                            .filter(e -> isHeap(e.getKey())).mapToLong(e -> e.getValue().getUsed()).sum();
                    peakAfterGc = Math.max(peakAfterGc, used);
                }
            }, null, null);
        }
    }

    private static boolean isHeap(String pool) {
        return ManagementFactory.getMemoryPoolMXBeans().stream()
                .anyMatch(p -> p.getName().equals(pool) && p.getType() == java.lang.management.MemoryType.HEAP);
    }

    static HeapSampler start() {
        HeapSampler sampler = new HeapSampler();
        sampler.thread.start();
        return sampler;
    }

    long peakBytes() {
        return peak;
    }

    long peakAfterGcBytes() {
        return peakAfterGc;
    }

    void stop() {
        running = false;
    }
}
