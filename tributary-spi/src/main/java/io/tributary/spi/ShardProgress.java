package io.tributary.spi;

import static java.util.Objects.requireNonNull;

import java.util.Set;

/**
 * Where one shard of a source shared by several pipelines stands after a {@link ChangeBatch}: a
 * shard is the part of the source one pipeline reads alone (for Kafka, one topic, all its
 * partitions), named by the source; see {@link ChangeHandler#claim}.
 *
 * @param offset   the shard's resume token (for Kafka, the next offset of each of the topic's
 *                 partitions); a JSON object, so the lake can merge the tokens of all shards into
 *                 one for status and lag
 * @param tables   the tables the batch delivered events of from this shard (the lake rolls them
 *                 back to the shard's position when another pipeline takes the shard over)
 * @param caughtUp whether the pipeline had read everything the shard held when the batch was cut:
 *                 then the shard does not hold back the lake's consistent position
 */
public record ShardProgress(SourceOffset offset, Set<TableId> tables, boolean caughtUp) {
    public ShardProgress {
        requireNonNull(offset, "offset is null");
        tables = Set.copyOf(requireNonNull(tables, "tables is null"));
    }
}
