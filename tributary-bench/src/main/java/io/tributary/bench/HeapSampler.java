package io.tributary.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;

/** Samples used heap every 50 ms on a daemon thread and keeps the peak. */
final class HeapSampler {
    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final Thread thread;
    private volatile long peak;
    private volatile boolean running = true;

    private HeapSampler() {
        thread = new Thread(() -> {
            while (running) {
                peak = Math.max(peak, memory.getHeapMemoryUsage().getUsed());
                java.util.concurrent.locks.LockSupport.parkNanos(50_000_000L);
            }
        }, "tributary-bench-heap");
        thread.setDaemon(true);
    }

    static HeapSampler start() {
        HeapSampler sampler = new HeapSampler();
        sampler.thread.start();
        return sampler;
    }

    long peakBytes() {
        return peak;
    }

    void stop() {
        running = false;
    }
}
