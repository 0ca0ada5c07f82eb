package io.tributary.config;

import static java.util.Objects.requireNonNull;

import io.tributary.spi.TableId;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where and how to capture a PostgreSQL database: connection, the tables to capture (empty means
 * every table of the publication), and the names of the publication and logical replication slot
 * (PostgreSQL "Logical Replication", chapter 31), how to reconnect when the source goes away, and
 * how the initial snapshot reads large tables ({@link SnapshotConfig}).
 */
public record PostgresSourceConfig(
        String host,
        int port,
        String database,
        String user,
        Optional<Secret> password,
        SslMode sslMode,
        List<TableId> tables,
        String slotName,
        String publicationName,
        Duration heartbeatInterval,
        Duration connectTimeout,
        ReconnectConfig reconnect,
        SnapshotConfig snapshot) implements SourceConfig {
    /** The {@code source.type} of PostgreSQL (the default; {@code postgresql} is accepted too). */
    public static final String TYPE = "postgres";

    public PostgresSourceConfig {
        requireNonNull(host, "host is null");
        requireNonNull(database, "database is null");
        requireNonNull(user, "user is null");
        requireNonNull(password, "password is null");
        requireNonNull(sslMode, "sslMode is null");
        tables = List.copyOf(requireNonNull(tables, "tables is null"));
        requireNonNull(slotName, "slotName is null");
        requireNonNull(publicationName, "publicationName is null");
        requireNonNull(heartbeatInterval, "heartbeatInterval is null");
        requireNonNull(connectTimeout, "connectTimeout is null");
        requireNonNull(reconnect, "reconnect is null");
        requireNonNull(snapshot, "snapshot is null");
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("Port must be between 1 and 65535, got " + port);
        }
    }

    /** As the canonical constructor, reconnecting by {@link ReconnectConfig#DEFAULT}. */
    public PostgresSourceConfig(String host, int port, String database, String user, Optional<Secret> password, SslMode sslMode, List<TableId> tables,
                                String slotName, String publicationName, Duration heartbeatInterval, Duration connectTimeout) {
        this(host, port, database, user, password, sslMode, tables, slotName, publicationName, heartbeatInterval, connectTimeout, ReconnectConfig.DEFAULT);
    }

    /** As the canonical constructor, snapshotting by {@link SnapshotConfig#DEFAULT}. */
    public PostgresSourceConfig(String host, int port, String database, String user, Optional<Secret> password, SslMode sslMode, List<TableId> tables,
                                String slotName, String publicationName, Duration heartbeatInterval, Duration connectTimeout, ReconnectConfig reconnect) {
        this(host, port, database, user, password, sslMode, tables, slotName, publicationName, heartbeatInterval, connectTimeout, reconnect, SnapshotConfig.DEFAULT);
    }

    /** The same source with another initial snapshot configuration. */
    public PostgresSourceConfig withSnapshot(SnapshotConfig other) {
        return new PostgresSourceConfig(host, port, database, user, password, sslMode, tables, slotName, publicationName, heartbeatInterval, connectTimeout, reconnect, other);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Optional<Secret> secret() {
        return password;
    }

    @Override
    public String describe() {
        return "PostgreSQL at " + host + ":" + port + " database " + database;
    }

    /** A JDBC URL without credentials, safe to print. */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database + "?sslmode=" + sslMode.libpqName();
    }
}
