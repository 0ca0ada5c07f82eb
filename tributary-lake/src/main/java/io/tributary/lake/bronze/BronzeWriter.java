package io.tributary.lake.bronze;

import io.tributary.config.TableOptions;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.SchemaEvolution;
import io.tributary.lake.layout.IcebergTypes;
import io.tributary.lake.layout.TableNames;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.Column;
import io.tributary.spi.Row;
import io.tributary.spi.TableSchema;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import io.tributary.spi.SourcePosition;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.OverwriteFiles;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.InternalRecordWrapper;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;

/**
 * Appends change events to {@code bronze.<table>}: the row image (after, or before for a delete) in
 * typed snake_case columns plus {@code _op}, {@code _position}, {@code _tx_id}, {@code _commit_ts}
 * and {@code _ingested_at}; partitioned by day of {@code _commit_ts}.
 */
public final class BronzeWriter {
    public static final List<String> METADATA = List.of("_op", "_position", "_tx_id", "_commit_ts", "_ingested_at");

    private final LakeCatalog catalog;

    public BronzeWriter(LakeCatalog catalog) {
        this.catalog = catalog;
    }

    public static Schema schema(TableSchema source) {
        AtomicInteger ids = new AtomicInteger();
        List<Types.NestedField> fields = new ArrayList<>();
        for (Column c : source.columns()) {
            int id = ids.incrementAndGet();
            fields.add(Types.NestedField.optional(id, TableNames.snakeCase(c.name()), IcebergTypes.toIceberg(c.type(), () -> 10_000 + ids.incrementAndGet())));
        }
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_op", Types.StringType.get()));
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_position", Types.StringType.get()));
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_tx_id", Types.LongType.get()));
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_commit_ts", Types.TimestampType.withZone()));
        fields.add(Types.NestedField.required(ids.incrementAndGet(), "_ingested_at", Types.TimestampType.withZone()));
        return new Schema(fields, Set.of());
    }

    /** Creates or evolves the table for every schema the events carry, then writes them; returns the prepared append. */
    public AppendFiles prepare(TableIdentifier id, List<ChangeEvent> events, OffsetDateTime ingestedAt, TableOptions options) {
        AppendFiles append = null;
        for (DataFile file : write(id, events, ingestedAt, options)) {
            append = (append == null ? catalog.load(id).orElseThrow().newAppend() : append).appendFile(file);
        }
        return append;
    }

    /**
     * Like {@link #prepare}, for the first rows of an initial snapshot that starts over: the same
     * commit removes the snapshot reads ({@code _op = 'r'}) an earlier, unfinished attempt committed
     * at or after {@code abandonedFrom}, so bronze holds one consistent snapshot and then the
     * changes after it. Change events before that position are kept.
     */
    public OverwriteFiles prepareRestartedSnapshot(TableIdentifier id, List<ChangeEvent> events, OffsetDateTime ingestedAt, SourcePosition abandonedFrom,
                                                   TableOptions options) {
        List<DataFile> files = write(id, events, ingestedAt, options);
        Table table = catalog.load(id).orElseThrow();
        OverwriteFiles overwrite = table.newOverwrite();
        if (table.currentSnapshot() != null) {
            overwrite.validateFromSnapshot(table.currentSnapshot().snapshotId());
            removeAbandonedReads(table, abandonedFrom.encoded(), overwrite);
        }
        files.forEach(overwrite::addFile);
        return overwrite;
    }

