package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * Where the lake lives: a local warehouse directory holding the Iceberg tables, the JDBC catalog's
 * SQLite file ({@code catalog.db}) and the raw layer ({@code raw/}); and which optional layers are
 * written: the raw layer ({@code lake.raw}) and the SCD2 history tables {@code silver.<table>_history}
 * ({@code lake.history}).
 */
public record LakeConfig(Path warehouse, RawLayer raw, HistoryLayer history) {
    public LakeConfig {
        requireNonNull(warehouse, "warehouse is null");
        requireNonNull(raw, "raw is null");
        requireNonNull(history, "history is null");
    }

    /** With the history layer {@link HistoryLayer#ENABLED}, its default. */
    public LakeConfig(Path warehouse, RawLayer raw) {
        this(warehouse, raw, HistoryLayer.ENABLED);
    }

    /** Whether the raw layer (NDJSON change events) is written. */
    public enum RawLayer { ENABLED, DISABLED }

    /** Whether {@code silver.<table>_history} (every version of every row, SCD type 2) is written beside silver. */
    public enum HistoryLayer { ENABLED, DISABLED }
}
