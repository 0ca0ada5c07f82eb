package io.tributary.lake.gold;

import io.tributary.lake.Lake;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.catalog.RowDeltas;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.layout.IcebergTypes;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.RowLocation;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
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
import org.apache.iceberg.types.Types;

/**
 * Writes {@code gold.<model>} tables from a SQL result (a JDBC {@link ResultSet}, as DuckDB returns
 * it), each build in one Iceberg commit stamped with the position it was built at
 * ({@link SnapshotPositions}) and the model's build facts, so the models module needs no Iceberg
 * type. A full build replaces the table's contents (an overwrite); an incremental build upserts the
 * result by its unique key in one row delta: a position delete file naming the current row of every
 * result key the table holds (found by one read of the unique-key columns with each row's location,
 * {@link LiveRows}: gold tables are small next to silver, and rebuilt from it), and a data file with
 * the result rows, validated from the snapshot read ({@link RowDeltas}).
 *
 * <p>Result columns map to Iceberg types by DuckDB's type names; types Iceberg has no counterpart
 * for (INTERVAL, STRUCT, MAP) are written as text.
 */
public final class GoldTables {
    /** Snapshot summary key: SHA-256 of the model file the snapshot was built from. */
    public static final String MODEL_HASH = "tributary.model-hash";
    /** Snapshot summary key: {@code full} or {@code incremental}. */
    public static final String BUILD = "tributary.build";
    /** Snapshot summary key: the latest bronze {@code _commit_ts} at the build, ISO-8601; absent when bronze was empty. */
    public static final String BUILT_AT = "tributary.built-at";

    /**
     * The model a build writes.
     *
     * @param name        the model's name, the table {@code gold.<name>}
     * @param uniqueKey   the result columns that identify a row (case-insensitive); empty for a model without one
     * @param fingerprint the SHA-256 of the model file, kept under {@value #MODEL_HASH}
     * @param keyDeclared where the unique key is declared ({@code models/gold/x.sql:3}), for errors
     */
    public record Target(String name, List<String> uniqueKey, String fingerprint, String keyDeclared) {
        public Target {
            uniqueKey = List.copyOf(uniqueKey);
        }
    }

    /** How a model was built. */
    public enum BuildKind {
        FULL, INCREMENTAL;

