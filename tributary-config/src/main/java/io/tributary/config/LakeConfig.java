package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;

/**
 * Where the lake lives: a local warehouse directory holding the Iceberg tables, the JDBC catalog's
 * SQLite file ({@code catalog.db}) and the raw layer ({@code raw/}); which optional layers are
 * written: the raw layer ({@code lake.raw}) and the SCD2 history tables {@code silver.<table>_history}
 * ({@code lake.history}); and the {@code stateDir} ({@code state-dir}) where a process keeps what
 * it can always build again from the lake (key indexes, the reconnecting status), outside the warehouse.
 */
public record LakeConfig(Path warehouse, RawLayer raw, HistoryLayer history, Path stateDir) {
    public LakeConfig {
        requireNonNull(warehouse, "warehouse is null");
        requireNonNull(raw, "raw is null");
        requireNonNull(history, "history is null");
        requireNonNull(stateDir, "stateDir is null");
    }

    /** With the {@link #defaultStateDir} of the warehouse. */
    public LakeConfig(Path warehouse, RawLayer raw, HistoryLayer history) {
        this(warehouse, raw, history, defaultStateDir(warehouse));
    }

    /** With the history layer {@link HistoryLayer#ENABLED}, its default. */
    public LakeConfig(Path warehouse, RawLayer raw) {
        this(warehouse, raw, HistoryLayer.ENABLED);
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
