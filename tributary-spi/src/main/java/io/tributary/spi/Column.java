package io.tributary.spi;

import static java.util.Objects.requireNonNull;

/**
 * A column of a source table: its name as the source spells it, its logical type, whether it may
 * hold null, and the source's own type name (for messages and documentation only).
 */
public record Column(String name, ColumnType type, Nullability nullability, String sourceType) {
    /**
     * The prefix of the lineage columns a source adds to its rows (the files source's
     * {@code _source_file}, {@code _source_row}, {@code _source_date}): the lake keeps their
     * leading underscore, so they read like its own metadata columns.
     */
    public static final String LINEAGE_PREFIX = "_source_";

    public Column {
        requireNonNull(name, "name is null");
        requireNonNull(type, "type is null");
        requireNonNull(nullability, "nullability is null");
        requireNonNull(sourceType, "sourceType is null");
    }

    public static Column nullable(String name, ColumnType type, String sourceType) {
        return new Column(name, type, Nullability.NULLABLE, sourceType);
    }

    public static Column required(String name, ColumnType type, String sourceType) {
        return new Column(name, type, Nullability.NOT_NULL, sourceType);
    }

    public boolean isNullable() {
        return nullability == Nullability.NULLABLE;
    }

    /** Whether a column may hold null. */
    public enum Nullability { NULLABLE, NOT_NULL }
}
