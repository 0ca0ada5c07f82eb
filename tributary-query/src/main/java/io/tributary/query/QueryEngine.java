package io.tributary.query;

import io.tributary.lake.scan.LakeTable;
import io.tributary.lake.scan.LakeTable.DataFileRef;
import io.tributary.lake.scan.LakeTable.DeleteFileRef;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.Closeable;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * SQL over the lake with DuckDB in-process. Every lake table becomes a view named
 * {@code <layer>.<table>} over the Parquet files of its current Iceberg snapshot, with Iceberg's
 * row-level deletes applied (Iceberg spec, "Scan Planning": an equality delete removes rows of data
 * files with a strictly smaller data sequence number; a position delete removes one row of one file).
 * Not thread-safe; one engine per caller.
 */
public final class QueryEngine implements Closeable {
    private final Connection connection;

    private QueryEngine(Connection connection) {
        this.connection = connection;
    }

    /**
     * @throws TributaryException INTERNAL_ERROR when DuckDB cannot start
     */
    public static QueryEngine open(List<LakeTable> tables) {
        try {
            Connection c = DriverManager.getConnection("jdbc:duckdb:");
            QueryEngine engine = new QueryEngine(c);
            try (Statement s = c.createStatement()) {
                s.execute("SET TimeZone = 'UTC'");
                Set<String> schemas = new HashSet<>();
                for (LakeTable t : tables) {
                    if (schemas.add(t.layer().namespace())) {
                        s.execute("CREATE SCHEMA IF NOT EXISTS " + ident(t.layer().namespace()));
                    }
                    s.execute("CREATE OR REPLACE VIEW " + ident(t.layer().namespace()) + "." + ident(t.name()) + " AS " + viewSql(t));
                }
            }
            return engine;
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot start the query engine: " + e.getMessage(), e);
        }
    }

    /** Creates or replaces the view of one table, e.g. after a gold model was rebuilt. */
    public void register(LakeTable table) {
        try (Statement s = connection.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS " + ident(table.layer().namespace()));
            s.execute("CREATE OR REPLACE VIEW " + ident(table.layer().namespace()) + "." + ident(table.name()) + " AS " + viewSql(table));
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot register " + table.qualifiedName() + " with the query engine: " + e.getMessage(), e);
        }
    }

    /**
     * How read_parquet matches the files' columns to the table's: by name (a column added later
     * reads as null from older files) or, once a column was renamed, by Iceberg field id under the
     * current names, so the renamed column is found in files written before the rename. DuckDB's
     * field-id matching does not reach into list elements: a table with list columns is read by
     * name, and its renamed columns read as null from files older than the rename.
     */
    private static String columnMatching(LakeTable table) {
        boolean renamed = table.columns().stream().anyMatch(c -> !c.formerNames().isEmpty());
        boolean lists = table.columns().stream().anyMatch(c -> c.icebergType().startsWith("list<"));
        if (!renamed || lists) {
            return "union_by_name = true";
        }
        return table.columns().stream()
                .map(c -> c.fieldId() + ": {name: " + literal(c.name()) + ", type: " + literal(DuckDbTypes.of(c.icebergType())) + ", default_value: NULL}")
                .collect(Collectors.joining(", ", "schema = MAP {", "}"));
    }

