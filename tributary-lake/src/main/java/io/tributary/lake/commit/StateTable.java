package io.tributary.lake.commit;

import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pipeline's state table {@code tributary.state}: after every table of a micro-batch has
 * committed, an empty snapshot whose summary records the watermark, the source offset to resume
 * from, the commit time and the transaction-consistent position ({@value #CONSISTENT_POSITION};
 * absent in lakes written before it existed, where the watermark stands for it). Its current
 * snapshot is where a restart resumes and where readers read.
 *
 * <p>It also holds the lake's {@link Lease}: a pipeline {@link #acquire}s it at start (refused while
 * another owner's lease is live, taken over with the next epoch when it is stale), and every later
 * state commit is a compare-and-swap that first checks the lease is still its own, so a pipeline
 * that was presumed dead cannot record a watermark (and so never acknowledges) after another took over.
 */
public final class StateTable {
    public static final TableIdentifier ID = TableIdentifier.of("tributary", "state");
    /** A lease not renewed for this long is stale: another pipeline may take the lake over. */
    public static final Duration LEASE_TIMEOUT = Duration.ofSeconds(30);
    private volatile PreviousOwner previousOwner = PreviousOwner.RELEASED_OR_NONE;
    private static final Logger LOG = LoggerFactory.getLogger(StateTable.class);
    static final String COMMITTED_AT = "tributary.committed-at";
    /** Summary key of the role of the lease's holder: {@value #WORKER_ROLE} for a lake worker, absent for a pipeline that reads all of its source. */
    static final String ROLE = "tributary.lease.role";
    /** The lease is held by one of several lake workers (it then runs maintenance and gold for the lake). */
    static final String WORKER_ROLE = "lake-worker";
    /** Summary key of the end of the last source transaction every table holds in full. */
    public static final String CONSISTENT_POSITION = "tributary.consistent-position";
    /** Attempts of a state commit that another process's commit (table maintenance) got ahead of. */
    private static final int COMMIT_ATTEMPTS = 5;

    private final LakeCatalog catalog;
    private final String pipeline;
    private volatile Lease lease;
    /** {@link #WORKER_ROLE} once this process took the lease as a lake worker. */
    private volatile String role;

    public StateTable(LakeCatalog catalog, String pipeline) {
        this.catalog = catalog;
        this.pipeline = pipeline;
    }

    public Optional<CommittedState> read() {
        Optional<Table> table = catalog.load(ID);
        if (table.isEmpty()) {
            return Optional.empty();
        }
        Snapshot s = table.get().currentSnapshot();
        if (s == null || s.summary().get(SnapshotPositions.POSITION) == null) {
            return Optional.empty();
        }
        SourcePosition watermark = SourcePosition.decode(s.summary().get(SnapshotPositions.POSITION));
        String consistent = s.summary().get(CONSISTENT_POSITION);
        return Optional.of(new CommittedState(
                watermark,
                new SourceOffset(s.summary().get(SnapshotPositions.OFFSET)),
                Instant.parse(s.summary().getOrDefault(COMMITTED_AT, Instant.ofEpochMilli(s.timestampMillis()).toString())),
                consistent == null ? watermark : SourcePosition.decode(consistent)));
    }

    /** Records a watermark that ends between transactions: consistent through itself. */
    public void record(SourcePosition watermark, SourceOffset offset, Instant committedAt) {
        record(watermark, offset, committedAt, watermark);
    }

    /**
     * Records the watermark, offset and commit time with the transaction-consistent position.
     *
     * @throws IllegalArgumentException when {@code consistent} is after {@code watermark}
     */
    public void record(SourcePosition watermark, SourceOffset offset, Instant committedAt, SourcePosition consistent) {
        if (consistent.isAfter(watermark)) {
            throw new IllegalArgumentException("Consistent position " + consistent + " is after the watermark " + watermark);
        }
        Table table = ensure();
        if (lease == null) {
            catalog.commit(SnapshotPositions.stamp(table.newAppend(), pipeline, watermark)
                    .set(SnapshotPositions.OFFSET, offset.token())
                    .set(COMMITTED_AT, committedAt.toString())
                    .set(CONSISTENT_POSITION, consistent.encoded()));
            return;
        }
        commitHeld("record the watermark " + watermark, committedAt, previous -> {
            Map<String, String> next = carried(previous);
            next.putAll(Map.of(
                    SnapshotPositions.POSITION, watermark.encoded(),
                    SnapshotPositions.PIPELINE, pipeline,
                    SnapshotPositions.OFFSET, offset.token(),
                    COMMITTED_AT, committedAt.toString(),
                    CONSISTENT_POSITION, consistent.encoded()));
            return next;
        });
    }

    /**
     * Takes the lake for this process: refused while another owner's lease is live, taken over with
     * the next epoch when it is stale or released. The watermark and offset stay as they are.
     *
     * @throws TributaryException PIPELINE_FENCED naming the owner that holds the lake
     */
    public Lease acquire(Instant now) {
        ensure();
        String host = thisHost();
        Lease[] taken = new Lease[1];
        for (int attempt = 1; ; attempt++) {
            try {
                takeIfFree(now, host, taken);
                break;
            } catch (CommitFailedException e) {
                // Another process committed in between: the next attempt sees what, and refuses a live lease.
                if (attempt == COMMIT_ATTEMPTS) {
                    throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Cannot start pipeline " + pipeline + ": another pipeline took the lake in "
                            + catalog.warehouse() + " at the same moment. Run one pipeline per lake", e);
                }
            }
        }
        lease = taken[0];
        LOG.info("Pipeline {} owns the lake in {} as {}", pipeline, catalog.warehouse(), lease.describe());
        return lease;
    }

    /**
     * Takes the lake's lease for a lake worker (source.workers: group) when it is free: the holder
     * runs table maintenance and gold for the lake; the other workers only land their shards.
     *
     * @return whether this process holds the lease now
     */
    public boolean acquireAsWorker(Instant now) {
        ensure();
        if (lease != null) {
            return true;
        }
        Optional<Lease> current = Lease.of(catalog.currentSummary(ID));
        if (current.isPresent() && current.get().isLive(now, LEASE_TIMEOUT, thisHost())) {
            return false;
        }
        role = WORKER_ROLE;
        try {
            acquire(now);
            return true;
        } catch (TributaryException e) {
            if (e.errorCode() != ErrorCode.PIPELINE_FENCED) {
                throw e;
            }
            role = null;
            return false;
        }
    }

    private void takeIfFree(Instant now, String host, Lease[] taken) {
        catalog.appendIfUnchanged(ID, summary -> {
            if (role == null) {
                Shards.liveShard(summary, now).ifPresent(shard -> {
                    throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Cannot start pipeline " + pipeline + ": the lake in "
                            + catalog.warehouse() + " is landed by lake workers (source.workers: group); shard " + shard.name() + " is held by "
                            + shard.lease().get().describe() + ". Give this pipeline source.workers: group too, or stop the workers first", null);
                });
            }
            Optional<Lease> held = Lease.of(summary);
            if (held.isPresent() && held.get().isLive(now, LEASE_TIMEOUT, host)) {
                throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Cannot start pipeline " + pipeline + ": the lake in "
                        + catalog.warehouse() + " is held by " + held.get().describe() + ", renewed "
                        + Duration.between(held.get().renewedAt(), now).toSeconds() + " s ago. Stop that pipeline first; if it died on another host, "
                        + "its lease expires " + LEASE_TIMEOUT.toSeconds() + " s after its last renewal", null);
            }
            previousOwner = held.isPresent() ? PreviousOwner.ENDED_WITHOUT_RELEASE : PreviousOwner.RELEASED_OR_NONE;
            held.ifPresent(stale -> LOG.warn("Taking over the lake from {}, whose lease was last renewed at {}: it is presumed dead. "
                    + "If it still runs, it stops at its next commit", stale.describe(), stale.renewedAt()));
            taken[0] = new Lease(UUID.randomUUID().toString(), host, ProcessHandle.current().pid(), Lease.epochOf(summary) + 1, now);
            Map<String, String> next = carried(summary);
            next.putAll(fields(taken[0]));
            return next;
        });
    }

    /** Renews the lease if it was last renewed before {@code olderThan}; nothing without a lease. */
    public void renew(Instant now, Instant olderThan) {
        if (lease != null && lease.renewedAt().isBefore(olderThan)) {
            commitHeld("renew its lease", now, StateTable::carried);
        }
    }

    /**
     * Checks, against the catalog as it is now, that this process still owns the lake.
     *
     * @throws TributaryException PIPELINE_FENCED when another pipeline took it over
     */
    public void verify(String action) {
        if (lease != null) {
            verifyHeld(catalog.currentSummary(ID), action);
        }
    }

    /** Marks the lease released, so the next pipeline starts at once; nothing without a lease. */
    public void release(Instant now) {
        if (lease == null) {
            return;
        }
        Lease held = lease;
        commitHeld("release its lease", now, previous -> {
            Map<String, String> next = carried(previous);
            next.put(Lease.RELEASED, "true");
            return next;
        });
        lease = null;
        LOG.info("Pipeline {} released the lake ({})", pipeline, held.describe());
    }

    /** How the owner before this one left the lake; known once {@link #acquire} returned. */
    public PreviousOwner previousOwner() {
        return previousOwner;
    }

    /** How the previous owner of a lake left it. */
    public enum PreviousOwner {
        /** It released its lease on a clean stop, or the lake had no owner. */
        RELEASED_OR_NONE,
        /** It died (crash, SIGKILL, lost host) holding the lease. */
        ENDED_WITHOUT_RELEASE
    }

    public Optional<Lease> lease() {
        return Optional.ofNullable(lease);
    }

    private void commitHeld(String action, Instant now, UnaryOperator<Map<String, String>> fields) {
        Lease renewed = lease.renewed(now);
        for (int attempt = 1; ; attempt++) {
            try {
                catalog.appendIfUnchanged(ID, summary -> {
                    verifyHeld(summary, action);
                    Map<String, String> next = new HashMap<>(fields.apply(summary));
                    fields(renewed).forEach(next::putIfAbsent);
                    return next;
                });
                break;
            } catch (CommitFailedException e) {
                // Another process committed in between. A takeover replaces the lease, so the check
                // fails then; with the lease still ours it was table maintenance (snapshot expiry),
                // which keeps the current snapshot: try again on top of it.
                verifyHeld(catalog.currentSummary(ID), action);
                if (attempt == COMMIT_ATTEMPTS) {
                    throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Cannot " + action + " for pipeline " + pipeline
                            + ": other processes committed to " + ID + " " + COMMIT_ATTEMPTS + " times in a row at the same moment. Run one pipeline per lake", e);
                }
            }
        }
        lease = renewed;
    }

    private void verifyHeld(Map<String, String> summary, String action) {
        Optional<Lease> current = Lease.of(summary);
        if (current.isPresent() && current.get().owner().equals(lease.owner()) && current.get().epoch() == lease.epoch()) {
            return;
        }
        String holder = current.map(l -> "it is held by " + l.describe() + " since " + l.renewedAt())
                .orElse("its lease was released or replaced by another process (epoch " + Lease.epochOf(summary) + ")");
        throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Cannot " + action + " for pipeline " + pipeline + ": this process ("
                + lease.describe() + ") no longer owns the lake in " + catalog.warehouse() + "; " + holder
                + ". It stops without acknowledging; the pipeline that took over goes on from the lake", null);
    }

    /**
     * Every Tributary key of a state snapshot's summary but the lease's (watermark, offset, commit
     * time, shards), to be kept by a snapshot that changes something else.
     */
    static Map<String, String> carried(Map<String, String> summary) {
        Map<String, String> out = new HashMap<>();
        summary.forEach((key, value) -> {
            if (key.startsWith("tributary.") && !key.startsWith(LEASE_PREFIX) && value != null) {
                out.put(key, value);
            }
        });
        return out;
    }

    /** The lease's keys of a state snapshot's summary. */
    static Map<String, String> leaseKeys(Map<String, String> summary) {
        Map<String, String> out = new HashMap<>();
        summary.forEach((key, value) -> {
            if (key.startsWith(LEASE_PREFIX) && value != null) {
                out.put(key, value);
            }
        });
        return out;
    }

    private static final String LEASE_PREFIX = "tributary.lease.";

    private Map<String, String> fields(Lease lease) {
        Map<String, String> out = new HashMap<>(Map.of(Lease.OWNER, lease.owner(), Lease.HOST, lease.host(), Lease.PID, Long.toString(lease.pid()),
                Lease.EPOCH, Long.toString(lease.epoch()), Lease.RENEWED_AT, lease.renewedAt().toString()));
        if (role != null) {
            out.put(ROLE, role);
        }
        return out;
    }

    private Table ensure() {
        return catalog.ensure(ID, new Schema(List.of(Types.NestedField.optional(1, "unused", Types.StringType.get())), Set.of()),
                s -> PartitionSpec.unpartitioned());
    }

    static String thisHost() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return Optional.ofNullable(System.getenv("HOSTNAME")).orElse("localhost");
        }
    }
}
