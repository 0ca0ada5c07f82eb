package io.tributary.lake.catalog;

import io.tributary.lake.scan.RowLocation;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.MetricsConfig;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.StructLike;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.data.parquet.GenericParquetWriter;
import org.apache.iceberg.deletes.PositionDelete;
import org.apache.iceberg.deletes.PositionDeleteWriter;
import org.apache.iceberg.encryption.EncryptedOutputFile;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.parquet.Parquet;

/**
 * Writes Parquet data files and position delete files for one table, with the table's write
 * properties. The rows of a data file are at the ordinals of the list they were given in, which is
 * how the writers know the {@link RowLocation} of every row they add.
 */
public final class DataFiles {
    private final Table table;
    private final OutputFileFactory files;

    public DataFiles(Table table) {
        this.table = table;
        this.files = OutputFileFactory.builderFor(table, 1, System.nanoTime()).format(FileFormat.PARQUET).build();
    }

    /**
     * Writes {@code records} into one data file of the partition (null for an unpartitioned table);
     * columns holding very large values keep counts only ({@link LargeValueMetrics}).
     */
    public DataFile write(List<Record> records, PartitionKey partition) {
        EncryptedOutputFile out = partition == null ? files.newOutputFile() : files.newOutputFile(table.spec(), partition);
        DataWriter<Record> writer = null;
        try {
            writer = dataWriter(table.schema(), table.spec(), partition, out, properties(table, LargeValueMetrics.forRecords(table.schema(), records)));
            try (DataWriter<Record> w = writer) {
                for (Record r : records) {
                    w.write(r);
                }
            }
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot write a data file of table " + table.name() + ": " + e.getMessage(), e);
        }
        return writer.toDataFile();
    }

    /**
     * Opens a Parquet writer of generic records for one data file: the table's write properties
     * plus {@code properties} (metrics modes among them, read as Iceberg's
     * {@code write.metadata.metrics.*} keys), without Hadoop's configuration files ({@link HadoopDefaults}).
     */
    public static DataWriter<Record> dataWriter(Schema schema, PartitionSpec spec, StructLike partition, EncryptedOutputFile out, Map<String, String> properties)
            throws IOException {
        return HadoopDefaults.withoutConfigurationFiles(() -> Parquet.writeData(out)).schema(schema).withSpec(spec).withPartition(partition).setAll(properties).metricsConfig(MetricsConfig.fromProperties(properties))
                .createWriterFunc(GenericParquetWriter::create).overwrite().build();
    }

    /**
     * The table's properties with {@code extra} laid over them, on top of the lake's defaults: no
     * dictionary encoding for {@link #UNIQUE_PER_ROW} columns (a table property set for them wins).
     */
    public static Map<String, String> properties(Table table, Map<String, String> extra) {
        Map<String, String> all = new HashMap<>();
        for (String column : UNIQUE_PER_ROW) {
            if (table.schema().findField(column) != null) {
                all.put(org.apache.iceberg.TableProperties.PARQUET_DICT_ENCODING_ENABLED_COLUMN_PREFIX + column, "false");
            }
        }
        all.putAll(table.properties());
        all.putAll(extra);
        return all;
    }

    /**
     * Columns whose value differs on every row ({@code _position}, the event's source position):
     * a Parquet dictionary for them only costs a hash map insert per value before the writer falls
     * back to plain encoding (3–4% of a streaming profile's samples; the benchmark measured no
     * change beyond its run-to-run spread).
     */
    static final List<String> UNIQUE_PER_ROW = List.of("_position");

    /**
     * Writes a position delete file naming {@code rows} (Iceberg spec, "Position Delete Files"), sorted
     * by file and position as the spec requires; the caller validates, in the commit that adds it,
     * that the data files it names still exist ({@link #referencedFiles}).
     */
    public DeleteFile writePositionDeletes(Collection<RowLocation> rows) {
        List<RowLocation> sorted = new ArrayList<>(rows);
        Collections.sort(sorted);
        try {
            EncryptedOutputFile out = files.newOutputFile();
            PositionDeleteWriter<Record> writer = HadoopDefaults.withoutConfigurationFiles(() -> Parquet.writeDeletes(out)).withSpec(table.spec())
                    .setAll(table.properties()).metricsConfig(MetricsConfig.forPositionDelete()).overwrite().buildPositionWriter();
            PositionDelete<Record> delete = PositionDelete.create();
            try (writer) {
                for (RowLocation r : sorted) {
                    delete.set(0, r.file());
                    delete.set(1, r.position());
                    writer.write(delete);
                }
            }
            return writer.toDeleteFile();
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot write a position delete file of table " + table.name() + ": " + e.getMessage(), e);
        }
    }

    /** The data files {@code rows} name. */
    public static List<String> referencedFiles(Collection<RowLocation> rows) {
        return rows.stream().map(RowLocation::file).distinct().toList();
    }
}
