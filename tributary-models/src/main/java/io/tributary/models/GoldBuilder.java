package io.tributary.models;

import io.tributary.lake.Lake;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.catalog.RowDeltas;
import io.tributary.lake.scan.RowLocation;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.layout.IcebergTypes;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeTable;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.math.BigInteger;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.RowDelta;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotUpdate;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Type;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Materializes gold models: runs each model's SELECT with DuckDB over the lake read at its
 * transaction-consistent position ({@link Lake#consistentView()}), in dependency order, and writes
 * {@code gold.<model>} in one Iceberg commit stamped with that position (or the given watermark for
 * a lake without a recorded state, see {@link SnapshotPositions}), so readers choose gold snapshots
 * by the same rule as silver's.
 *
 * <p>A full build replaces the table's contents (an overwrite). An incremental build (a model with
 * {@code -- materialized: incremental}, see {@link ModelHeader}) runs the SELECT rendered for the
 * last build ({@link ModelTemplate}) and upserts its rows by the unique key in one row delta: a
 * position delete file naming the current row of every result key the table holds (found by one
 * read of the table's unique-key columns with each row's location, {@link LiveRows}: gold tables
 * are small next to silver, and rebuilt from it), and a data file with the result rows, validated
 * from the snapshot read ({@link RowDeltas}). Rows whose key is not in the result are kept, as in dbt. An incremental model is built in full the
 * first time, after its file changed (its SHA-256 is kept in the snapshot summary under
 * {@value #MODEL_HASH}), when its result columns changed, and after {@link #requestFullRefresh()}.
 */
public final class GoldBuilder {
    private static final Logger LOG = LoggerFactory.getLogger(GoldBuilder.class);
    /** Snapshot summary key: SHA-256 of the model file the snapshot was built from. */
    public static final String MODEL_HASH = "tributary.model-hash";
    /** Snapshot summary key: {@code full} or {@code incremental}. */
    public static final String BUILD = "tributary.build";
    /** Snapshot summary key: the latest bronze {@code _commit_ts} at the build, ISO-8601; absent when bronze was empty. */
    public static final String BUILT_AT = "tributary.built-at";

    /** How a model was built. */
    public enum BuildKind {
        FULL, INCREMENTAL;

        String summaryValue() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Lake lake;
    private final String pipeline;
    private volatile boolean fullRefresh;
    private volatile boolean cancelled;
    /** The engine of the build in progress, for {@link #cancel()}. */
    private volatile QueryEngine building;

    public GoldBuilder(Lake lake, String pipeline) {
        this.lake = lake;
        this.pipeline = pipeline;
    }

    /** Makes the next {@link #build} rebuild every model in full, incremental ones included. */
    public void requestFullRefresh() {
        fullRefresh = true;
    }

    /**
     * Stops the build in progress, from any thread, and makes every later {@link #build} return
     * at once: for a pipeline that stops. The model being built is not committed, so its table keeps
     * its previous state; the models not reached yet are left as they are.
     */
    public void cancel() {
        cancelled = true;
        QueryEngine engine = building;
        if (engine != null) {
            engine.cancel();
        }
    }

    /**
     * What one {@link #build} did.
     *
     * @param built the models built, in build order
     * @param waiting the models left for a later build, in build order, each with the bronze or silver tables it
     *     reads that are not in the lake yet (as {@code silver.orders}; a model reading a waiting
     *     gold model waits with it, and names {@code gold.<model>})
     */
    public record Outcome(List<String> built, Map<String, Set<String>> waiting) {
        public Outcome {
            built = List.copyOf(built);
            waiting = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(waiting));
        }
    }

    /**
     * Builds every model whose bronze and silver tables are all in the lake, in dependency order;
     * the others (a table the initial snapshot has not committed yet, or one that is not captured)
     * are left out, with the models that read them.
     *
     * @throws TributaryException MODEL_ERROR when a model's SQL fails (DuckDB's message)
     */
    public Outcome build(List<Model> models, SourcePosition watermark) {
        List<String> built = new ArrayList<>();
        Map<String, Set<String>> waiting = new java.util.LinkedHashMap<>();
        if (models.isEmpty()) {
            return new Outcome(built, waiting);
        }
        boolean full = fullRefresh;
        io.tributary.lake.scan.LakeView view = lake.consistentView();
        SourcePosition position = view.consistent().orElse(watermark);
        List<LakeTable> tables = view.tables();
        Set<String> present = new HashSet<>();
        tables.forEach(t -> present.add(t.layer().namespace() + "." + t.name().toLowerCase(java.util.Locale.ROOT)));
        try (QueryEngine engine = QueryEngine.open(tables)) {
            building = engine;
            // Set before reading the flag, as cancel() sets the flag before reading the engine.
            if (cancelled) {
                engine.cancel();
            }
            Optional<Instant> builtAt = models.stream().anyMatch(m -> m.header().incremental()) ? latestCommitTime(engine, tables) : Optional.empty();
            for (Model model : models) {
                if (engine.cancelled()) {
                    break;
                }
                Set<String> missing = new java.util.TreeSet<>(model.lakeReferences());
                missing.removeAll(present);
                model.dependencies().stream().filter(waiting::containsKey).forEach(d -> missing.add(Layer.GOLD.namespace() + "." + d));
                if (!missing.isEmpty()) {
                    waiting.put(model.name(), missing);
                    continue;
                }
                Instant start = Instant.now();
                Optional<LastBuild> last = full || !model.header().incremental() ? Optional.empty() : lastBuild(model);
                BuildKind kind = BuildKind.FULL;
                Optional<Long> rows = Optional.empty();
                if (last.isPresent()) {
                    rows = engine.stream(model.incrementalSql(last.get()), rs -> upsert(model, rs, position, builtAt));
                    kind = BuildKind.INCREMENTAL;
                }
                if (rows.isEmpty()) {
                    kind = BuildKind.FULL;
                    rows = Optional.of(engine.stream(model.sql(), rs -> write(model, rs, position, builtAt)));
                }
                lake.load(Layer.GOLD, model.name()).ifPresent(t -> engine.register(LakeTable.of(Layer.GOLD, t)));
                LOG.info("Built gold.{} ({} build): {} rows written in {} ms", model.name(), kind.summaryValue(), rows.get(),
                        Duration.between(start, Instant.now()).toMillis());
                built.add(model.name());
            }
            if (full && waiting.isEmpty() && !engine.cancelled()) {
                fullRefresh = false;
            }
        } catch (TributaryException e) {
            if (cancelled) {
                LOG.info("Stopped the gold build: gold tables not rebuilt yet keep their previous state (built: {})", built.isEmpty() ? "none" : built);
                return new Outcome(built, waiting);
            }
            if (e.errorCode() == ErrorCode.INVALID_SQL) {
                throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot build gold models: " + e.getMessage(), e);
            }
            throw e;
        } finally {
            building = null;
        }
        return new Outcome(built, waiting);
    }

    /** The position, commit time and file hash of the table's last Tributary build, if it was built from this model file. */
    private Optional<LastBuild> lastBuild(Model model) {
        Optional<Table> table = lake.load(Layer.GOLD, model.name());
        if (table.isEmpty()) {
            return Optional.empty();
        }
        Table t = table.get();
        // Snapshots of table maintenance carry no position: the last build is the newest one that does.
        for (Snapshot s = t.currentSnapshot(); s != null; s = s.parentId() == null ? null : t.snapshot(s.parentId())) {
            Map<String, String> summary = s.summary();
            String position = summary.get(SnapshotPositions.POSITION);
            if (position != null) {
                if (!model.template().fingerprint().equals(summary.get(MODEL_HASH))) {
                    return Optional.empty();
                }
                return Optional.of(new LastBuild(SourcePosition.decode(position), Optional.ofNullable(summary.get(BUILT_AT)).map(Instant::parse)));
            }
        }
        return Optional.empty();
    }

    /**
     * The latest {@code _commit_ts} of all bronze tables. Bronze only grows, so this reads the upper
     * bounds of the column in the data files' metrics (Iceberg spec, "Manifests": upper_bounds), and
     * scans the column only of a table with a file without one (metrics turned off for it).
     */
    private Optional<Instant> latestCommitTime(QueryEngine engine, List<LakeTable> tables) {
        List<Instant> latest = new ArrayList<>();
        for (LakeTable bronze : tables) {
            Optional<Table> table = bronze.layer() == Layer.BRONZE ? lake.load(Layer.BRONZE, bronze.name()) : Optional.empty();
            org.apache.iceberg.types.Types.NestedField column = table.map(t -> t.schema().findField("_commit_ts")).orElse(null);
            if (column == null || table.get().currentSnapshot() == null) {
                continue;
            }
            long maxMicros = Long.MIN_VALUE;
            boolean bounded = true;
            try (CloseableIterable<FileScanTask> tasks = table.get().newScan().includeColumnStats().planFiles()) {
                for (FileScanTask task : tasks) {
                    ByteBuffer upper = task.file().upperBounds() == null ? null : task.file().upperBounds().get(column.fieldId());
                    if (upper == null) {
                        bounded = false;
                        break;
                    }
                    maxMicros = Math.max(maxMicros, Conversions.<Long>fromByteBuffer(column.type(), upper));
                }
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot plan a scan of bronze." + bronze.name() + ": " + e.getMessage(), e);
            }
            if (!bounded) {
                engine.stream("SELECT max(_commit_ts) FROM bronze.\"" + bronze.name().replace("\"", "\"\"") + "\"",
                        rs -> rs.next() ? Optional.ofNullable(rs.getObject(1, OffsetDateTime.class)) : Optional.<OffsetDateTime>empty())
                        .ifPresent(at -> latest.add(at.toInstant()));
            } else if (maxMicros != Long.MIN_VALUE) {
                latest.add(Instant.EPOCH.plus(maxMicros, ChronoUnit.MICROS));
            }
        }
        return latest.stream().max(Instant::compareTo);
    }

    private static Schema resultSchema(Model model, ResultSetMetaData meta) throws SQLException {
        int n = meta.getColumnCount();
        List<org.apache.iceberg.types.Types.NestedField> fields = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            fields.add(org.apache.iceberg.types.Types.NestedField.optional(i, meta.getColumnLabel(i), icebergType(meta, i)));
        }
        Schema schema = new Schema(fields, Set.of());
        for (String column : model.header().uniqueKey()) {
            if (schema.caseInsensitiveFindField(column) == null) {
                throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot build gold." + model.name() + " from " + model.file() + ":" + model.header().uniqueKeyLine()
                        + ": unique_key column '" + column + "' is not a column of the result; the result has " + schema.columns().stream().map(f -> f.name()).toList());
            }
        }
        return schema;
    }

    private long write(Model model, ResultSet rs, SourcePosition watermark, Optional<Instant> builtAt) throws SQLException {
        Schema wanted = resultSchema(model, rs.getMetaData());
        TableIdentifier id = TableIdentifier.of(Layer.GOLD.namespace(), model.name());
        Table table = lake.load(Layer.GOLD, model.name()).orElse(null);
        if (table != null && !table.schema().asStruct().equals(reassigned(table, wanted))) {
            // The model's columns changed: the rebuilt table gets the new shape.
            lake.catalog().dropTable(id);
            table = null;
        }
        if (table == null) {
            table = lake.catalog().ensure(id, wanted, s -> PartitionSpec.unpartitioned());
        }
        List<Record> records = read(model, rs, table.schema());
        OverwriteFiles overwrite = table.newOverwrite().overwriteByRowFilter(Expressions.alwaysTrue());
        if (!records.isEmpty()) {
            overwrite.addFile(new DataFiles(table).write(records, null));
        }
        lake.catalog().commit(stamp(overwrite, model, BuildKind.FULL, watermark, builtAt));
        return records.size();
    }

    /** Upserts the result by the unique key; empty, having read nothing, when the result's columns are not the table's. */
    private Optional<Long> upsert(Model model, ResultSet rs, SourcePosition watermark, Optional<Instant> builtAt) throws SQLException {
        Schema wanted = resultSchema(model, rs.getMetaData());
        Optional<Table> loaded = lake.load(Layer.GOLD, model.name());
        if (loaded.isEmpty() || !loaded.get().schema().asStruct().equals(reassigned(loaded.get(), wanted))) {
            return Optional.empty();
        }
        Table table = loaded.get();
        List<Record> records = read(model, rs, table.schema());
        List<String> keyNames = model.header().uniqueKey().stream().map(c -> table.schema().caseInsensitiveFindField(c).name()).toList();
        Schema keySchema = table.schema().select(keyNames);
        Set<List<Object>> keys = new HashSet<>();
        for (Record r : records) {
            keys.add(key(r, keyNames));
        }
        table.refresh();
        Snapshot snapshot = table.currentSnapshot();
        List<RowLocation> replaced = new ArrayList<>();
        if (!keys.isEmpty()) {
            LiveRows.read(table, snapshot, keySchema, Expressions.alwaysTrue(), (r, location) -> {
                if (keys.contains(key(r, keyNames))) {
                    replaced.add(location);
                }
            });
        }
        RowDelta delta = table.newRowDelta();
        DataFiles files = new DataFiles(table);
        DataFile written = records.isEmpty() ? null : files.write(records, null);
        if (written != null) {
            delta.addRows(written);
        }
        DeleteFile deletes = RowDeltas.removeRows(delta, files, replaced, snapshot == null ? null : snapshot.snapshotId());
        RowDeltas.commit(lake.catalog(), table, stamp(delta, model, BuildKind.INCREMENTAL, watermark, builtAt), written, deletes);
        return Optional.of((long) records.size());
    }

    /** A row's unique key, in one form whether built from DuckDB's result or read from the table (bytes as buffers, UUIDs as UUIDs). */
    private static List<Object> key(Record r, List<String> keyNames) {
        List<Object> key = new ArrayList<>(keyNames.size());
        for (String name : keyNames) {
            Object v = r.getField(name);
            if (v instanceof byte[] b) {
                v = ByteBuffer.wrap(b);
            } else if (v instanceof java.util.UUID u) {
                v = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).flip();
            }
            key.add(v);
        }
        return key;
    }

    private <T extends SnapshotUpdate<T>> T stamp(T update, Model model, BuildKind kind, SourcePosition watermark, Optional<Instant> builtAt) {
        SnapshotPositions.stamp(update, pipeline, watermark).set(MODEL_HASH, model.template().fingerprint()).set(BUILD, kind.summaryValue());
        builtAt.ifPresent(at -> update.set(BUILT_AT, at.toString()));
        return update;
    }

    /** Reads the result into records; for an incremental model, checks that no unique key appears twice. */
    private static List<Record> read(Model model, ResultSet rs, Schema schema) throws SQLException {
        int n = schema.columns().size();
        List<Integer> keyColumns = model.header().uniqueKey().stream().map(c -> schema.columns().indexOf(schema.caseInsensitiveFindField(c))).toList();
        Set<List<Object>> seen = new HashSet<>();
        List<Record> records = new ArrayList<>();
        while (rs.next()) {
            GenericRecord r = GenericRecord.create(schema);
            for (int i = 1; i <= n; i++) {
                r.set(i - 1, value(rs, i, schema.columns().get(i - 1).type()));
            }
            if (!keyColumns.isEmpty()) {
                List<Object> key = new ArrayList<>(keyColumns.size());
                for (int i : keyColumns) {
                    key.add(r.get(i));
                }
                if (!seen.add(key)) {
                    throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot build gold." + model.name() + " from " + model.file() + ":" + model.header().uniqueKeyLine()
                            + ": the result holds more than one row with the same unique_key " + model.header().uniqueKey());
                }
            }
            records.add(r);
        }
        return records;
    }

    private static org.apache.iceberg.types.Types.StructType reassigned(Table table, Schema wanted) {
        List<org.apache.iceberg.types.Types.NestedField> fields = new ArrayList<>();
        for (int i = 0; i < wanted.columns().size(); i++) {
            var f = wanted.columns().get(i);
            int id = i < table.schema().columns().size() ? table.schema().columns().get(i).fieldId() : -1;
            fields.add(org.apache.iceberg.types.Types.NestedField.optional(id, f.name(), f.type()));
        }
        return org.apache.iceberg.types.Types.StructType.of(fields);
    }

    private static Type icebergType(ResultSetMetaData meta, int i) throws SQLException {
        String typeName = meta.getColumnTypeName(i).toUpperCase(java.util.Locale.ROOT);
        if (typeName.startsWith("DECIMAL")) {
            return org.apache.iceberg.types.Types.DecimalType.of(Math.min(38, meta.getPrecision(i)), meta.getScale(i));
        }
        return switch (typeName) {
            case "BOOLEAN" -> org.apache.iceberg.types.Types.BooleanType.get();
            case "TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT" -> org.apache.iceberg.types.Types.IntegerType.get();
            case "BIGINT", "UINTEGER" -> org.apache.iceberg.types.Types.LongType.get();
            case "HUGEINT", "UBIGINT" -> org.apache.iceberg.types.Types.DecimalType.of(38, 0);
            case "FLOAT" -> org.apache.iceberg.types.Types.FloatType.get();
            case "DOUBLE" -> org.apache.iceberg.types.Types.DoubleType.get();
            case "DATE" -> org.apache.iceberg.types.Types.DateType.get();
            case "TIME" -> org.apache.iceberg.types.Types.TimeType.get();
            case "TIMESTAMP" -> org.apache.iceberg.types.Types.TimestampType.withoutZone();
            case "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ" -> org.apache.iceberg.types.Types.TimestampType.withZone();
            case "UUID" -> org.apache.iceberg.types.Types.UUIDType.get();
            case "BLOB" -> org.apache.iceberg.types.Types.BinaryType.get();
            // VARCHAR, and types Iceberg has no counterpart for (INTERVAL, STRUCT, MAP), as text.
            default -> org.apache.iceberg.types.Types.StringType.get();
        };
    }

    private static Object value(ResultSet rs, int i, Type type) throws SQLException {
        Object v = rs.getObject(i);
        if (v == null) {
            return null;
        }
        return switch (type.typeId()) {
            case INTEGER -> ((Number) v).intValue();
            case LONG -> ((Number) v).longValue();
            case FLOAT -> ((Number) v).floatValue();
            case DOUBLE -> ((Number) v).doubleValue();
            case DECIMAL -> {
                BigDecimal d = v instanceof BigDecimal b ? b : v instanceof BigInteger bi ? new BigDecimal(bi) : new BigDecimal(v.toString());
                yield d.setScale(((org.apache.iceberg.types.Types.DecimalType) type).scale(), java.math.RoundingMode.HALF_UP);
            }
            case DATE -> rs.getObject(i, LocalDate.class);
            case TIME -> rs.getObject(i, LocalTime.class);
            case TIMESTAMP -> ((org.apache.iceberg.types.Types.TimestampType) type).shouldAdjustToUTC()
                    ? rs.getObject(i, OffsetDateTime.class).withOffsetSameInstant(ZoneOffset.UTC)
                    : rs.getObject(i, LocalDateTime.class);
            case UUID, BINARY -> IcebergTypes.toIcebergValue(v instanceof java.sql.Blob b ? b.getBytes(1, (int) b.length()) : v);
            case BOOLEAN -> v;
            default -> v.toString();
        };
    }
}
