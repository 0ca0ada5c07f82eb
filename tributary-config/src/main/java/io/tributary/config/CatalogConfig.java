package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * The Iceberg catalog that holds the lake's tables ({@code lake.catalog}).
 *
 * <ul>
 *   <li>{@link Type#JDBC}: Iceberg's JDBC catalog. Without {@code uri}, a SQLite file
 *       {@code catalog.db} in a local warehouse; with {@code jdbc:postgresql://…}, a PostgreSQL
 *       database several processes and engines share. A commit is a compare-and-swap of the
 *       table's metadata location in one UPDATE.</li>
 *   <li>{@link Type#REST}: an Iceberg REST catalog (Apache Polaris, Nessie, Lakekeeper, Gravitino,
 *       AWS S3 Tables, Unity) at {@code uri}, authenticated by a bearer {@code token} or OAuth2
 *       client {@code credential} ({@code client_id:client_secret}); {@code warehouse} names the
 *       catalog's warehouse where the server serves several. A commit carries the version it
 *       replaces as a requirement (REST spec, {@code updateTable}), so it is a compare-and-swap too.</li>
 * </ul>
 */
public record CatalogConfig(Type type, Optional<String> uri, Optional<String> user, Optional<Secret> password, Optional<Secret> token,
                            Optional<Secret> credential, Optional<String> warehouse) {
    /** The catalog of a local warehouse without a {@code lake.catalog} section: SQLite in {@code <warehouse>/catalog.db}. */
    public static final CatalogConfig LOCAL_DEFAULT = new CatalogConfig(Type.JDBC, Optional.empty(), Optional.empty(), Optional.empty(),
            Optional.empty(), Optional.empty(), Optional.empty());

    public CatalogConfig {
        requireNonNull(type, "type is null");
        requireNonNull(uri, "uri is null");
        requireNonNull(user, "user is null");
        requireNonNull(password, "password is null");
        requireNonNull(token, "token is null");
        requireNonNull(credential, "credential is null");
        requireNonNull(warehouse, "warehouse is null");
    }

    /** A PostgreSQL (or other JDBC) catalog at {@code uri}. */
    public static CatalogConfig jdbc(String uri, String user, Optional<Secret> password) {
        return new CatalogConfig(Type.JDBC, Optional.of(uri), Optional.of(user), password, Optional.empty(), Optional.empty(), Optional.empty());
    }

    /** Whether this is the SQLite file of a local warehouse. */
    public boolean isEmbedded() {
        return type == Type.JDBC && uri.isEmpty();
    }

    /** Where the catalog is, for messages: its URI without credentials, or the embedded file. */
    public String describe() {
        return uri.map(u -> type.name().toLowerCase(java.util.Locale.ROOT) + " catalog " + u).orElse("embedded SQLite catalog");
    }

    public enum Type { JDBC, REST }
}
