package io.tributary.spi;

import static java.util.Objects.requireNonNull;

/**
 * Identifies a table of the source database by schema and name, as PostgreSQL spells them
 * (case preserved, unquoted).
 */
public record TableId(String schema, String name) implements Comparable<TableId> {
    public TableId {
        requireNonNull(schema, "schema is null");
        requireNonNull(name, "name is null");
        if (schema.isEmpty() || name.isEmpty()) {
            throw new IllegalArgumentException("Table id needs a schema and a name, got '" + schema + "." + name + "'");
        }
    }

    /**
     * Parses {@code schema.table}; a name without a dot is taken to be in {@code public}.
     *
     * @throws IllegalArgumentException when the text has more than one dot or an empty part
     */
    public static TableId parse(String qualified) {
        requireNonNull(qualified, "qualified is null");
        String[] parts = qualified.split("\\.", -1);
        return switch (parts.length) {
            case 1 -> new TableId("public", parts[0]);
            case 2 -> new TableId(parts[0], parts[1]);
            default -> throw new IllegalArgumentException("Table name must be 'schema.table', got '" + qualified + "'");
        };
    }

    @Override
    public int compareTo(TableId other) {
        int c = schema.compareTo(other.schema);
        return c != 0 ? c : name.compareTo(other.name);
    }

    @Override
    public String toString() {
        return schema + "." + name;
    }
}