        /** The value under {@value #BUILD}. */
        public String summaryValue() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * A table's last build by Tributary: the position it was built at, the {@value #BUILT_AT} fact
     * when present, and the {@value #MODEL_HASH} of the model file it was built from.
     */
    public record LastBuild(SourcePosition position, Optional<Instant> builtAt, Optional<String> modelHash) {
    }

    /**
     * The latest {@code _commit_ts} of a bronze table as its files' metrics bound it: {@code known}
     * false when a data file has no bound (metrics turned off), so the column must be scanned.
     */
    public record CommitTimeBound(boolean known, Optional<Instant> latest) {
    }

    private final Lake lake;
    private final String pipeline;

    public GoldTables(Lake lake, String pipeline) {
        this.lake = lake;
        this.pipeline = pipeline;
    }

    /** The newest snapshot of {@code gold.<model>} that carries a position (maintenance snapshots carry none). */
    public Optional<LastBuild> lastBuild(String model) {
        Optional<Table> table = lake.load(Layer.GOLD, model);
        if (table.isEmpty()) {
            return Optional.empty();
        }
        Table t = table.get();
        for (Snapshot s = t.currentSnapshot(); s != null; s = s.parentId() == null ? null : t.snapshot(s.parentId())) {
            Map<String, String> summary = s.summary();
            String position = summary.get(SnapshotPositions.POSITION);
            if (position != null) {
                return Optional.of(new LastBuild(SourcePosition.decode(position), Optional.ofNullable(summary.get(BUILT_AT)).map(Instant::parse),
                        Optional.ofNullable(summary.get(MODEL_HASH))));
            }
        }
        return Optional.empty();
    }

    /**
     * The upper bound of {@code bronze.<table>}'s {@code _commit_ts} in its data files' metrics
     * (Iceberg spec, "Manifests": upper_bounds); bronze only grows, so it is the latest commit time.
     *
     * @throws TributaryException LAKE_IO_FAILED when the table's manifests cannot be read
     */
    public CommitTimeBound latestCommitTime(String bronzeTable) {
        Optional<Table> table = lake.load(Layer.BRONZE, bronzeTable);
        Types.NestedField column = table.map(t -> t.schema().findField("_commit_ts")).orElse(null);
        if (column == null || table.get().currentSnapshot() == null) {
            return new CommitTimeBound(true, Optional.empty());
        }
        long maxMicros = Long.MIN_VALUE;
        try (CloseableIterable<FileScanTask> tasks = table.get().newScan().includeColumnStats().planFiles()) {
            for (FileScanTask task : tasks) {
                ByteBuffer upper = task.file().upperBounds() == null ? null : task.file().upperBounds().get(column.fieldId());
                if (upper == null) {
                    return new CommitTimeBound(false, Optional.empty());
                }
                maxMicros = Math.max(maxMicros, Conversions.<Long>fromByteBuffer(column.type(), upper));
            }
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot plan a scan of bronze." + bronzeTable + ": " + e.getMessage(), e);
        }
        return new CommitTimeBound(true, maxMicros == Long.MIN_VALUE ? Optional.empty() : Optional.of(Instant.EPOCH.plus(maxMicros, ChronoUnit.MICROS)));
    }

    /**
     * A full build: replaces the table's contents with the result (re-creating the table when the
     * result's columns changed) in one overwrite commit.
     *
     * @return the rows written
     * @throws TributaryException MODEL_ERROR when a unique-key column is not in the result, or a key repeats
     */
    public long replace(Target target, ResultSet rs, SourcePosition watermark, Optional<Instant> builtAt) throws SQLException {
        Schema wanted = resultSchema(target, rs.getMetaData());
        TableIdentifier id = TableIdentifier.of(Layer.GOLD.namespace(), target.name());
        Table table = lake.load(Layer.GOLD, target.name()).orElse(null);
        if (table != null && !table.schema().asStruct().equals(reassigned(table, wanted))) {
            // The model's columns changed: the rebuilt table gets the new shape.
            lake.catalog().dropTable(id);
            table = null;
        }
        if (table == null) {
            table = lake.catalog().ensure(id, wanted, s -> PartitionSpec.unpartitioned());
        }
        List<Record> records = read(target, rs, table.schema());
        OverwriteFiles overwrite = table.newOverwrite().overwriteByRowFilter(Expressions.alwaysTrue());
        if (!records.isEmpty()) {
            overwrite.addFile(new DataFiles(table).write(records, null));
        }
        lake.catalog().commit(stamp(overwrite, target, BuildKind.FULL, watermark, builtAt));
        return records.size();
    }

    /**
     * An incremental build: upserts the result by the unique key, keeping rows whose key is not in
     * it (as dbt does).
     *
     * @return the rows written; empty, having read nothing, when the table does not exist or the
     *         result's columns are not the table's (the caller builds in full)
     * @throws TributaryException MODEL_ERROR when a unique-key column is not in the result, or a key repeats
     */
    public Optional<Long> upsert(Target target, ResultSet rs, SourcePosition watermark, Optional<Instant> builtAt) throws SQLException {
        Schema wanted = resultSchema(target, rs.getMetaData());
        Optional<Table> loaded = lake.load(Layer.GOLD, target.name());
        if (loaded.isEmpty() || !loaded.get().schema().asStruct().equals(reassigned(loaded.get(), wanted))) {
            return Optional.empty();
        }
        Table table = loaded.get();
        List<Record> records = read(target, rs, table.schema());
        List<String> keyNames = target.uniqueKey().stream().map(c -> table.schema().caseInsensitiveFindField(c).name()).toList();
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
        RowDeltas.commit(lake.catalog(), table, stamp(delta, target, BuildKind.INCREMENTAL, watermark, builtAt), written, deletes);
        return Optional.of((long) records.size());
    }

    private static Schema resultSchema(Target target, ResultSetMetaData meta) throws SQLException {
        int n = meta.getColumnCount();
        List<Types.NestedField> fields = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            fields.add(Types.NestedField.optional(i, meta.getColumnLabel(i), icebergType(meta, i)));
        }
        Schema schema = new Schema(fields, Set.of());
        for (String column : target.uniqueKey()) {
            if (schema.caseInsensitiveFindField(column) == null) {
                throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot build gold." + target.name() + " from " + target.keyDeclared()
                        + ": unique_key column '" + column + "' is not a column of the result; the result has " + schema.columns().stream().map(f -> f.name()).toList());
            }
        }
        return schema;
    }

