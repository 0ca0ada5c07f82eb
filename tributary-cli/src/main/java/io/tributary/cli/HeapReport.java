package io.tributary.cli;

import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;

/**
 * With {@code -D}{@value #PROPERTY}{@code =true}, reports the heap a run used when it ends: the sum
 * of the heap pools' peak usage (an upper bound of the peak, garbage included) and the most heap in
 * use right after a full garbage collection (what the process actually held). For tests and tuning.
 */
final class HeapReport {
    static final String PROPERTY = "tributary.heap-report";

    private final List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans().stream().filter(p -> p.getType() == MemoryType.HEAP).toList();
    private final AtomicLong peakAfterGc = new AtomicLong();

    private HeapReport() {
        Set<String> heapPools = pools.stream().map(MemoryPoolMXBean::getName).collect(Collectors.toSet());
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) gc).addNotificationListener((notification, handback) -> {
                if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                    return;
                }
                GarbageCollectionNotificationInfo info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                // Only a full collection leaves nothing but live objects: after a young one the old
                // generation still holds its garbage.
                if (info.getGcAction().contains("major")) {
                    long used = info.getGcInfo().getMemoryUsageAfterGc()
                            .entrySet().stream().filter(e -> heapPools.contains(e.getKey())).mapToLong(e -> e.getValue().getUsed()).sum();
                    peakAfterGc.accumulateAndGet(used, Math::max);
                }
            }, null, null);
        }
    }

    /** Starts watching when the property is set; the returned report prints once, at close. */
    static AutoCloseable startIfRequested(java.io.PrintStream out) {
        if (!Boolean.getBoolean(PROPERTY)) {
            return () -> { };
        }
        HeapReport report = new HeapReport();
        return () -> out.printf("Peak heap: %d MiB (sum of heap pool peaks), %d MiB live after a full garbage collection, max %d MiB%n",
                report.pools.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum() >> 20, report.peakAfterGc.get() >> 20,
                Runtime.getRuntime().maxMemory() >> 20);
    }
}
