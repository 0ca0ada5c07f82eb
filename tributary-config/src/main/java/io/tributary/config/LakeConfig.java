package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * Where the lake lives: a local warehouse directory holding the Iceberg tables, the JDBC catalog's
 * SQLite file ({@code catalog.db}) and the raw layer ({@code raw/}).
 */
public record LakeConfig(Path warehouse, RawLayer raw) {
    public LakeConfig {
        requireNonNull(warehouse, "warehouse is null");
        requireNonNull(raw, "raw is null");
    }

    /** Whether the raw layer (NDJSON change events) is written. */
    public enum RawLayer { ENABLED, DISABLED }
}