    /** A row's unique key, in one form whether built from the result or read from the table (bytes as buffers, UUIDs as UUIDs). */
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

    private <T extends SnapshotUpdate<T>> T stamp(T update, Target target, BuildKind kind, SourcePosition watermark, Optional<Instant> builtAt) {
        SnapshotPositions.stamp(update, pipeline, watermark).set(MODEL_HASH, target.fingerprint()).set(BUILD, kind.summaryValue());
        builtAt.ifPresent(at -> update.set(BUILT_AT, at.toString()));
        return update;
    }

    /** Reads the result into records; with a unique key, checks that no key appears twice. */
    private static List<Record> read(Target target, ResultSet rs, Schema schema) throws SQLException {
        int n = schema.columns().size();
        List<Integer> keyColumns = target.uniqueKey().stream().map(c -> schema.columns().indexOf(schema.caseInsensitiveFindField(c))).toList();
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
                    throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot build gold." + target.name() + " from " + target.keyDeclared()
                            + ": the result holds more than one row with the same unique_key " + target.uniqueKey());
                }
            }
            records.add(r);
        }
        return records;
    }

    private static Types.StructType reassigned(Table table, Schema wanted) {
        List<Types.NestedField> fields = new ArrayList<>();
        for (int i = 0; i < wanted.columns().size(); i++) {
            var f = wanted.columns().get(i);
            int id = i < table.schema().columns().size() ? table.schema().columns().get(i).fieldId() : -1;
            fields.add(Types.NestedField.optional(id, f.name(), f.type()));
        }
        return Types.StructType.of(fields);
    }

    private static Type icebergType(ResultSetMetaData meta, int i) throws SQLException {
        String typeName = meta.getColumnTypeName(i).toUpperCase(java.util.Locale.ROOT);
        if (typeName.startsWith("DECIMAL")) {
            return Types.DecimalType.of(Math.min(38, meta.getPrecision(i)), meta.getScale(i));
        }
        return switch (typeName) {
            case "BOOLEAN" -> Types.BooleanType.get();
            case "TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT" -> Types.IntegerType.get();
            case "BIGINT", "UINTEGER" -> Types.LongType.get();
            case "HUGEINT", "UBIGINT" -> Types.DecimalType.of(38, 0);
            case "FLOAT" -> Types.FloatType.get();
            case "DOUBLE" -> Types.DoubleType.get();
            case "DATE" -> Types.DateType.get();
            case "TIME" -> Types.TimeType.get();
            case "TIMESTAMP" -> Types.TimestampType.withoutZone();
            case "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ" -> Types.TimestampType.withZone();
            case "UUID" -> Types.UUIDType.get();
            case "BLOB" -> Types.BinaryType.get();
            // VARCHAR, and types Iceberg has no counterpart for (INTERVAL, STRUCT, MAP), as text.
            default -> Types.StringType.get();
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
                yield d.setScale(((Types.DecimalType) type).scale(), java.math.RoundingMode.HALF_UP);
            }
            case DATE -> rs.getObject(i, LocalDate.class);
            case TIME -> rs.getObject(i, LocalTime.class);
            case TIMESTAMP -> ((Types.TimestampType) type).shouldAdjustToUTC()
                    ? rs.getObject(i, OffsetDateTime.class).withOffsetSameInstant(ZoneOffset.UTC)
                    : rs.getObject(i, LocalDateTime.class);
            case UUID, BINARY -> IcebergTypes.toIcebergValue(v instanceof java.sql.Blob b ? b.getBytes(1, (int) b.length()) : v);
            case BOOLEAN -> v;
            default -> v.toString();
        };
    }
}
