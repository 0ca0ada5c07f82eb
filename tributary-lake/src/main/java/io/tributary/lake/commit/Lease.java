package io.tributary.lake.commit;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;

/**
 * The fencing token of the pipeline that owns a lake: who holds it (a random owner id, the host and
 * process id), its epoch (one more with every takeover) and when it was last renewed. Kept in the
 * summary of every state table snapshot, so a commit that checks it and a commit that changes it are
 * ordered by the catalog.
 */
public record Lease(String owner, String host, long pid, long epoch, Instant renewedAt) {
    static final String OWNER = "tributary.lease.owner";
    static final String HOST = "tributary.lease.host";
    static final String PID = "tributary.lease.pid";
    static final String EPOCH = "tributary.lease.epoch";
    static final String RENEWED_AT = "tributary.lease.renewed-at";
    /** Set when the owner stopped cleanly: anyone may take over at once. */
    static final String RELEASED = "tributary.lease.released";

    public Lease {
        requireNonNull(owner, "owner is null");
        requireNonNull(host, "host is null");
        requireNonNull(renewedAt, "renewedAt is null");
        if (epoch < 1) {
            throw new IllegalArgumentException("Lease epoch must be positive, got " + epoch);
        }
    }

    /** The lease a state snapshot's summary records, if any (empty when it was released or never taken). */
    static Optional<Lease> of(Map<String, String> summary) {
        if (summary.get(OWNER) == null || summary.containsKey(RELEASED)) {
            return Optional.empty();
        }
        return Optional.of(new Lease(summary.get(OWNER), summary.get(HOST), Long.parseLong(summary.get(PID)),
                Long.parseLong(summary.get(EPOCH)), Instant.parse(summary.get(RENEWED_AT))));
    }

    /** The epoch a summary records, released or not; 0 for a lake no pipeline has owned. */
    static long epochOf(Map<String, String> summary) {
        return summary.get(EPOCH) == null ? 0 : Long.parseLong(summary.get(EPOCH));
    }

    Lease renewed(Instant at) {
        return new Lease(owner, host, pid, epoch, at);
    }

    /**
     * Whether the owner may still be alive: renewed within {@code timeout}, unless it ran on this
     * host and its process is gone (then a restart after a crash need not wait).
     */
    boolean isLive(Instant now, Duration timeout, String thisHost) {
        boolean processAlive = ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        if (host.equals(thisHost) && !processAlive) {
            return false;
        }
        return renewedAt.plus(timeout).isAfter(now);
    }

    /** For messages: owner, host, pid and epoch. */
    String describe() {
        return "owner " + owner + " (host " + host + ", pid " + pid + ", epoch " + epoch + ")";
    }
}
