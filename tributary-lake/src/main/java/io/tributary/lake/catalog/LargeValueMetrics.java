package io.tributary.lake.catalog;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.MetricsModes;
import org.apache.iceberg.Schema;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Column metrics for files that hold very large string or binary values (a 100 MB text).
 *
 * <p>Iceberg computes a Parquet file's lower and upper bounds (Iceberg spec, "Manifests": column
 * bounds) from the writer's in-memory footer, which keeps each column's full minimum and maximum:
 * it decodes them whole before truncating them to {@code write.metadata.metrics.default}'s length,
 * so one 100 MB string costs about 600 MB of transient heap per file (a 200 MB char buffer and a
 * 100 MB string, for each bound). For a column holding a value above {@link #MAX_BOUNDED_VALUE_BYTES}
 * a file is written with that column's metrics mode set to {@code counts}: value and null counts are
 * kept, bounds are not, so readers cannot skip the file by that column, and nothing else changes.
 */
public final class LargeValueMetrics {
    /** String or binary values longer than this (characters or bytes) make their column's file keep counts only. */
    public static final long MAX_BOUNDED_VALUE_BYTES = 1L << 20;

    private LargeValueMetrics() {
    }

    /**
     * Table properties to add to a writer of {@code records} (top-level columns of {@code schema}):
     * {@code write.metadata.metrics.column.<name> = counts} for each string or binary column holding a
     * value above {@link #MAX_BOUNDED_VALUE_BYTES}; empty when there is none.
     */
    public static Map<String, String> forRecords(Schema schema, Iterable<Record> records) {
        List<Types.NestedField> columns = schema.columns();
        int[] candidates = columns.stream().filter(f -> isVariableLength(f.type())).mapToInt(columns::indexOf).toArray();
        if (candidates.length == 0) {
            return Map.of();
        }
        Set<String> large = new LinkedHashSet<>();
        for (Record r : records) {
            for (int i : candidates) {
                if (valueLength(r.get(i)) > MAX_BOUNDED_VALUE_BYTES) {
                    large.add(columns.get(i).name());
                }
            }
        }
        return countsOnly(large);
    }

    /**
     * The same for a file rewritten from {@code inputs} (compaction), decided from their metadata: a
     * string or binary column with non-null values but no lower or upper bound in some input may hold
     * a large value (or its bounds are not kept by configuration), so the output keeps counts only.
     */
    public static Map<String, String> forInputs(Schema schema, Iterable<DataFile> inputs) {
        Set<String> unbounded = new LinkedHashSet<>();
        for (DataFile f : inputs) {
            for (Types.NestedField c : schema.columns()) {
                if (!isVariableLength(c.type()) || unbounded.contains(c.name())) {
                    continue;
                }
                Long values = f.valueCounts() == null ? null : f.valueCounts().get(c.fieldId());
                Long nulls = f.nullValueCounts() == null ? null : f.nullValueCounts().get(c.fieldId());
                boolean hasValues = values == null || nulls == null || values > nulls;
                boolean bounded = f.lowerBounds() != null && f.lowerBounds().containsKey(c.fieldId())
                        && f.upperBounds() != null && f.upperBounds().containsKey(c.fieldId());
                if (hasValues && !bounded) {
                    unbounded.add(c.name());
                }
            }
        }
        return countsOnly(unbounded);
    }

    private static Map<String, String> countsOnly(Set<String> columns) {
        Map<String, String> properties = new HashMap<>();
        for (String c : columns) {
            properties.put(TableProperties.METRICS_MODE_COLUMN_CONF_PREFIX + c, MetricsModes.Counts.get().toString());
        }
        return properties;
    }

    private static boolean isVariableLength(Type type) {
        return type.typeId() == Type.TypeID.STRING || type.typeId() == Type.TypeID.BINARY;
    }

    /** The characters of a string value or the bytes of a binary one (in any of the forms Iceberg's writers take); 0 for other values. */
    public static long valueLength(Object v) {
        // String first: a test against a final class is one compare, while one against an interface
        // (CharSequence) searches the class's interfaces, which cost 4% of a snapshot's CPU here.
        if (v instanceof String s) {
            return s.length();
        } else if (v instanceof CharSequence c) {
            return c.length();
        } else if (v instanceof ByteBuffer b) {
            return b.remaining();
        } else if (v instanceof byte[] b) {
            return b.length;
        }
        return 0;
    }
}
