package io.tributary.lake.silver;

import io.tributary.config.TableOptions;
import io.tributary.lake.layout.IcebergTypes;
import io.tributary.spi.Row;
import java.util.List;
import org.apache.iceberg.Schema;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Where the silver columns of one {@link SilverProjection} sit in a table's schema (silver or its
 * history), resolved once per micro-batch and source schema: records are then filled by position,
 * without a look-up by name per value. A column of a source schema older than its rename is found
 * under its new name. Records are copies of one empty template, which shares the name index
 * {@link GenericRecord#create} would look up in Iceberg's cache for every record.
 */
final class ColumnPlacement {
    private final SilverProjection projection;
    private final List<SilverProjection.Output> outputs;
    private final int[] positions;
    private final Type[] types;
    private final GenericRecord template;

    ColumnPlacement(Schema schema, SilverProjection projection, TableOptions options) {
        this.projection = projection;
        this.outputs = projection.outputs();
        this.positions = new int[outputs.size()];
        this.types = new Type[outputs.size()];
        List<Types.NestedField> columns = schema.columns();
        for (int i = 0; i < outputs.size(); i++) {
            Types.NestedField field = schema.findField(outputs.get(i).name());
            if (field == null) {
                field = schema.findField(SilverWriter.renamedTo(outputs.get(i).name(), schema, options));
            }
            positions[i] = columns.indexOf(field);
            types[i] = field.type();
        }
        this.template = GenericRecord.create(schema);
    }

    /** The projection the placement was resolved for. */
    SilverProjection projection() {
        return projection;
    }

    /** A new record of the schema with the silver columns of {@code row}; the other columns are null. */
    Record record(Row row) {
        Record r = template.copy();
        for (int i = 0; i < positions.length; i++) {
            r.set(positions[i], IcebergTypes.toIcebergValue(projection.keyValue(outputs.get(i), row), types[i]));
        }
        return r;
    }

    /** The position of a column of the schema, by name. */
    static int position(Schema schema, String name) {
        return schema.columns().indexOf(schema.findField(name));
    }
}
