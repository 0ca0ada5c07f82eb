package io.tributary.lake.scan;

import java.util.List;
import java.util.Set;
import org.apache.iceberg.Table;
import org.apache.iceberg.types.Types;

/** The primary key of a silver table: its Iceberg identifier fields (Iceberg spec, "Identifier Field IDs"), in column order. */
public final class TableKeys {
    private TableKeys() {
    }

    /** The key columns' names in the order of the table's columns; empty for a table without a primary key. */
    public static List<String> primaryKey(Table table) {
        Set<Integer> ids = table.schema().identifierFieldIds();
        return table.schema().columns().stream().filter(c -> ids.contains(c.fieldId())).map(Types.NestedField::name).toList();
    }
}
