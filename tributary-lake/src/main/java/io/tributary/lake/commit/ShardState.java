package io.tributary.lake.commit;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the lake holds of one shard of a source that several lake workers share (a Kafka topic):
 * kept as JSON under {@code tributary.shard.<name>} in the summary of the state table's current
 * snapshot, beside the other shards, so one snapshot gives every shard's state at once.
 *
 * @param name        the shard, as the source names it (the topic)
 * @param position    the position the shard's tables are committed through ({@link SourcePosition#BEGINNING}: nothing yet)
 * @param consistent  the end of the last source transaction the shard's tables hold in full, not after {@code position}
 * @param offset      the shard's resume token; empty before its first commit
 * @param committedAt when the shard last recorded a commit
 * @param caughtUp    whether its worker had read all the shard held at that commit
 * @param tables      the lake names of the tables the shard's events went to (bronze, silver and history of each)
 * @param lease       the worker holding the shard; empty when released or never held
 * @param epoch       one more with every worker that took the shard; kept when released
 */
public record ShardState(String name, SourcePosition position, SourcePosition consistent, Optional<SourceOffset> offset, Instant committedAt,
                         boolean caughtUp, Set<String> tables, Optional<Lease> lease, long epoch) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public ShardState {
        requireNonNull(name, "name is null");
        requireNonNull(position, "position is null");
        requireNonNull(consistent, "consistent is null");
        requireNonNull(offset, "offset is null");
        requireNonNull(committedAt, "committedAt is null");
        tables = java.util.Collections.unmodifiableSet(new TreeSet<>(requireNonNull(tables, "tables is null")));
        requireNonNull(lease, "lease is null");
    }

    /** A shard the lake has not seen. */
    static ShardState fresh(String name) {
        return new ShardState(name, SourcePosition.BEGINNING, SourcePosition.BEGINNING, Optional.empty(), Instant.EPOCH, false, Set.of(),
                Optional.empty(), 0);
    }

    ShardState withLease(Optional<Lease> newLease, long newEpoch) {
        return new ShardState(name, position, consistent, offset, committedAt, caughtUp, tables, newLease, newEpoch);
    }

    ShardState withTables(Set<String> more) {
        Set<String> all = new TreeSet<>(tables);
        all.addAll(more);
        return new ShardState(name, position, consistent, offset, committedAt, caughtUp, all, lease, epoch);
    }

    ShardState committed(SourcePosition newPosition, SourcePosition newConsistent, SourceOffset newOffset, Instant at, boolean newCaughtUp) {
        return new ShardState(name, newPosition, newConsistent, Optional.of(newOffset), at, newCaughtUp, tables, lease, epoch);
    }

    /** Whether {@code owner} holds the shard in {@code atEpoch}. */
    boolean heldBy(String owner, long atEpoch) {
        return lease.isPresent() && lease.get().owner().equals(owner) && epoch == atEpoch;
    }

    String toJson() {
        ObjectNode node = JSON.createObjectNode();
        node.put("position", position.encoded());
        node.put("consistent", consistent.encoded());
        offset.ifPresent(o -> node.put("offset", o.token()));
        node.put("committed-at", committedAt.toString());
        node.put("caught-up", caughtUp);
        tables.forEach(node.putArray("tables")::add);
        node.put("epoch", epoch);
        lease.ifPresent(l -> {
            node.put("owner", l.owner());
            node.put("host", l.host());
            node.put("pid", l.pid());
            node.put("renewed-at", l.renewedAt().toString());
        });
        return node.toString();
    }

    /**
     * @throws TributaryException LAKE_COMMIT_FAILED when the state table holds something else under the shard's key
     */
    static ShardState fromJson(String name, String json) {
        try {
            JsonNode node = JSON.readTree(json);
            Set<String> tables = new TreeSet<>();
            if (node.has("tables")) {
                node.get("tables").forEach(t -> tables.add(t.asText()));
            }
            long epoch = node.path("epoch").asLong(0);
            Optional<Lease> lease = node.hasNonNull("owner") ? Optional.of(new Lease(node.get("owner").asText(), node.get("host").asText(),
                    node.get("pid").asLong(), Math.max(1, epoch), Instant.parse(node.get("renewed-at").asText()))) : Optional.empty();
            return new ShardState(name, SourcePosition.decode(node.get("position").asText()), SourcePosition.decode(node.get("consistent").asText()),
                    node.hasNonNull("offset") ? Optional.of(new SourceOffset(node.get("offset").asText())) : Optional.empty(),
                    Instant.parse(node.get("committed-at").asText()), node.path("caught-up").asBoolean(false), tables, lease, epoch);
        } catch (IOException | RuntimeException e) {
            throw new TributaryException(ErrorCode.LAKE_COMMIT_FAILED, "The state table " + StateTable.ID + " holds an unreadable state of shard "
                    + name + ": " + json + " (" + e.getMessage() + ")", e);
        }
    }
}
