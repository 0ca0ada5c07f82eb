package io.tributary.source.postgres.engine;

import io.tributary.config.PostgresSourceConfig;
import io.tributary.source.postgres.offset.LakeOffsetBackingStore;
import io.tributary.spi.TableId;
import java.util.List;
import java.util.Properties;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The one place that builds Debezium's configuration for the PostgreSQL connector
 * (Debezium documentation, "PostgreSQL connector configuration properties").
 */
public final class DebeziumProperties {
    public static final String TOPIC_PREFIX = "tributary";
    public static final String FENCE_PREFIX = "tributary.fence";
    /** Prefix of the logical decoding messages that keep the slot moving while the captured tables are idle. */
    public static final String HEARTBEAT_PREFIX = "tributary.heartbeat";

    private DebeziumProperties() {
    }

    /**
     * @param heartbeat how often Debezium emits a heartbeat while idle, so buffered batches are
     *                  committed on time and the slot is acknowledged even without changes
     */
    public static Properties build(PostgresSourceConfig config, List<TableId> tables, String seedId, java.time.Duration heartbeat) {
        return build(config, tables, seedId, heartbeat, java.util.Map.of());
    }

    /**
     * @param identityKeys key columns of tables identified by a replica identity index: Debezium keys
     *                     their events by these columns ({@code message.key.columns}) instead of the
     *                     primary key, which their old row images need not contain
     */
    public static Properties build(PostgresSourceConfig config, List<TableId> tables, String seedId, java.time.Duration heartbeat,
                                   java.util.Map<TableId, List<String>> identityKeys) {
        Properties p = new Properties();
        if (!identityKeys.isEmpty()) {
            p.setProperty("message.key.columns", identityKeys.entrySet().stream()
                    .map(e -> Pattern.quote(e.getKey().toString()) + ":" + String.join(",", e.getValue())).collect(Collectors.joining(";")));
        }
        p.setProperty("name", config.slotName());
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", LakeOffsetBackingStore.class.getName());
        p.setProperty(LakeOffsetBackingStore.SEED_ID, seedId);
        p.setProperty("offset.flush.interval.ms", "0");
        p.setProperty("offset.flush.timeout.ms", "10000");
        p.setProperty("topic.prefix", TOPIC_PREFIX);
        p.setProperty("database.hostname", config.host());
        p.setProperty("database.port", Integer.toString(config.port()));
        p.setProperty("database.user", config.user());
        config.password().ifPresent(secret -> p.setProperty("database.password", secret.reveal()));
        p.setProperty("database.dbname", config.database());
        p.setProperty("database.sslmode", config.sslMode().libpqName());
        p.setProperty("database.connectTimeout", Long.toString(config.connectTimeout().toMillis()));
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", config.slotName());
        p.setProperty("publication.name", config.publicationName());
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("table.include.list", tables.stream().map(t -> Pattern.quote(t.toString())).collect(Collectors.joining(",")));
        p.setProperty("snapshot.mode", "initial");
        p.setProperty("decimal.handling.mode", "precise");
        p.setProperty("converters", io.tributary.source.postgres.convert.ExactNumericConverter.NAME);
        p.setProperty(io.tributary.source.postgres.convert.ExactNumericConverter.NAME + ".type", io.tributary.source.postgres.convert.ExactNumericConverter.class.getName());
        p.setProperty("time.precision.mode", "adaptive_time_microseconds");
        p.setProperty("binary.handling.mode", "bytes");
        p.setProperty("interval.handling.mode", "numeric");
        p.setProperty("hstore.handling.mode", "json");
        p.setProperty("provide.transaction.metadata", "true");
        p.setProperty("skipped.operations", "none");
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("column.propagate.source.type", ".*");
        p.setProperty("unavailable.value.placeholder", io.tributary.source.postgres.convert.UnavailablePlaceholder.TEXT);
        p.setProperty("heartbeat.interval.ms", Long.toString(heartbeat.toMillis()));
        p.setProperty("max.batch.size", "16384");
        p.setProperty("max.queue.size", "32768");
        // Bounds the queue by size too: a run of rows with huge values must not queue 32,768 of them.
        p.setProperty("max.queue.size.in.bytes", Long.toString(64L << 20));
        p.setProperty("poll.interval.ms", "50");
        p.setProperty("snapshot.fetch.size", "10240");
        p.setProperty("status.update.interval.ms", "1000");
        p.setProperty("slot.drop.on.stop", "false");
        p.setProperty("include.unknown.datatypes", "false");
        p.setProperty("errors.max.retries", "0");
        // Debezium 3 computes lag quantiles (DDSketch) from every streamed event on a thread of its
        // own; Tributary measures lag and freshness itself (status, commit log lines), so Debezium's
        // statistics are no-ops. (The events still pass its 1,000-entry queue, which logs a WARN per
        // event dropped when full: logback.xml quiets that logger.)
        p.setProperty("statistics.metrics.enabled", "false");
        // Signals come from the process itself (a table added to the pipeline asks for its snapshot).
        p.setProperty("signal.enabled.channels", InProcessSignalChannel.NAME);
        p.setProperty("signal.poll.interval.ms", "200");
        return p;
    }

    /**
     * Lets Debezium snapshot single tables while streaming: incremental snapshots in read-only mode
     * take their chunk windows from {@code pg_current_snapshot()} (PostgreSQL 13 or later) instead of
     * writing watermarks to a signal table, so the capturing role needs no write privilege
     * (Debezium documentation, "Read-only incremental snapshots"). A chunk is fetched in one round
     * trip, so {@code snapshot.fetch.size} is kept above the chunk size: Debezium (2.7.3, and
     * 3.6.1 still) reads a chunk of at least that many rows through a cursor that the streaming
     * thread's queries on the same connection close ({@code portal "C_n" does not exist}), then
     * skips the table and emits the rows it had buffered under the next table's name.
     *
     * @param chunkSize rows per chunk ({@code incremental.snapshot.chunk.size}), at least 1
     */
    public static Properties withIncrementalSnapshots(Properties properties, int chunkSize) {
        Properties p = new Properties();
        p.putAll(properties);
        p.setProperty("read.only", "true");
        p.setProperty("incremental.snapshot.chunk.size", Integer.toString(chunkSize));
        if (chunkSize >= Integer.parseInt(p.getProperty("snapshot.fetch.size"))) {
            p.setProperty("snapshot.fetch.size", Integer.toString(chunkSize + 1));
        }
        return p;
    }

    /**
     * Restricts the blocking initial snapshot to {@code tables} ({@code snapshot.include.collection.list});
     * with none, the slot is created and streamed without one ({@code snapshot.mode=no_data}). The
     * other tables are read by incremental snapshots once streaming runs.
     */
    public static Properties withBlockingSnapshotOf(Properties properties, List<TableId> tables) {
        Properties p = new Properties();
        p.putAll(properties);
        if (tables.isEmpty()) {
            p.setProperty("snapshot.mode", "no_data");
        } else {
            p.setProperty("snapshot.include.collection.list", tables.stream().map(t -> Pattern.quote(t.toString())).collect(Collectors.joining(",")));
        }
        return p;
    }
}
