package io.tributary.lake.catalog;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.Transaction;
import org.apache.iceberg.UpdateSchema;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.TypeUtil;
import org.apache.iceberg.types.Types;

/**
 * How a lake table follows a schema change of its source table (Iceberg spec, "Schema Evolution":
 * columns are matched by field id, so renames and type promotions keep the data already written).
 *
 * <ul>
 * <li>an added column is added (optional);</li>
 * <li>a widened type is promoted where Iceberg allows it: int to long, float to double, decimal(p,s)
 * to decimal(p2,s) with p2 &gt; p; types that map to the same Iceberg type (varchar(n) to varchar(m))
 * change nothing;</li>
 * <li>a dropped column stays in the table, null from then on;</li>
 * <li>a renamed column follows {@code renamedFrom} (lake name now to lake name before) and keeps
 * its field id; without a mapping, a column that disappears while another appears is refused;</li>
 * <li>any other type change is refused with INCOMPATIBLE_SCHEMA_CHANGE.</li>
 * </ul>
 *
 * The table's properties record the source columns it last followed and the position of the first
 * event with that schema: events of an older schema (earlier in the same micro-batch, or replayed
 * after a crash) are written into the evolved table without evolving it back.
 *
 * @param source          the source table, for messages
 * @param metadataColumns the table's own columns ({@code _op}, {@code _position}, ...), not the source's
 * @param renamedFrom     lake column name now to lake column name before the rename
 * @param at              the position of the first event carrying this schema
 */
public record SchemaEvolution(TableId source, Set<String> metadataColumns, Map<String, String> renamedFrom, SourcePosition at) {
    static final String SCHEMA_AT = "tributary.source-schema-at";
    static final String SOURCE_COLUMNS = "tributary.source-columns";
    private static final ObjectMapper JSON = new ObjectMapper();

    public SchemaEvolution {
        requireNonNull(source, "source is null");
        metadataColumns = Set.copyOf(requireNonNull(metadataColumns, "metadataColumns is null"));
        renamedFrom = Map.copyOf(requireNonNull(renamedFrom, "renamedFrom is null"));
        requireNonNull(at, "at is null");
    }

    /** The properties a table created for {@code schema} starts with. */
    Map<String, String> initialProperties(Schema schema) {
        return Map.of(SCHEMA_AT, at.encoded(), SOURCE_COLUMNS, json(sourceColumns(schema)));
    }

    /** What changes the table needs to follow {@code desired}; empty when nothing (or when it is an older schema). */
    Plan plan(Table table, Schema desired) {
        String recordedAt = table.properties().get(SCHEMA_AT);
        if (recordedAt != null && at.compareTo(SourcePosition.decode(recordedAt)) < 0) {
            return Plan.NONE;
        }
        Schema current = table.schema();
        List<String> now = sourceColumns(desired);
        String recorded = table.properties().get(SOURCE_COLUMNS);
        List<String> before = recorded != null ? parse(recorded) : sourceColumns(current);

        Map<String, String> renames = new LinkedHashMap<>();
        renamedFrom.forEach((newName, oldName) -> {
            if (now.contains(newName) && current.findField(newName) == null && current.findField(oldName) != null) {
                renames.put(oldName, newName);
            }
        });
        List<Types.NestedField> added = new ArrayList<>();
        Map<String, Type.PrimitiveType> promoted = new LinkedHashMap<>();
        for (String name : now) {
            Types.NestedField wanted = desired.findField(name);
            String existingName = renames.entrySet().stream().filter(e -> e.getValue().equals(name)).map(Map.Entry::getKey).findFirst().orElse(name);
            Types.NestedField existing = current.findField(existingName);
            if (existing == null) {
                added.add(wanted);
            } else if (!sameType(existing.type(), wanted.type())) {
                if (existing.type().isPrimitiveType() && wanted.type().isPrimitiveType()
                        && TypeUtil.isPromotionAllowed(existing.type(), wanted.type().asPrimitiveType())) {
                    promoted.put(existingName, wanted.type().asPrimitiveType());
                } else {
                    throw new TributaryException(ErrorCode.INCOMPATIBLE_SCHEMA_CHANGE, "Cannot follow the schema change of " + source + " in " + table.name()
                            + ": column " + name + " changed type from " + existing.type() + " to " + wanted.type() + " at " + at
                            + ", which the lake table cannot hold (Iceberg widens only int to long, float to double and a decimal's precision at the same scale)."
                            + " Revert the column's type in the source, or add a new column of the new type instead", null);
                }
            }
        }
        List<String> disappeared = before.stream().filter(n -> !now.contains(n) && !renames.containsKey(n)).toList();
        if (!added.isEmpty() && !disappeared.isEmpty()) {
            List<String> appeared = added.stream().map(Types.NestedField::name).toList();
            throw new TributaryException(ErrorCode.INCOMPATIBLE_SCHEMA_CHANGE, "Cannot follow the schema change of " + source + " in " + table.name()
                    + ": column(s) " + disappeared + " disappeared and " + appeared + " appeared in the same change at " + at
                    + ", which may be a rename. If it is one, map it in the configuration (tables: " + source + ": renamed-from: {"
                    + appeared.get(0) + ": " + disappeared.get(0) + "}) and restart; if columns were dropped and added, change a row between the two ALTER TABLE statements", null);
        }
        boolean schemaChanges = !renames.isEmpty() || !promoted.isEmpty() || !added.isEmpty();
        if (!schemaChanges && before.equals(now)) {
            return Plan.NONE;
        }
        return new Plan(renames, promoted, added, now, schemaChanges);
    }

    /** The changes one schema change makes; {@link #apply} commits them in one transaction. */
    record Plan(Map<String, String> renames, Map<String, Type.PrimitiveType> promoted, List<Types.NestedField> added, List<String> columns,
                boolean changesSchema) {
        static final Plan NONE = new Plan(Map.of(), Map.of(), List.of(), List.of(), false);

        boolean isEmpty() {
            return this == NONE;
        }

        void apply(Table table, SourcePosition at) {
            Transaction transaction = table.newTransaction();
            if (changesSchema) {
                UpdateSchema update = transaction.updateSchema();
                renames.forEach(update::renameColumn);
                promoted.forEach(update::updateColumn);
                added.forEach(f -> update.addColumn(f.name(), f.type()));
                update.commit();
            }
            transaction.updateProperties().set(SCHEMA_AT, at.encoded()).set(SOURCE_COLUMNS, json(columns)).commit();
            transaction.commitTransaction();
        }

        @Override
        public String toString() {
            return "renamed " + renames + ", widened " + promoted.keySet() + ", added " + added.stream().map(Types.NestedField::name).toList()
                    + ", source columns now " + columns;
        }
    }

    private List<String> sourceColumns(Schema schema) {
        return schema.columns().stream().map(Types.NestedField::name).filter(n -> !metadataColumns.contains(n)).toList();
    }

    private static boolean sameType(Type a, Type b) {
        if (a.isPrimitiveType() && b.isPrimitiveType()) {
            return a.equals(b);
        }
        if (a.isListType() && b.isListType()) {
            return sameType(a.asListType().elementType(), b.asListType().elementType());
        }
        return false;
    }

    private static String json(List<String> columns) {
        try {
            return JSON.writeValueAsString(columns);
        } catch (JsonProcessingException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot encode column names: " + e.getMessage(), e);
        }
    }

    private static List<String> parse(String json) {
        try {
            return JSON.readValue(json, new TypeReference<List<String>>() { });
        } catch (JsonProcessingException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot read the property " + SOURCE_COLUMNS + ": " + e.getMessage(), e);
        }
    }
}
