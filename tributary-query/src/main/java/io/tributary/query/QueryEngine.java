package io.tributary.query;

import io.tributary.lake.layout.Layer;
import io.tributary.config.S3Config;
import io.tributary.lake.scan.LakeTable;
import io.tributary.lake.storage.S3Reads;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.Closeable;
import java.sql.Blob;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SQL over the lake with DuckDB in-process. Every lake table becomes a view named
 * {@code <layer>.<table>} over the Parquet files of the Iceberg snapshot its {@link LakeTable}
 * describes (pass {@code Lake#consistentView()}'s tables for a transaction-consistent read), with
 * its position deletes applied as {@code LiveFiles} defines a live row: the data files are read with
 * {@code filename} and {@code file_row_number}, and anti-joined with the {@code (file_path, pos)}
 * rows of the position delete files planned for them (Iceberg spec, "Position Delete Files").
 *
 * <p>For every SCD2 table {@code silver.<t>_history} ({@link HistorySql}) a table macro
 * {@code silver.<t>_as_of(ts)} returns the columns of {@code silver.<t>} as they stood at
 * {@code ts} (a TIMESTAMPTZ, or text DuckDB casts to one such as {@code '2026-11-22 10:15:00+00'}).
 *
 * <p>Files on object storage are read where they are by DuckDB's httpfs extension when
 * {@code lake.s3.query-reads} is {@code httpfs}, or {@code auto} and the extension is installed;
 * otherwise through local copies ({@code LocalCopies}).
 *
 * <p>{@link #openAsOf} answers as the source stood at an instant instead. Not thread-safe; one
 * engine per caller.
 */
public final class QueryEngine implements Closeable {
    /** Prefix of the schemas that hold the tables as stored, in an engine opened {@link #openAsOf as of} an instant. */
    public static final String STORED_PREFIX = "__stored_";

    private static final Logger LOG = LoggerFactory.getLogger(QueryEngine.class);
    /** Whether the way queries read object storage was logged: once per process, not per model build. */
    private static final java.util.concurrent.atomic.AtomicBoolean READS_LOGGED = new java.util.concurrent.atomic.AtomicBoolean();

    private final Connection connection;
    private final Optional<Instant> asOf;
    /**
     * Whether DuckDB reads object storage where it is, with its httpfs extension; decided at the
     * first table on object storage ({@code lake.s3.query-reads}), null until then.
     */
    private Boolean readsInPlace;
    /** The statement {@link #stream} is running, for {@link #cancel()} from another thread. */
    private volatile Statement running;
    private volatile boolean cancelled;
    private final List<String> commitTimes = new ArrayList<>();
    /** In an engine opened as of an instant: per table as named in queries, the SELECT of the first source commit time the lake holds of it. */
    private final Map<String, String> firstCommitTimes = new HashMap<>();

    private QueryEngine(Connection connection, Optional<Instant> asOf) {
        this.connection = connection;
        this.asOf = asOf;
    }

    /**
     * Registers every table as {@code <layer>.<table>}, and the {@code silver.<t>_as_of(ts)} macro
     * of every history table.
     *
     * @throws TributaryException INTERNAL_ERROR when DuckDB cannot start
     */
    public static QueryEngine open(List<LakeTable> tables) {
        QueryEngine engine = start(Optional.empty());
        try {
            for (LakeTable t : tables) {
                engine.createView(t.layer().namespace(), t.name(), engine.viewSql(t));
            }
            engine.createHistoryMacros(tables, t -> ident(t.layer().namespace()) + "." + ident(t.name()));
            return engine;
        } catch (SQLException e) {
            engine.close();
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot start the query engine: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    /**
     * An engine that answers as the source stood at {@code asOf}, for every table together:
     * {@code silver.<t>} is the as-of view over {@code silver.<t>_history} (silver's columns; a
     * silver table without a history table fails when read, naming it), {@code silver.<t>_history}
     * holds the versions begun by then with {@code _valid_to} and {@code _is_current} as they were
     * then, {@code bronze.<t>} the changes committed by then ({@code _commit_ts <= asOf}), and a
     * gold table fails when read until {@link #defineView} defines it by its model's SQL. The
     * {@code silver.<t>_as_of(ts)} macros read the whole history, and the tables as stored are
     * under {@value #STORED_PREFIX}{@code <layer>}.
     *
     * @throws TributaryException INTERNAL_ERROR when DuckDB cannot start
     */
    public static QueryEngine openAsOf(List<LakeTable> tables, Instant asOf) {
        QueryEngine engine = start(Optional.of(asOf));
        try {
            Map<String, LakeTable> histories = new HashMap<>();
            Set<String> silverNames = new HashSet<>();
            for (LakeTable t : tables) {
                engine.createView(STORED_PREFIX + t.layer().namespace(), t.name(), engine.viewSql(t));
                if (HistorySql.isHistory(t)) {
                    histories.put(HistorySql.silverName(t), t);
                } else if (t.layer() == Layer.SILVER) {
                    silverNames.add(t.name());
                }
            }
            String at = HistorySql.instant(asOf);
            for (LakeTable t : tables) {
                if (HistorySql.isHistory(t)) {
                    String first = "SELECT min(_valid_from) AS t FROM " + stored(t);
                    engine.firstCommitTimes.put(t.qualifiedName(), first);
                    engine.firstCommitTimes.put(Layer.SILVER.namespace() + "." + HistorySql.silverName(t), first);
                } else if (t.layer() == Layer.BRONZE && t.columns().stream().anyMatch(c -> c.name().equals("_commit_ts"))) {
                    engine.firstCommitTimes.put(t.qualifiedName(), "SELECT min(_commit_ts) AS t FROM " + stored(t));
                }
            }
            for (LakeTable t : tables) {
                String ns = t.layer().namespace();
                String viewSql = switch (t.layer()) {
                    case BRONZE -> t.columns().stream().anyMatch(c -> c.name().equals("_commit_ts"))
                            ? "SELECT * FROM " + stored(t) + " WHERE _commit_ts <= " + at
                            : HistorySql.failing(t, "Cannot read " + t.qualifiedName() + " as of " + asOf + ": it has no _commit_ts column");
                    case SILVER -> {
                        if (HistorySql.isHistory(t)) {
                            yield HistorySql.versionsKnownAt(t, stored(t), at);
                        }
                        LakeTable history = histories.get(t.name());
                        yield history == null
                                ? HistorySql.failing(t, "Cannot read " + t.qualifiedName() + " as of " + asOf + ": it has no history table "
                                        + t.qualifiedName() + HistorySql.SUFFIX + " (is history disabled for it?)")
                                : HistorySql.asOf(stored(history), HistorySql.silverProjection(history, Optional.of(t)), at);
                    }
                    case GOLD -> HistorySql.failing(t, "Cannot read " + t.qualifiedName() + " as of " + asOf
                            + ": it is evaluated from its model file, and there is none for it");
                };
                engine.createView(ns, t.name(), viewSql);
            }
            for (Map.Entry<String, LakeTable> h : histories.entrySet()) {
                if (!silverNames.contains(h.getKey())) {
                    engine.createView(Layer.SILVER.namespace(), h.getKey(),
                            HistorySql.asOf(stored(h.getValue()), HistorySql.silverProjection(h.getValue(), Optional.empty()), at));
                }
            }
            engine.createHistoryMacros(tables, QueryEngine::stored);
            return engine;
        } catch (SQLException e) {
            engine.close();
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot start the query engine: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    private static QueryEngine start(Optional<Instant> asOf) {
        try {
            Connection c = DriverManager.getConnection("jdbc:duckdb:");
            try (Statement s = c.createStatement()) {
                s.execute("SET TimeZone = 'UTC'");
            }
            return new QueryEngine(c, asOf);
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot start the query engine: " + e.getMessage(), e);
        }
    }

    private static String stored(LakeTable t) {
        return ident(STORED_PREFIX + t.layer().namespace()) + "." + ident(t.name());
    }

    private void createView(String schema, String name, String sql) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS " + ident(schema));
            s.execute("CREATE OR REPLACE VIEW " + ident(schema) + "." + ident(name) + " AS " + sql);
        }
    }

    /** The as-of macros of the history tables among {@code tables}, each reading {@code source(history)}; notes where commit times are. */
    private void createHistoryMacros(List<LakeTable> tables, Function<LakeTable, String> source) throws SQLException {
        Map<String, LakeTable> silver = new HashMap<>();
        for (LakeTable t : tables) {
            if (t.layer() == Layer.SILVER && !HistorySql.isHistory(t)) {
                silver.put(t.name(), t);
            }
        }
        for (LakeTable t : tables) {
            String relation = source.apply(t);
            if (HistorySql.isHistory(t)) {
                try (Statement s = connection.createStatement()) {
                    s.execute("CREATE SCHEMA IF NOT EXISTS " + ident(Layer.SILVER.namespace()));
                    s.execute(HistorySql.asOfMacro(t, relation, HistorySql.silverProjection(t, Optional.ofNullable(silver.get(HistorySql.silverName(t))))));
                }
                commitTimes.add("SELECT max(_valid_from) AS t FROM " + relation);
                commitTimes.add("SELECT max(_valid_to) AS t FROM " + relation);
            } else if (t.layer() == Layer.BRONZE && t.columns().stream().anyMatch(c -> c.name().equals("_commit_ts"))) {
                commitTimes.add("SELECT max(_commit_ts) AS t FROM " + relation);
            }
        }
    }

    /** The instant this engine answers as of; empty when it reads the tables as stored. */
    public Optional<Instant> asOf() {
        return asOf;
    }

    /**
     * The latest source commit time among the tables as stored (bronze {@code _commit_ts}, history
     * {@code _valid_from} and {@code _valid_to}): what the lake knows of the source ends there.
     * Empty when no table has one.
     */
    public Optional<Instant> latestCommitTime() {
        if (commitTimes.isEmpty()) {
            return Optional.empty();
        }
        return instant("SELECT epoch_us(max(t)) FROM (" + String.join(" UNION ALL ", commitTimes) + ")");
    }

    /**
     * In an engine opened {@link #openAsOf as of} an instant: the earliest source commit time the
     * lake holds of a table, named as in queries ({@code silver.orders}: the first version of its
     * history; {@code bronze.orders}: its first change). Before it the lake knows nothing of the
     * table. Empty for other engines and tables, and for a table without rows.
     */
    public Optional<Instant> firstCommitTime(String qualifiedName) {
        String sql = firstCommitTimes.get(qualifiedName);
        return sql == null ? Optional.empty() : instant("SELECT epoch_us(t) FROM (" + sql + ")");
    }

    /** The instant of the single microsecond value {@code sql} selects, if not null. */
    private Optional<Instant> instant(String sql) {
        QueryResult r = query(sql);
        Object micros = r.rows().get(0).get(0);
        if (micros == null) {
            return Optional.empty();
        }
        long us = ((Number) micros).longValue();
        return Optional.of(Instant.ofEpochSecond(Math.floorDiv(us, 1_000_000L), Math.floorMod(us, 1_000_000L) * 1_000L));
    }

    /**
     * Creates or replaces the view {@code <layer>.<name>} as {@code sql}, e.g. a gold model's SELECT
     * evaluated over the tables of an engine opened as of an instant (define models in dependency order).
     *
     * @throws TributaryException INVALID_SQL with DuckDB's message when the SELECT is wrong
     */
    public void defineView(Layer layer, String name, String sql) {
        try {
            createView(layer.namespace(), name, sql.strip().replaceAll(";+$", ""));
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INVALID_SQL, "Cannot define " + layer.namespace() + "." + name + ": " + duckDbMessage(e), e);
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

    /** The SELECT a view of {@code table} runs in this engine. */
    private String viewSql(LakeTable table) throws SQLException {
        return viewSql(table, readsInPlace(table));
    }

    /**
     * Whether this engine reads {@code table}'s files where they are (on object storage, with
     * httpfs); loads httpfs and creates the S3 secret at the first table on object storage.
     *
     * @throws TributaryException INVALID_CONFIG when {@code query-reads} is {@code httpfs} and the extension cannot be had
     */
    private boolean readsInPlace(LakeTable table) throws SQLException {
        Optional<S3Reads> s3 = table.files().s3Reads();
        if (s3.isEmpty()) {
            return false;
        }
        if (readsInPlace == null) {
            readsInPlace = startHttpfs(s3.get());
        }
        return readsInPlace;
    }

    private boolean startHttpfs(S3Reads s3) throws SQLException {
        if (s3.mode() == S3Config.QueryReads.CACHE) {
            return false;
        }
        try {
            execute("LOAD httpfs");
        } catch (SQLException notInstalled) {
            if (s3.mode() == S3Config.QueryReads.AUTO) {
                if (!READS_LOGGED.getAndSet(true)) {
                    LOG.info("Queries read object storage through local copies in the file cache (lake.s3.query-reads: auto): DuckDB's httpfs "
                            + "extension is not installed");
                }
                return false;
            }
            try {
                execute("INSTALL httpfs");
                execute("LOAD httpfs");
            } catch (SQLException e) {
                throw new TributaryException(ErrorCode.INVALID_CONFIG, "lake.s3.query-reads is httpfs, but DuckDB cannot load its httpfs extension: "
                        + duckDbMessage(e) + ". Install it where DuckDB's extension repository is reachable (INSTALL httpfs, into "
                        + "~/.duckdb/extensions), or set query-reads to auto or cache", e);
            }
        }
        execute(s3Secret(s3));
        if (!READS_LOGGED.getAndSet(true)) {
            LOG.info("Queries read object storage where it is, with DuckDB's httpfs extension (lake.s3.query-reads: {})",
                    s3.mode().name().toLowerCase(java.util.Locale.ROOT));
        }
        return true;
    }

    /** The DuckDB secret (httpfs's {@code TYPE s3}) that signs this engine's reads of the object store. */
    static String s3Secret(S3Reads s3) {
        S3Reads.Credentials credentials = s3.credentials();
        List<String> options = new ArrayList<>(List.of("TYPE s3", "KEY_ID " + literal(credentials.accessKeyId()),
                "SECRET " + literal(credentials.secretAccessKey())));
        credentials.sessionToken().ifPresent(t -> options.add("SESSION_TOKEN " + literal(t)));
        s3.region().ifPresent(r -> options.add("REGION " + literal(r)));
        s3.endpoint().ifPresent(e -> {
            options.add("ENDPOINT " + literal(e.replaceFirst("^https?://", "")));
            options.add("USE_SSL " + e.startsWith("https://"));
        });
        options.add("URL_STYLE " + literal(s3.pathStyleAccess() ? "path" : "vhost"));
        return "CREATE OR REPLACE SECRET tributary_lake (" + String.join(", ", options) + ")";
    }

    private void execute(String sql) throws SQLException {
        try (Statement s = connection.createStatement()) {
            s.execute(sql);
        }
    }

    /**
     * The SELECT a view of {@code table} runs: over each file's location itself when
     * {@code inPlace} (an engine that reads object storage), else over local files
     * ({@link LakeTable#localFile}).
     */
    static String viewSql(LakeTable table, boolean inPlace) {
        String projection = table.columns().stream()
                .map(c -> "CAST(" + ident(c.name()) + " AS " + DuckDbTypes.of(c.icebergType()) + ") AS " + ident(c.name()))
                .collect(Collectors.joining(", "));
        if (table.dataFiles().isEmpty()) {
            String nulls = table.columns().stream()
                    .map(c -> "CAST(NULL AS " + DuckDbTypes.of(c.icebergType()) + ") AS " + ident(c.name()))
                    .collect(Collectors.joining(", "));
            return "SELECT " + nulls + " WHERE false";
        }
        // Each file as DuckDB reads it: a local warehouse's file itself, or a local copy of a file on object storage.
        Function<String, String> reader = inPlace ? location -> location : table::localFile;
        Map<String, String> local = new java.util.LinkedHashMap<>();
        table.dataFiles().forEach(f -> local.put(f.path(), reader.apply(f.path())));
        String dataList = local.values().stream().map(QueryEngine::literal).collect(Collectors.joining(", "));
        if (table.deleteFiles().isEmpty()) {
            return "SELECT " + projection + " FROM read_parquet([" + dataList + "], " + columnMatching(table) + ")";
        }
        String deleteList = table.deleteFiles().stream().map(f -> literal(reader.apply(f.path()))).collect(Collectors.joining(", "));
        String positions;
        if (inPlace || table.files().isDirect()) {
            // Manifests name files by their location (file:/… or a path), DuckDB by the path it was given.
            String deleted = "CASE WHEN starts_with(file_path, 'file://') THEN substr(file_path, 8) WHEN starts_with(file_path, 'file:') "
                    + "THEN substr(file_path, 6) ELSE file_path END";
            positions = "SELECT " + deleted + " AS __file, pos AS __row FROM read_parquet([" + deleteList + "])";
        } else {
            // Delete files name data files by their location on object storage, DuckDB by their copies' paths.
            String copies = table.dataFiles().stream().filter(f -> !f.deletes().isEmpty())
                    .map(f -> "(" + literal(f.path()) + ", " + literal(local.get(f.path())) + ")").collect(Collectors.joining(", "));
            positions = copies.isEmpty() ? "SELECT NULL::VARCHAR AS __file, NULL::BIGINT AS __row WHERE false"
                    : "SELECT __copy.__local AS __file, pos AS __row FROM read_parquet([" + deleteList + "]) "
                    + "JOIN (VALUES " + copies + ") AS __copy(__location, __local) ON file_path = __copy.__location";
        }
        return "WITH __pos AS (" + positions + "), "
                + "__data AS (SELECT * FROM read_parquet([" + dataList + "], " + columnMatching(table) + ", filename = true, file_row_number = true)) "
                + "SELECT " + projection + " FROM __data ANTI JOIN __pos ON __pos.__file = __data.filename AND __pos.__row = __data.file_row_number";
    }

    /**
     * Defines {@code <layer>.<name>} as a view that fails with {@code message} when read, e.g. a gold
     * model that cannot be evaluated as of an instant: other queries still run.
     */
    public void defineUnreadable(Layer layer, String name, String message) {
        try {
            createView(layer.namespace(), name, "SELECT NULL AS unreadable FROM range(1) WHERE error(" + literal(message) + ")");
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot define " + layer.namespace() + "." + name + ": " + duckDbMessage(e), e);
        }
    }

    /**
     * Every version of one row of {@code history} (a {@code silver.<t>_history} table registered
     * with this engine), oldest first: ordered by {@code _valid_from}, then {@code _position}.
     * {@code keyValues} are text, cast to the type of the key column of the same index.
     *
     * @throws TributaryException INVALID_SQL when a value cannot be cast to its column's type
     */
    public QueryResult versions(LakeTable history, List<String> keyColumns, List<String> keyValues) {
        if (keyColumns.isEmpty() || keyColumns.size() != keyValues.size()) {
            throw new IllegalArgumentException("Key columns " + keyColumns + " do not match " + keyValues.size() + " value(s)");
        }
        Map<String, LakeTable.LakeColumn> columns = new HashMap<>();
        history.columns().forEach(c -> columns.put(c.name(), c));
        List<String> conditions = new ArrayList<>();
        for (String k : keyColumns) {
            LakeTable.LakeColumn c = columns.get(k);
            if (c == null) {
                throw new TributaryException(ErrorCode.TABLE_NOT_FOUND, "Cannot read the versions of " + history.qualifiedName()
                        + ": it has no key column " + k);
            }
            conditions.add(ident(k) + " = CAST(? AS " + DuckDbTypes.of(c.icebergType()) + ")");
        }
        String sql = "SELECT * FROM " + ident(history.layer().namespace()) + "." + ident(history.name()) + " WHERE " + String.join(" AND ", conditions)
                + " ORDER BY _valid_from, _position";
        try (java.sql.PreparedStatement s = connection.prepareStatement(sql)) {
            for (int i = 0; i < keyValues.size(); i++) {
                s.setString(i + 1, keyValues.get(i));
            }
            try (ResultSet rs = s.executeQuery()) {
                return read(rs);
            }
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INVALID_SQL, "Cannot read the versions of " + history.qualifiedName() + ": " + duckDbMessage(e), e);
        }
    }

    /**
     * Runs one statement and reads the whole result.
     *
     * @throws TributaryException INVALID_SQL with DuckDB's message when the query is wrong
     */
    public QueryResult query(String sql) {
        try (Statement s = connection.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return read(rs);
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INVALID_SQL, "Cannot run query: " + duckDbMessage(e), e);
        }
    }

    private static QueryResult read(ResultSet rs) throws SQLException {
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
                Object value = rs.getObject(i);
                // DuckDB's Blob may point into the result's native memory, which later rows reused
                // in 1.1.3: copy the bytes while the row is current.
                row.add(value instanceof Blob blob ? blob.getBytes(1, (int) blob.length()) : value);
            }
            rows.add(row);
        }
        return new QueryResult(columns, types, rows);
    }

    /** DuckDB's own message, without the JDBC exception class it is wrapped in. */
    static String duckDbMessage(SQLException e) {
        String message = String.valueOf(e.getMessage());
        return message.startsWith("java.sql.SQLException: ") ? message.substring("java.sql.SQLException: ".length()) : message;
    }

    /**
     * Runs {@code sql} and hands the open result set to {@code reader}, for streaming large results.
     *
     * @throws TributaryException INVALID_SQL with DuckDB's message when the query is wrong, or when
     *                            {@link #cancel()} interrupted it (then {@link #cancelled()} is true)
     */
    public <T> T stream(String sql, ResultReader<T> reader) {
        try (Statement s = connection.createStatement()) {
            running = s;
            // Set before reading the flag, as cancel() sets the flag before reading the statement:
            // one of the two sees the other.
            if (cancelled) {
                throw new SQLException("the query was cancelled before it started");
            }
            try (ResultSet rs = s.executeQuery(sql)) {
                return reader.read(rs);
            }
        } catch (SQLException e) {
            throw new TributaryException(ErrorCode.INVALID_SQL, "Cannot run query: " + duckDbMessage(e), e);
        } finally {
            running = null;
        }
    }

    /**
     * Interrupts the query {@link #stream} is running, from any thread, and makes every later
     * {@code stream} call fail at once: for a stop that must not wait for a long query.
     */
    public void cancel() {
        cancelled = true;
        Statement s = running;
        if (s != null) {
            try {
                s.cancel();
            } catch (SQLException e) {
                // The statement finished or closed meanwhile: nothing left to interrupt.
            }
        }
    }

    /** Whether {@link #cancel()} was called. */
    public boolean cancelled() {
        return cancelled;
    }

    /** Reads an open JDBC result set. */
    @FunctionalInterface
    public interface ResultReader<T> {
        T read(ResultSet rs) throws SQLException;
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
