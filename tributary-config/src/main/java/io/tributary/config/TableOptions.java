package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;

/**
 * Per-table options for the silver layer.
 *
 * <ul>
 * <li>{@code renames}: source column name to silver column name (applied before snake_case).</li>
 * <li>{@code casts}: silver column name to a target type name ({@code string}, {@code long},
 * {@code int}, {@code double}, {@code decimal(p,s)}, {@code date}, {@code timestamp}).</li>
 * <li>{@code excluded}: source columns left out of silver (bronze keeps them).</li>
 * <li>{@code hashed}: source columns replaced in silver by the hex SHA-256 of their text form (PII).</li>
 * <li>{@code renamedFrom}: a source column's current name to its previous name, for a column renamed
 * in the source ({@code ALTER TABLE ... RENAME COLUMN}) while the pipeline streams: the lake column
 * is renamed and keeps its Iceberg field id and history. Without an entry, a column that disappears
 * while another appears in the same schema change stops the pipeline (INCOMPATIBLE_SCHEMA_CHANGE).</li>
 * </ul>
 */
public record TableOptions(Map<String, String> renames, Map<String, String> casts, List<String> excluded, List<String> hashed,
                           Map<String, String> renamedFrom) {
    public static final TableOptions DEFAULT = new TableOptions(Map.of(), Map.of(), List.of(), List.of(), Map.of());

    public TableOptions {
        renames = Map.copyOf(requireNonNull(renames, "renames is null"));
        casts = Map.copyOf(requireNonNull(casts, "casts is null"));
        excluded = List.copyOf(requireNonNull(excluded, "excluded is null"));
        hashed = List.copyOf(requireNonNull(hashed, "hashed is null"));
        renamedFrom = Map.copyOf(requireNonNull(renamedFrom, "renamedFrom is null"));
    }

    /** Options without renamed source columns. */
    public TableOptions(Map<String, String> renames, Map<String, String> casts, List<String> excluded, List<String> hashed) {
        this(renames, casts, excluded, hashed, Map.of());
    }
}