    /**
     * Removes the reads ({@code _op = r}) at or after {@code from} from every data file that holds
     * any: a file holding only such reads is dropped, one that also holds other events is written
     * again without them (Iceberg's delete by row filter refuses a file only some of whose rows match).
     */
    private static void removeAbandonedReads(Table table, String from, OverwriteFiles overwrite) {
        org.apache.iceberg.expressions.Expression abandoned = Expressions.and(Expressions.equal("_op", "r"), Expressions.greaterThanOrEqual("_position", from));
        Schema schema = table.schema();
        DataFiles files = new DataFiles(table);
        try (org.apache.iceberg.io.CloseableIterable<org.apache.iceberg.FileScanTask> tasks = table.newScan().filter(abandoned).planFiles()) {
            for (org.apache.iceberg.FileScanTask task : tasks) {
                DataFile file = task.file();
                List<Record> kept = new ArrayList<>();
                boolean removed = false;
                // Every row group is read: the rows that stay are written again.
                try (org.apache.iceberg.io.CloseableIterable<Record> rows = io.tributary.lake.catalog.LocalFiles.readParquet(table.io(), file.path(), schema, Expressions.alwaysTrue())) {
                    for (Record r : rows) {
                        if ("r".equals(r.getField("_op")) && ((String) r.getField("_position")).compareTo(from) >= 0) {
                            removed = true;
                        } else {
                            kept.add(r.copy());
                        }
                    }
                }
                if (!removed) {
                    continue;
                }
                overwrite.deleteFile(file);
                if (!kept.isEmpty()) {
                    PartitionKey key = new PartitionKey(table.spec(), schema);
                    key.partition(new InternalRecordWrapper(schema.asStruct()).wrap(kept.get(0)));
                    overwrite.addFile(files.write(kept, key));
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("Cannot read the data files of " + table.name() + " to remove an abandoned snapshot's reads", e);
        }
    }

    private List<DataFile> write(TableIdentifier id, List<ChangeEvent> events, OffsetDateTime ingestedAt, TableOptions options) {
        Table table = null;
        TableSchema last = null;
        Map<String, String> renamedFrom = new LinkedHashMap<>();
        options.renamedFrom().forEach((now, before) -> renamedFrom.put(TableNames.snakeCase(now), TableNames.snakeCase(before)));
        for (ChangeEvent e : events) {
            if (e.schema() != last && e.operation() != io.tributary.spi.ChangeOperation.TRUNCATE) {
                table = catalog.ensure(id, schema(e.schema()), s -> PartitionSpec.builderFor(s).day("_commit_ts").build(),
                        new SchemaEvolution(e.table(), Set.copyOf(METADATA), renamedFrom, e.position()));
                last = e.schema();
            }
        }
        if (table == null) {
            table = catalog.load(id).orElseGet(() -> catalog.ensure(id, schema(events.get(0).schema()), s -> PartitionSpec.builderFor(s).day("_commit_ts").build()));
        }
        Schema schema = table.schema();
        PartitionKey key = new PartitionKey(table.spec(), schema);
        InternalRecordWrapper wrapper = new InternalRecordWrapper(schema.asStruct());
        Map<PartitionKey, List<Record>> byDay = new LinkedHashMap<>();
        Map<TableSchema, int[]> positions = new java.util.IdentityHashMap<>();
        int[] meta = METADATA.stream().mapToInt(name -> schema.columns().indexOf(schema.findField(name))).toArray();
        Type[] types = schema.columns().stream().map(Types.NestedField::type).toArray(Type[]::new);
        // Records are copies of one empty record: GenericRecord.create looks its name index up per record.
        GenericRecord template = GenericRecord.create(schema);
        for (ChangeEvent e : events) {
            int[] at = positions.computeIfAbsent(e.schema(), s -> fieldPositions(schema, s, renamedFrom));
            Record r = record(template, types, at, meta, e, ingestedAt);
            key.partition(wrapper.wrap(r));
            byDay.computeIfAbsent(key.copy(), k -> new ArrayList<>()).add(r);
        }
        DataFiles files = new DataFiles(table);
        List<DataFile> written = new ArrayList<>();
        for (Map.Entry<PartitionKey, List<Record>> day : byDay.entrySet()) {
            written.add(files.write(day.getValue(), day.getKey()));
        }
        return written;
    }

    /**
     * Where each source column of {@code source} sits in the table's schema; a column of a schema
     * older than a rename is found under its new name.
     */
    private static int[] fieldPositions(Schema schema, TableSchema source, Map<String, String> renamedFrom) {
        int[] at = new int[source.columns().size()];
        for (int i = 0; i < at.length; i++) {
            String name = TableNames.snakeCase(source.columns().get(i).name());
            Types.NestedField field = schema.findField(name);
            if (field == null) {
                field = renamedFrom.entrySet().stream().filter(r -> r.getValue().equals(name)).map(r -> schema.findField(r.getKey()))
                        .filter(java.util.Objects::nonNull).findFirst().orElse(null);
            }
            at[i] = schema.columns().indexOf(field);
        }
        return at;
    }

    /** {@code types} holds the type of each column of the table, {@code meta} the positions of the {@link #METADATA} columns, in that order. */
    private static Record record(GenericRecord template, Type[] types, int[] at, int[] meta, ChangeEvent e, OffsetDateTime ingestedAt) {
        GenericRecord r = template.copy();
        Row image = e.image();
        if (image != null) {
            for (int i = 0; i < at.length; i++) {
                r.set(at[i], IcebergTypes.toIcebergValue(image.get(i), types[at[i]]));
            }
        }
        r.set(meta[0], e.operation().code());
        r.set(meta[1], e.position().encoded());
        r.set(meta[2], e.transactionId());
        r.set(meta[3], e.commitTimestamp().atOffset(ZoneOffset.UTC));
        r.set(meta[4], ingestedAt);
        return r;
    }
}