    /** The SELECT a view of {@code table} runs. */
    static String viewSql(LakeTable table) {
        String projection = table.columns().stream()
                .map(c -> "CAST(" + ident(c.name()) + " AS " + DuckDbTypes.of(c.icebergType()) + ") AS " + ident(c.name()))
                .collect(Collectors.joining(", "));
        if (table.dataFiles().isEmpty()) {
            String nulls = table.columns().stream()
                    .map(c -> "CAST(NULL AS " + DuckDbTypes.of(c.icebergType()) + ") AS " + ident(c.name()))
                    .collect(Collectors.joining(", "));
            return "SELECT " + nulls + " WHERE false";
        }
        String dataList = table.dataFiles().stream().map(f -> literal(localPath(f.path()))).collect(Collectors.joining(", "));
        if (table.deleteFiles().isEmpty()) {
            return "SELECT " + projection + " FROM read_parquet([" + dataList + "], " + columnMatching(table) + ")";
        }
        StringBuilder sql = new StringBuilder("WITH __seq(__file, __seq) AS (VALUES ");
        List<String> seqRows = new ArrayList<>();
        for (DataFileRef f : table.dataFiles()) {
            seqRows.add("(" + literal(localPath(f.path())) + ", " + f.dataSequenceNumber() + ")");
        }
        for (DeleteFileRef f : table.deleteFiles()) {
            seqRows.add("(" + literal(localPath(f.path())) + ", " + f.dataSequenceNumber() + ")");
        }
        sql.append(String.join(", ", seqRows)).append("), __data AS (SELECT __d.*, __seq.__seq FROM read_parquet([").append(dataList)
                .append("], ").append(columnMatching(table)).append(", filename = true, file_row_number = true) __d JOIN __seq ON __d.filename = __seq.__file)");
        Map<List<String>, List<DeleteFileRef>> equality = new LinkedHashMap<>();
        List<DeleteFileRef> positional = new ArrayList<>();
        for (DeleteFileRef f : table.deleteFiles()) {
            if (f.kind() == DeleteFileRef.Kind.EQUALITY) {
                equality.computeIfAbsent(f.equalityColumns(), k -> new ArrayList<>()).add(f);
            } else {
                positional.add(f);
            }
        }
        List<String> conditions = new ArrayList<>();
        int n = 0;
        for (Map.Entry<List<String>, List<DeleteFileRef>> group : equality.entrySet()) {
            String alias = "__eq" + n++;
            String files = group.getValue().stream().map(f -> literal(localPath(f.path()))).collect(Collectors.joining(", "));
            sql.append(", ").append(alias).append(" AS (SELECT __e.*, __seq.__seq FROM read_parquet([").append(files)
                    .append("], union_by_name = true, filename = true) __e JOIN __seq ON __e.filename = __seq.__file)");
            String match = group.getKey().stream().map(k -> alias + "." + ident(k) + " IS NOT DISTINCT FROM __data." + ident(k))
                    .collect(Collectors.joining(" AND "));
            conditions.add("NOT EXISTS (SELECT 1 FROM " + alias + " WHERE " + match + " AND " + alias + ".__seq > __data.__seq)");
        }
        if (!positional.isEmpty()) {
            String files = positional.stream().map(f -> literal(localPath(f.path()))).collect(Collectors.joining(", "));
            sql.append(", __pos AS (SELECT file_path, pos FROM read_parquet([").append(files).append("]))");
            conditions.add("NOT EXISTS (SELECT 1 FROM __pos WHERE __pos.pos = __data.file_row_number AND "
                    + "(__pos.file_path = __data.filename OR __pos.file_path = 'file:' || __data.filename))");
        }
        sql.append(" SELECT ").append(projection).append(" FROM __data");
        if (!conditions.isEmpty()) {
            sql.append(" WHERE ").append(String.join(" AND ", conditions));
        }
        return sql.toString();
    }

    /**
     * Runs one statement and reads the whole result.
     *
     * @throws TributaryException INVALID_SQL with DuckDB's message when the query is wrong
     */
    public QueryResult query(String sql) {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            ResultSetMetaData meta = rs.getMetaData();
            int n = meta.getColumnCount();
            List<String> columns = new ArrayList<>(n);
            List<String> types = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) {
                columns.add(meta.getColumnLabel(i));
                types.add(meta.getColumnTypeName(i));
            }
            List<List<Object>> rows = new ArrayList<>();
            while (rs.next()) {
                List<Object> row = new ArrayList<>(n);
                for (int i = 1; i <= n; i++) {
                    row.add(rs.getObject(i));
                }
                rows.add(row);
            }
            return new QueryResult(columns, types, rows);
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INVALID_SQL, "Cannot run query: " + duckDbMessage(e), e);
        }
    }

    /** DuckDB's own message, without the JDBC exception class it is wrapped in. */
    static String duckDbMessage(SQLException e) {
        String message = String.valueOf(e.getMessage());
        return message.startsWith("java.sql.SQLException: ") ? message.substring("java.sql.SQLException: ".length()) : message;
    }

    /** Runs {@code sql} and hands the open result set to {@code reader}, for streaming large results. */
    public <T> T stream(String sql, ResultReader<T> reader) {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return reader.read(rs);
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INVALID_SQL, "Cannot run query: " + duckDbMessage(e), e);
        }
    }

    /** Reads an open JDBC result set. */
    @FunctionalInterface
    public interface ResultReader<T> {
        T read(ResultSet rs) throws SQLException;
    }

    static String localPath(String path) {
        if (path.startsWith("file://")) {
            return path.substring("file://".length());
        }
        if (path.startsWith("file:")) {
            return path.substring("file:".length());
        }
        return path;
    }

    static String ident(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    @Override
    public void close() {
        try {
            connection.close();
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot close the query engine: " + e.getMessage(), e);
        }
    }
}
