package io.tributary.query;

import java.util.List;

/** A query's result, fully read: column names, DuckDB type names, and rows of JDBC objects (binary values as {@code byte[]}). */
public record QueryResult(List<String> columns, List<String> types, List<List<Object>> rows) {
    public QueryResult {
        columns = List.copyOf(columns);
        types = List.copyOf(types);
        rows = List.copyOf(rows);
    }
}
