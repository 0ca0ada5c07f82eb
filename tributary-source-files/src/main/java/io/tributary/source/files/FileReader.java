package io.tributary.source.files;

import io.tributary.config.FilesSourceConfig;
import io.tributary.config.FilesSourceConfig.FileTable;
import io.tributary.source.files.IngestedFiles.ColumnSpec;
import io.tributary.spi.ColumnType;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Reads one landed file with DuckDB's readers ({@code read_csv}, {@code read_json} for JSON lines,
 * {@code read_parquet}; gzip and zstd compression recognized by the file name): the columns and
 * types it infers, then the rows, streamed. A table keeps the types its first file gave it (and its
 * {@code types} overrides): a later CSV file is parsed with them. A first pass ({@link #check})
 * counts the rows and collects those that do not parse (line, text and DuckDB's reason), so the
 * caller can refuse a file before any of its rows is delivered; the second ({@link #read}) streams
 * the rows that parse.
 * One DuckDB in-memory database per reader; not thread-safe.
 */
final class FileReader implements AutoCloseable {
    /** Streams rows ({@code jdbc_stream_results}): a file of any size in bounded memory. */
    private final Connection duck;
    /** Counts and sniffs without streaming: DuckDB writes a scan's reject tables only when its result is complete. */
    private final Connection checker;
    private int scans;

    FileReader() {
        try {
            Properties props = new Properties();
            // Rows stream from the reader instead of being materialized: a file of any size in bounded memory.
            props.setProperty("jdbc_stream_results", "true");
            this.duck = DriverManager.getConnection("jdbc:duckdb:", props);
            this.checker = DriverManager.getConnection("jdbc:duckdb:");
            for (Connection c : List.of(duck, checker)) {
                try (Statement s = c.createStatement()) {
                    s.execute("SET memory_limit = '512MB'");
                    s.execute("SET preserve_insertion_order = true");
                }
            }
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot start DuckDB to read landed files: " + e.getMessage(), e);
        }
    }

    /** A row that did not parse: its line in the file (1-based, as DuckDB counts), the line's text, and why. */
    record Reject(long line, String text, String reason) {
    }

    /** Receives a file's rows, in file order: the values of the table's columns, as {@link io.tributary.spi.Row} holds them. */
    interface RowSink {
        void row(Object[] values);
    }

    /**
     * A file as DuckDB's reader finds it: its columns and the types it infers over the whole file
     * (one pass over it), by name in file order. Taken once per ingestion and handed to
     * {@link #columns}, {@link #check} and {@link #read}.
     */
    record Sniffed(Path file, Map<String, String> columns) {
    }

    Sniffed sniff(Path file, FileTable table) {
        Map<String, String> out = new LinkedHashMap<>();
        try (Statement s = checker.createStatement(); ResultSet rs = s.executeQuery("DESCRIBE SELECT * FROM " + source(file, table, Map.of(), null, false))) {
            while (rs.next()) {
                out.put(rs.getString("column_name"), rs.getString("column_type"));
            }
        } catch (SQLException e) {
            throw unreadable(file, table, e);
        }
        return new Sniffed(file, out);
    }

    /**
     * The table's columns after this file: {@code established} (the table's so far; empty for its
     * first file) followed by the columns this file adds, typed by DuckDB's inference over the whole
     * file unless {@code table.types()} names them.
     */
    static List<ColumnSpec> columns(Sniffed file, FileTable table, List<ColumnSpec> established) {
        List<ColumnSpec> out = new ArrayList<>(established);
        java.util.Set<String> known = new java.util.HashSet<>();
        established.forEach(c -> known.add(c.name()));
        file.columns().forEach((name, inferred) -> {
            if (known.add(name)) {
                out.add(new ColumnSpec(name, forced(table, established, name).orElse(DuckTypes.normalize(inferred))));
            }
        });
        return out;
    }

    private static java.util.Optional<String> forced(FileTable table, List<ColumnSpec> established, String column) {
        String override = table.types().get(column);
        if (override != null) {
            return java.util.Optional.of(DuckTypes.normalize(override));
        }
        return established.stream().filter(c -> c.name().equals(column)).map(ColumnSpec::type).findFirst();
    }

    /**
     * What a read of {@code file} as {@code columns} will give, before any row is delivered: the
     * rows that parse, those among them whose key ({@code keyColumns}) has a null, and the rows that
     * do not parse (CSV only; in a JSON-lines or Parquet file a value that does not fit its column
     * fails the file).
     */
    Scan check(Sniffed sniffed, FileTable table, List<ColumnSpec> columns) {
        Path file = sniffed.file();
        Map<String, String> present = sniffed.columns();
        String rejects = table.format() == FilesSourceConfig.Format.CSV ? "tributary_rejects_" + (++scans) : null;
        StringBuilder nullKey = new StringBuilder("false");
        for (String k : table.key()) {
            if (present.containsKey(k)) {
                // Key columns the source adds (_source_file, _source_row, _source_date) are never null.
                nullKey.append(" OR ").append(quoteIdentifier(k)).append(" IS NULL");
            }
        }
        // hash(COLUMNS(*)) makes the reader parse every column: a count alone would skip them.
        String sql = "SELECT count(*), count(*) FILTER (WHERE " + nullKey + "), max(hash(COLUMNS(*))) FROM " + source(file, table, parseAs(columns, present), rejects, true);
        try (Statement s = checker.createStatement()) {
            long rows;
            long nullKeys;
            try (ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                rows = rs.getLong(1);
                nullKeys = rs.getLong(2);
            }
            List<Reject> out = new ArrayList<>();
            if (rejects != null) {
                try (ResultSet rs = s.executeQuery("SELECT line, csv_line, error_type, column_name, error_message FROM " + rejects + "_errors ORDER BY line")) {
                    while (rs.next()) {
                        String column = rs.getString(4);
                        out.add(new Reject(rs.getLong(1), rs.getString(2), rs.getString(3) + (column == null ? "" : " in column " + column) + ": " + rs.getString(5)));
                    }
                }
                s.execute("DROP TABLE IF EXISTS " + rejects + "_errors");
                s.execute("DROP TABLE IF EXISTS " + rejects + "_scans");
            }
            return new Scan(rows, nullKeys, out);
        } catch (SQLException e) {
            throw unreadable(file, table, e);
        }
    }

    /** What {@link #check} found: rows that parse, how many of them have a null in the key, and the rows that do not parse. */
    record Scan(long rows, long nullKeys, List<Reject> rejects) {
    }

    private static Map<String, String> parseAs(List<ColumnSpec> columns, Map<String, String> present) {
        Map<String, String> parseAs = new LinkedHashMap<>();
        for (ColumnSpec c : columns) {
            if (present.containsKey(c.name())) {
                parseAs.put(c.name(), DuckTypes.sqlType(c.type()));
            }
        }
        return parseAs;
    }

    /**
     * Streams the rows of {@code file} that parse, as {@code columns} (a column the file lacks is
     * null), in file order.
     */
    void read(Sniffed sniffed, FileTable table, List<ColumnSpec> columns, RowSink sink) {
        Path file = sniffed.file();
        Map<String, String> present = sniffed.columns();
        StringBuilder select = new StringBuilder("SELECT ");
        ColumnType[] types = new ColumnType[columns.size()];
        for (int i = 0; i < columns.size(); i++) {
            ColumnSpec c = columns.get(i);
            types[i] = DuckTypes.columnType(c.type());
            select.append(i == 0 ? "" : ", ").append("CAST(").append(present.containsKey(c.name()) ? quoteIdentifier(c.name()) : "NULL")
                    .append(" AS ").append(DuckTypes.sqlType(c.type())).append(")");
        }
        select.append(" FROM ").append(source(file, table, parseAs(columns, present), null, true));
        try (Statement s = duck.createStatement(); ResultSet rs = s.executeQuery(select.toString())) {
            while (rs.next()) {
                Object[] values = new Object[types.length];
                for (int i = 0; i < types.length; i++) {
                    values[i] = DuckTypes.value(rs, i + 1, types[i]);
                }
                sink.row(values);
            }
        } catch (SQLException e) {
            throw unreadable(file, table, e);
        }
    }

    /**
     * The DuckDB table function that reads {@code file} as {@code table} says; {@code types}: the
     * SQL types CSV columns are parsed as (only columns the file has); {@code rejects}: the name
     * prefix of the reject tables, or null.
     */
    private static String source(Path file, FileTable table, Map<String, String> types, String rejects, boolean skipBadRows) {
        String path = quoteLiteral(file.toString());
        return switch (table.format()) {
            case PARQUET -> "read_parquet(" + path + ")";
            case JSONL -> "read_json(" + path + ", format = 'newline_delimited', sample_size = -1)";
            case CSV -> {
                FilesSourceConfig.Csv csv = table.csv();
                StringBuilder sql = new StringBuilder("read_csv(").append(path)
                        .append(", header = ").append(csv.header())
                        .append(", delim = ").append(quoteLiteral(csv.delimiter()))
                        .append(", quote = ").append(quoteLiteral(csv.quote()))
                        .append(", nullstr = ").append(quoteLiteral(csv.nullMarker()))
                        .append(", encoding = ").append(quoteLiteral(encoding(csv.encoding())))
                        .append(", sample_size = -1");
                csv.dateFormat().ifPresent(f -> sql.append(", dateformat = ").append(quoteLiteral(f)));
                csv.timestampFormat().ifPresent(f -> sql.append(", timestampformat = ").append(quoteLiteral(f)));
                if (!types.isEmpty()) {
                    sql.append(", types = {");
                    int i = 0;
                    for (Map.Entry<String, String> e : types.entrySet()) {
                        sql.append(i++ == 0 ? "" : ", ").append(quoteLiteral(e.getKey())).append(": ").append(quoteLiteral(e.getValue()));
                    }
                    sql.append("}");
                }
                if (skipBadRows && rejects == null) {
                    sql.append(", ignore_errors = true");
                }
                if (rejects != null) {
                    sql.append(", store_rejects = true, rejects_table = ").append(quoteLiteral(rejects + "_errors"))
                            .append(", rejects_scan = ").append(quoteLiteral(rejects + "_scans"));
                }
                yield sql.append(")").toString();
            }
        };
    }

    /** DuckDB's name of a Java charset: its CSV reader reads UTF-8, UTF-16 and Latin-1. */
    static String encoding(String javaName) {
        String name = Charset.forName(javaName).name();
        return switch (name) {
            case "UTF-8", "US-ASCII" -> "utf-8";
            case "UTF-16", "UTF-16LE", "UTF-16BE" -> "utf-16";
            case "ISO-8859-1", "windows-1252" -> "latin-1";
            default -> throw new TributaryException(ErrorCode.INVALID_CONFIG, "csv.encoding " + javaName + ": DuckDB's CSV reader reads UTF-8, UTF-16 and ISO-8859-1 (latin-1)");
        };
    }

    private static TributaryException unreadable(Path file, FileTable table, SQLException e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage();
        // DuckDB's "IO Error": the file could not be read (gone, unreadable); anything else is what the file holds.
        ErrorCode code = message.startsWith("IO Error") ? ErrorCode.SOURCE_UNREACHABLE : ErrorCode.MALFORMED_INPUT;
        return new TributaryException(code, "Cannot read " + file + " as " + table.format().name().toLowerCase(Locale.ROOT)
                + " for table " + table.name() + ": " + message.strip(), e);
    }

    static String quoteIdentifier(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    static String quoteLiteral(String text) {
        return "'" + text.replace("'", "''") + "'";
    }

    @Override
    public void close() {
        try (checker) {
            duck.close();
        } catch (SQLException e) {
            // Closing an in-memory database: nothing to keep.
        }
    }
}
