package io.tributary.lake.commit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shards of a lake landed by several lake workers (a Kafka source with
 * {@code source.workers: group}): one {@link ShardState} per shard in the state table's current
 * snapshot, each with the lease of the worker that owns it. A worker {@link #claim}s the shards
 * Kafka assigns it (refused while another worker's lease on one is live; a dead worker's is taken
 * over with the shard's next epoch), {@link #record}s their positions after each commit, and
 * {@link #release}s them when Kafka takes them away. Every change is a compare-and-swap of the
 * state table's current snapshot that carries the other shards along and first checks that the
 * shards it writes are still this worker's, so a worker presumed dead cannot record (and so never
 * acknowledges) a shard another worker took.
 *
 * <p>The lake's combined state (what {@link StateTable#read()} returns) is written with every
 * record: the watermark is the furthest shard position, the consistent position the least
 * consistent position of the shards not caught up (the furthest when all are), and the offset the
 * merge of the shards' tokens.
 */
public final class Shards {
    private static final Logger LOG = LoggerFactory.getLogger(Shards.class);
    static final String PREFIX = "tributary.shard.";
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Attempts of one change before giving up: every worker's commits and renewals race for the state table. */
    private static final int ATTEMPTS = 40;
    private static final Duration CLAIM_RETRY = Duration.ofMillis(500);

    private final LakeCatalog catalog;
    private final String pipeline;
    private final Supplier<Instant> clock;
    private final String owner = UUID.randomUUID().toString();
    private final String host = StateTable.thisHost();
    private final long pid = ProcessHandle.current().pid();
    /** The shards this worker holds, with the epoch it holds each in. */
    private final Map<String, Long> held = new ConcurrentHashMap<>();
    private volatile Instant renewedAt = Instant.EPOCH;
    /**
     * Held by each change together with its update of {@link #held}: a renewal on the commit
     * thread never sees a shard the capture thread has released but not yet forgotten.
     */
    private final Object lock = new Object();

    public Shards(LakeCatalog catalog, String pipeline, Supplier<Instant> clock) {
        this.catalog = catalog;
        this.pipeline = pipeline;
        this.clock = clock;
    }

    /** The lake names of {@code tables} (bronze, silver and history of each are the shard's). */
    public static Set<String> lakeNames(Set<io.tributary.spi.TableId> tables) {
        Set<String> names = new TreeSet<>();
        tables.forEach(t -> names.add(io.tributary.lake.layout.TableNames.lakeName(t)));
        return names;
    }

    /** The shards this worker holds now. */
    public Set<String> held() {
        return Set.copyOf(held.keySet());
    }

    /** Every shard the lake has a state of, by name. */
    public Map<String, ShardState> read() {
        return all(catalog.currentSummary(StateTable.ID));
    }

    static Map<String, ShardState> all(Map<String, String> summary) {
        Map<String, ShardState> out = new TreeMap<>();
        summary.forEach((key, value) -> {
            if (key.startsWith(PREFIX)) {
                String name = key.substring(PREFIX.length());
                out.put(name, ShardState.fromJson(name, value));
            }
        });
        return out;
    }

    /** A live lease on any shard of {@code summary}, by another process: a pipeline reading every topic must not start beside lake workers. */
    static Optional<ShardState> liveShard(Map<String, String> summary, Instant now) {
        String thisHost = StateTable.thisHost();
        return all(summary).values().stream().filter(s -> s.lease().isPresent() && s.lease().get().isLive(now, StateTable.LEASE_TIMEOUT, thisHost))
                .findFirst();
    }

    /**
     * Takes {@code names} for this worker, waiting while another live worker holds one (it
     * releases them when Kafka takes them from it, or its lease goes stale).
     *
     * @param patience how long to wait for shards held by another live worker
     * @return the state of every claimed shard, as the lake holds it
     * @throws TributaryException PIPELINE_FENCED when a shard is still held by a live worker after
     *         {@code patience}, or a pipeline that reads every topic holds the lake
     */
    public Map<String, ShardState> claim(Set<String> names, Duration patience) {
        Instant deadline = clock.get().plus(patience);
        while (true) {
            Instant now = clock.get();
            Map<String, ShardState> claimed = new TreeMap<>();
            Map<String, ShardState> busy = new TreeMap<>();
            Map<String, Lease> takenOver = new TreeMap<>();
            synchronized (lock) {
                change("claim shards " + names, summary -> {
                    claimed.clear();
                    busy.clear();
                    takenOver.clear();
                    Optional<Lease> lakeLease = Lease.of(summary);
                    if (lakeLease.isPresent() && !StateTable.WORKER_ROLE.equals(summary.get(StateTable.ROLE))
                            && lakeLease.get().isLive(now, StateTable.LEASE_TIMEOUT, host)) {
                        throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Cannot start lake worker " + pipeline + ": the lake in "
                                + catalog.warehouse() + " is held by " + lakeLease.get().describe() + ", a pipeline that reads every topic "
                                + "(source.workers: single). Stop it, or give every pipeline of this lake source.workers: group", null);
                    }
                    Map<String, ShardState> shards = all(summary);
                    Map<String, String> next = new HashMap<>();
                    for (String name : names) {
                        ShardState state = shards.getOrDefault(name, ShardState.fresh(name));
                        Optional<Lease> lease = state.lease();
                        if (lease.isPresent() && !lease.get().owner().equals(owner) && lease.get().isLive(now, StateTable.LEASE_TIMEOUT, host)) {
                            busy.put(name, state);
                            continue;
                        }
                        if (lease.isPresent() && !lease.get().owner().equals(owner)) {
                            takenOver.put(name, lease.get());
                        }
                        long epoch = state.epoch() + 1;
                        ShardState taken = state.withLease(Optional.of(new Lease(owner, host, pid, epoch, now)), epoch);
                        claimed.put(name, taken);
                        next.put(PREFIX + name, taken.toJson());
                    }
                    if (!busy.isEmpty()) {
                        return null;
                    }
                    return next;
                });
                if (busy.isEmpty()) {
                    claimed.forEach((name, state) -> held.put(name, state.epoch()));
                }
            }
            if (busy.isEmpty()) {
                takenOver.forEach((name, lease) -> LOG.warn("Took shard {} over from {}, whose lease was last renewed at {}: it is presumed dead. "
                        + "If it still runs, it stops at its next commit", name, lease.describe(), lease.renewedAt()));
                renewedAt = now;
                LOG.info("Lake worker {} ({}) holds shard(s) {}", pipeline, describeSelf(), claimed.keySet());
                return claimed;
            }
            if (!clock.get().isBefore(deadline)) {
                ShardState first = busy.values().iterator().next();
                throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Cannot take shard(s) " + busy.keySet() + " for lake worker " + pipeline
                        + ": shard " + first.name() + " is held by " + first.lease().get().describe() + ", renewed at " + first.lease().get().renewedAt()
                        + ", still live after " + patience.toSeconds() + " s. A worker releases its shards when Kafka moves them; one that died "
                        + "on another host gives them up " + StateTable.LEASE_TIMEOUT.toSeconds() + " s after its last renewal", null);
            }
            LOG.info("Shard(s) {} still held by another live worker ({}); waiting for it to release them", busy.keySet(),
                    busy.values().iterator().next().lease().get().describe());
            sleep(CLAIM_RETRY);
        }
    }

    /** Gives {@code names} up (those this worker still holds), so another worker takes them at once. */
    public void release(Set<String> names) {
        synchronized (lock) {
            releaseLocked(names);
        }
    }

    private void releaseLocked(Set<String> names) {
        Set<String> mine = new TreeSet<>(names);
        mine.retainAll(held.keySet());
        if (mine.isEmpty()) {
            return;
        }
        change("release shards " + mine, summary -> {
            Map<String, ShardState> shards = all(summary);
            Map<String, String> next = new HashMap<>();
            for (String name : mine) {
                ShardState state = shards.get(name);
                if (state != null && state.heldBy(owner, held.get(name))) {
                    next.put(PREFIX + name, state.withLease(Optional.empty(), state.epoch()).toJson());
                }
            }
            return next;
        });
        mine.forEach(held::remove);
        LOG.info("Lake worker {} released shard(s) {}", pipeline, mine);
    }

    /**
     * Before a commit of {@code tablesByShard}'s shards: checks against the catalog that this
     * worker still holds each (so a worker taken over commits no table), and adds tables to the
     * shards they come from before their first commit, so a worker that takes a shard over after a
     * crash finds every table it must bring back to the shard's position.
     *
     * @throws TributaryException PIPELINE_FENCED when a shard is no longer this worker's
     */
    public void register(Map<String, Set<String>> tablesByShard) {
        synchronized (lock) {
            registerLocked(tablesByShard);
        }
    }

    private void registerLocked(Map<String, Set<String>> tablesByShard) {
        Map<String, ShardState> current = read();
        tablesByShard.keySet().forEach(name -> requireHeld(current, name, "commit its tables"));
        boolean known = tablesByShard.entrySet().stream().allMatch(e -> current.containsKey(e.getKey())
                && current.get(e.getKey()).tables().containsAll(e.getValue()));
        if (known) {
            return;
        }
        change("register the tables of shards " + tablesByShard.keySet(), summary -> {
            Map<String, ShardState> shards = all(summary);
            Map<String, String> next = new HashMap<>();
            for (Map.Entry<String, Set<String>> e : tablesByShard.entrySet()) {
                ShardState state = requireHeld(shards, e.getKey(), "register its tables");
                next.put(PREFIX + e.getKey(), state.withTables(e.getValue()).toJson());
            }
            return next;
        });
    }

    /**
     * Records a commit of this worker's shards: each shard of {@code progress} is committed
     * through {@code through}, consistent through {@code consistent}; the lake's combined state is
     * written beside.
     *
     * @throws TributaryException PIPELINE_FENCED when a shard is no longer this worker's
     */
    public void record(SourcePosition through, SourcePosition consistent, Map<String, io.tributary.spi.ShardProgress> progress) {
        synchronized (lock) {
            recordLocked(through, consistent, progress);
        }
    }

    private void recordLocked(SourcePosition through, SourcePosition consistent, Map<String, io.tributary.spi.ShardProgress> progress) {
        Instant now = clock.get();
        change("record shards through " + through, summary -> {
            Map<String, ShardState> shards = all(summary);
            Map<String, String> next = new HashMap<>();
            for (Map.Entry<String, io.tributary.spi.ShardProgress> e : progress.entrySet()) {
                ShardState state = requireHeld(shards, e.getKey(), "record position " + through);
                Lease lease = state.lease().get().renewed(now);
                ShardState committed = state.withTables(lakeNames(e.getValue().tables())).withLease(Optional.of(lease), state.epoch())
                        .committed(through, consistent, e.getValue().offset(), now, e.getValue().caughtUp());
                shards.put(e.getKey(), committed);
                next.put(PREFIX + e.getKey(), committed.toJson());
            }
            renewInto(shards, next, now);
            next.putAll(combined(shards, now));
            return next;
        });
        renewedAt = now;
    }

    /** Renews this worker's shard leases when none was renewed since {@code olderThan}. */
    public void renew(Instant olderThan) {
        synchronized (lock) {
            renewLocked(olderThan);
        }
    }

    private void renewLocked(Instant olderThan) {
        if (held.isEmpty() || renewedAt.isAfter(olderThan)) {
            return;
        }
        Instant now = clock.get();
        change("renew the leases of shards " + held.keySet(), summary -> {
            Map<String, ShardState> shards = all(summary);
            Map<String, String> next = new HashMap<>();
            for (String name : held.keySet()) {
                requireHeld(shards, name, "renew its lease");
            }
            renewInto(shards, next, now);
            return next;
        });
        renewedAt = now;
    }

    /**
     * Checks against the catalog that this worker still holds {@code names}.
     *
     * @throws TributaryException PIPELINE_FENCED when one was taken over
     */
    public void verify(Set<String> names, String action) {
        synchronized (lock) {
            Map<String, ShardState> shards = read();
            for (String name : names) {
                requireHeld(shards, name, action);
            }
        }
    }

    private void renewInto(Map<String, ShardState> shards, Map<String, String> next, Instant now) {
        for (String name : held.keySet()) {
            ShardState state = shards.get(name);
            if (state != null && state.heldBy(owner, held.get(name)) && !next.containsKey(PREFIX + name)) {
                ShardState renewed = state.withLease(Optional.of(state.lease().get().renewed(now)), state.epoch());
                shards.put(name, renewed);
                next.put(PREFIX + name, renewed.toJson());
            }
        }
    }

    private ShardState requireHeld(Map<String, ShardState> shards, String name, String action) {
        Long epoch = held.get(name);
        ShardState state = shards.get(name);
        if (epoch != null && state != null && state.heldBy(owner, epoch)) {
            return state;
        }
        held.remove(name);
        String holder = state == null || state.lease().isEmpty() ? "it was released"
                : "it is held by " + state.lease().get().describe() + " since " + state.lease().get().renewedAt();
        throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Cannot " + action + " of shard " + name + " for lake worker " + pipeline
                + ": this process (" + describeSelf() + ") no longer holds it; " + holder + ". It stops without acknowledging; the worker that "
                + "took the shard goes on from the lake", null);
    }

    /** The lake's combined state of {@code shards}: see the class comment. */
    static Map<String, String> combined(Map<String, ShardState> shards, Instant now) {
        SourcePosition furthest = SourcePosition.BEGINNING;
        SourcePosition furthestConsistent = SourcePosition.BEGINNING;
        SourcePosition leastBehind = null;
        ObjectNode merged = JSON.createObjectNode();
        for (ShardState s : shards.values()) {
            if (s.offset().isEmpty()) {
                continue;
            }
            furthest = s.position().isAfter(furthest) ? s.position() : furthest;
            furthestConsistent = s.consistent().isAfter(furthestConsistent) ? s.consistent() : furthestConsistent;
            if (!s.caughtUp() && (leastBehind == null || leastBehind.isAfter(s.consistent()))) {
                leastBehind = s.consistent();
            }
            merge(merged, s.offset().get().token());
        }
        SourcePosition consistent = leastBehind == null ? furthestConsistent : leastBehind;
        Map<String, String> out = new HashMap<>();
        out.put(SnapshotPositions.POSITION, furthest.encoded());
        out.put(StateTable.CONSISTENT_POSITION, consistent.encoded());
        out.put(SnapshotPositions.OFFSET, merged.toString());
        out.put(StateTable.COMMITTED_AT, now.toString());
        return out;
    }

    /** Merges a JSON object token into {@code into}, objects field by field (tokens that are not JSON objects are left out). */
    private static void merge(ObjectNode into, String token) {
        try {
            JsonNode node = JSON.readTree(token);
            if (node instanceof ObjectNode object) {
                deepMerge(into, object);
            }
        } catch (IOException e) {
            LOG.debug("Shard offset {} is not JSON: left out of the lake's offset", token);
        }
    }

    private static void deepMerge(ObjectNode into, ObjectNode from) {
        from.properties().forEach(e -> {
            if (e.getValue() instanceof ObjectNode child && into.get(e.getKey()) instanceof ObjectNode existing) {
                deepMerge(existing, child);
            } else {
                into.set(e.getKey(), e.getValue().deepCopy());
            }
        });
    }

    /**
     * Applies {@code plan} to the state table's current summary and commits the keys it returns on
     * top of every Tributary key of that summary, again on a concurrent commit; a null plan commits nothing.
     */
    private void change(String action, UnaryOperator<Map<String, String>> plan) {
        for (int attempt = 1; ; attempt++) {
            try {
                catalog.appendIfUnchanged(StateTable.ID, summary -> {
                    Map<String, String> changes = plan.apply(summary);
                    if (changes == null) {
                        throw new NothingToCommit();
                    }
                    Map<String, String> next = StateTable.carried(summary);
                    StateTable.leaseKeys(summary).forEach(next::put);
                    next.putAll(changes);
                    return next;
                });
                return;
            } catch (NothingToCommit e) {
                return;
            } catch (CommitFailedException e) {
                if (attempt == ATTEMPTS) {
                    throw new TributaryException(ErrorCode.LAKE_COMMIT_FAILED, "Cannot " + action + " for lake worker " + pipeline + ": other "
                            + "processes committed to " + StateTable.ID + " " + ATTEMPTS + " times in a row at the same moment", e);
                }
                sleep(Duration.ofMillis(ThreadLocalRandom.current().nextLong(5, 20L * Math.min(attempt, 10))));
            }
        }
    }

    /** Ends a planned change that turned out to need no commit. */
    private static final class NothingToCommit extends RuntimeException {
        NothingToCommit() {
            super(null, null, false, false);
        }
    }

    private String describeSelf() {
        return "owner " + owner + " (host " + host + ", pid " + pid + ")";
    }

    private static void sleep(Duration wait) {
        try {
            Thread.sleep(wait.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TributaryException(ErrorCode.PIPELINE_FENCED, "Interrupted while waiting for shards of the lake", e);
        }
    }
}
