package io.tributary.models;

import io.tributary.lake.Lake;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.layout.IcebergTypes;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeTable;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.math.BigDecimal;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.types.Type;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Materializes gold models: runs each model's SELECT with DuckDB over the lake read at its
 * transaction-consistent position ({@link Lake#consistentView()}), in dependency order, and
 * replaces the contents of {@code gold.<model>} with the result in one Iceberg overwrite stamped
 * with that position (or the given watermark for a lake without a recorded state), so readers
 * choose gold snapshots by the same rule as silver's.
 */
public final class GoldBuilder {
    private static final Logger LOG = LoggerFactory.getLogger(GoldBuilder.class);

    private final Lake lake;
    private final String pipeline;

    public GoldBuilder(Lake lake, String pipeline) {
        this.lake = lake;
        this.pipeline = pipeline;
    }

    /** Builds every model; returns how many rows each produced, in build order. */
    public List<String> build(List<Model> models, SourcePosition watermark) {
        List<String> built = new ArrayList<>();
        if (models.isEmpty()) {
            return built;
        }
        io.tributary.lake.scan.LakeView view = lake.consistentView();
        SourcePosition builtAt = view.consistent().orElse(watermark);
        try (QueryEngine engine = QueryEngine.open(view.tables())) {
            for (Model model : models) {
                Instant start = Instant.now();
                long rows = engine.stream(model.sql(), rs -> write(model, rs, builtAt));
                lake.load(Layer.GOLD, model.name()).ifPresent(t -> engine.register(LakeTable.of(Layer.GOLD, t)));
                LOG.info("Built gold.{}: {} rows in {} ms", model.name(), rows, Duration.between(start, Instant.now()).toMillis());
                built.add(model.name());
            }
        } catch (TributaryException e) {
            if (e.errorCode() == ErrorCode.INVALID_SQL) {
                throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot build gold models: " + e.getMessage(), e);
            }
            throw e;
        }
        return built;
    }

    private long write(Model model, ResultSet rs, SourcePosition watermark) throws SQLException {
        ResultSetMetaData meta = rs.getMetaData();
        int n = meta.getColumnCount();
        List<org.apache.iceberg.types.Types.NestedField> fields = new ArrayList<>();
        for (int i = 1; i <= n; i++) {
            fields.add(org.apache.iceberg.types.Types.NestedField.optional(i, meta.getColumnLabel(i), icebergType(meta, i)));
        }
        Schema wanted = new Schema(fields, Set.of());
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
        Schema schema = table.schema();
        List<Record> records = new ArrayList<>();
        while (rs.next()) {
            GenericRecord r = GenericRecord.create(schema);
            for (int i = 1; i <= n; i++) {
                r.set(i - 1, value(rs, i, schema.columns().get(i - 1).type()));
            }
            records.add(r);
        }
        OverwriteFiles overwrite = table.newOverwrite().overwriteByRowFilter(Expressions.alwaysTrue());
        if (!records.isEmpty()) {
            overwrite.addFile(new DataFiles(table).write(records, null));
        }
        lake.catalog().commit(SnapshotPositions.stamp(overwrite, pipeline, watermark));
        return records.size();
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
