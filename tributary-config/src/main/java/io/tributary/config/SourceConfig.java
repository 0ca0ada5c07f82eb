package io.tributary.config;

import io.tributary.spi.TableId;
import java.time.Duration;
import java.util.List;

/**
 * The {@code source} section of a pipeline: one record type per {@code source.type}, each with what
 * the pipeline itself needs of any source.
 */
public interface SourceConfig {
    /** The {@code source.type} these settings are for, e.g. {@code postgresql}. */
    String type();

    /** The tables to capture; empty means every table the source offers (a PostgreSQL publication's). */
    List<TableId> tables();

    /** The longest a quiet source goes without delivering its position. */
    Duration heartbeatInterval();

    /** How to reconnect when the source goes away. */
    ReconnectConfig reconnect();

    /**
     * Whether several pipelines share this source, each reading a part of it (lake workers of a
     * Kafka consumer group): the lake then keeps a position and a lease per part (shard) instead
     * of one for the whole lake. False by default.
     */
    default boolean sharedByWorkers() {
        return false;
    }

    /** The source for people, without secrets, e.g. {@code PostgreSQL at db1:5432 database shop}. */
    String describe();

    /** The secret the settings hold (a password), masked wherever the configuration is printed. */
    java.util.Optional<Secret> secret();
}
