package io.tributary.spi;

import static java.util.Objects.requireNonNull;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * The shape of a source table at one point of its history: ordered columns and the names of the
 * columns that identify a row (the primary key, or the replica identity). Immutable.
 */
public final class TableSchema {
    private final TableId table;
    private final List<Column> columns;
    private final List<String> keyColumns;
    private final Map<String, Integer> indexByName;
    private final int[] keyIndexes;

    public TableSchema(TableId table, List<Column> columns, List<String> keyColumns) {
        this.table = requireNonNull(table, "table is null");
        this.columns = List.copyOf(requireNonNull(columns, "columns is null"));
        this.keyColumns = List.copyOf(requireNonNull(keyColumns, "keyColumns is null"));
        if (this.columns.isEmpty()) {
            throw new IllegalArgumentException("Table " + table + " has no columns");
        }
        Map<String, Integer> byName = new HashMap<>();
        for (int i = 0; i < this.columns.size(); i++) {
            if (byName.put(this.columns.get(i).name(), i) != null) {
                throw new IllegalArgumentException("Table " + table + " has two columns named '" + this.columns.get(i).name() + "'");
            }
        }
        this.indexByName = Map.copyOf(byName);
        this.keyIndexes = new int[this.keyColumns.size()];
        for (int i = 0; i < keyIndexes.length; i++) {
            Integer index = byName.get(this.keyColumns.get(i));
            if (index == null) {
                throw new IllegalArgumentException("Key column '" + this.keyColumns.get(i) + "' is not a column of " + table);
            }
            keyIndexes[i] = index;
        }
    }

    public TableId table() {
        return table;
    }

    public List<Column> columns() {
        return columns;
    }

    public List<String> keyColumns() {
        return keyColumns;
    }

    public boolean hasKey() {
        return !keyColumns.isEmpty();
    }

    public OptionalInt indexOf(String column) {
        Integer index = indexByName.get(column);
        return index == null ? OptionalInt.empty() : OptionalInt.of(index);
    }

    /** Positions of the key columns in {@link #columns()}, in key order. */
    public int[] keyIndexes() {
        return keyIndexes.clone();
    }

    /** The key of a row of this table: the values of the key columns, in key order. */
    public List<Object> keyOf(Row row) {
        Object[] key = new Object[keyIndexes.length];
        for (int i = 0; i < key.length; i++) {
            key[i] = row.get(keyIndexes[i]);
        }
        return java.util.Arrays.asList(key);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TableSchema other
                && table.equals(other.table) && columns.equals(other.columns) && keyColumns.equals(other.keyColumns);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(table, columns, keyColumns);
    }

    @Override
    public String toString() {
        return table.toString() + columns.stream().map(c -> c.name() + " " + c.type()).toList() + " key " + keyColumns;
    }
}
