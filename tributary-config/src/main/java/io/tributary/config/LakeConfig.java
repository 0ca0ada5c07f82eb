package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * Where the lake lives: the warehouse ({@code lake.warehouse}), a local directory or an
 * {@code s3://bucket/prefix} location, holding the Iceberg tables and the raw layer ({@code raw/});
 * how object storage is reached ({@code lake.s3}); the Iceberg catalog ({@code lake.catalog}, by
 * default a SQLite file {@code catalog.db} in a local warehouse); which optional layers are
 * written: the raw layer ({@code lake.raw}) and the SCD2 history tables {@code silver.<table>_history}
 * ({@code lake.history}); and the {@code stateDir} ({@code state-dir}) where a process keeps what
 * it can always build again from the lake (key indexes, the reconnecting status, the query file
 * cache), outside the warehouse.
 *
 * @param warehouse the warehouse's location: an absolute, normalized local path, or an
 *                  {@code s3://} URI without a trailing slash
 */
public record LakeConfig(String warehouse, S3Config s3, CatalogConfig catalog, RawLayer raw, HistoryLayer history, Path stateDir) {
    public LakeConfig {
        requireNonNull(warehouse, "warehouse is null");
        requireNonNull(s3, "s3 is null");
        requireNonNull(catalog, "catalog is null");
        requireNonNull(raw, "raw is null");
        requireNonNull(history, "history is null");
        requireNonNull(stateDir, "stateDir is null");
        if (isObjectStorage(warehouse)) {
            while (warehouse.endsWith("/")) {
                warehouse = warehouse.substring(0, warehouse.length() - 1);
            }
        } else {
            warehouse = Path.of(warehouse).toAbsolutePath().normalize().toString();
        }
    }

    /** A local warehouse directory with its embedded catalog. */
    public LakeConfig(Path warehouse, RawLayer raw, HistoryLayer history, Path stateDir) {
        this(warehouse.toAbsolutePath().normalize().toString(), S3Config.DEFAULT, CatalogConfig.LOCAL_DEFAULT, raw, history, stateDir);
    }

    /** With the {@link #defaultStateDir} of the warehouse. */
    public LakeConfig(Path warehouse, RawLayer raw, HistoryLayer history) {
        this(warehouse, raw, history, defaultStateDir(warehouse));
    }

    /** With the history layer {@link HistoryLayer#ENABLED}, its default. */
    public LakeConfig(Path warehouse, RawLayer raw) {
        this(warehouse, raw, HistoryLayer.ENABLED);
    }

    /** Whether {@code location} names object storage ({@code s3://}, {@code s3a://}) rather than a local directory. */
    public static boolean isObjectStorage(String location) {
        return location.startsWith("s3://") || location.startsWith("s3a://");
    }

    /** Whether the warehouse is a local directory. */
    public boolean isLocal() {
        return !isObjectStorage(warehouse);
    }

    /**
     * The local warehouse directory.
     *
     * @throws IllegalStateException for a warehouse on object storage
     */
    public Path localWarehouse() {
        if (!isLocal()) {
            throw new IllegalStateException("The warehouse " + warehouse + " is not a local directory");
        }
        return Path.of(warehouse);
    }

    /** This lake with another catalog, e.g. a test's. */
    public LakeConfig withCatalog(CatalogConfig other) {
        return new LakeConfig(warehouse, s3, other, raw, history, stateDir);
    }

    /**
     * The state directory of a lake configured without a file ({@link ConfigLoader} defaults to
     * {@code .tributary} beside the configuration file): {@code .<warehouse name>.tributary} beside
     * the warehouse, so it is never inside it.
     */
    public static Path defaultStateDir(Path warehouse) {
        Path absolute = warehouse.toAbsolutePath().normalize();
        Path name = absolute.getFileName();
        return name == null ? absolute.resolve(".tributary") : absolute.resolveSibling("." + name + ".tributary");
    }

    /** This process's state of pipeline {@code pipeline}: {@code <stateDir>/<pipeline>}. */
    public Path stateOf(String pipeline) {
        return stateDir.resolve(pipeline);
    }

    /** Whether the raw layer (NDJSON change events) is written. */
    public enum RawLayer { ENABLED, DISABLED }

    /** Whether {@code silver.<table>_history} (every version of every row, SCD type 2) is written beside silver. */
    public enum HistoryLayer { ENABLED, DISABLED }
}
