package io.tributary.lake.catalog;

import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
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
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.encryption.EncryptedOutputFile;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;
import org.apache.iceberg.parquet.Parquet;

/** Writes Parquet data files and equality delete files for one table, with the table's write properties. */
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
     * {@code write.metadata.metrics.*} keys).
     */
    public static DataWriter<Record> dataWriter(Schema schema, PartitionSpec spec, StructLike partition, EncryptedOutputFile out, Map<String, String> properties)
            throws IOException {
        return Parquet.writeData(out).schema(schema).withSpec(spec).withPartition(partition).setAll(properties).metricsConfig(MetricsConfig.fromProperties(properties))
                .createWriterFunc(GenericParquetWriter::create).overwrite().build();
    }

    /** The table's properties with {@code extra} laid over them. */
    public static Map<String, String> properties(Table table, Map<String, String> extra) {
        Map<String, String> all = new HashMap<>(table.properties());
        all.putAll(extra);
        return all;
    }

    /** Writes an equality delete file on the columns of {@code deleteSchema} (Iceberg spec, "Equality Delete Files"). */
    public DeleteFile writeEqualityDeletes(Schema deleteSchema, List<Record> keys) {
        int[] ids = deleteSchema.columns().stream().mapToInt(f -> f.fieldId()).toArray();
        EqualityDeleteWriter<Record> writer = null;
        try {
            writer = Parquet.writeDeletes(files.newOutputFile()).rowSchema(deleteSchema).withSpec(table.spec()).equalityFieldIds(ids).setAll(table.properties())
                    .metricsConfig(MetricsConfig.fromProperties(table.properties())).createWriterFunc(GenericParquetWriter::create).overwrite().buildEqualityWriter();
            try (EqualityDeleteWriter<Record> w = writer) {
                for (Record r : keys) {
                    w.write(r);
                }
            }
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot write an equality delete file of table " + table.name() + ": " + e.getMessage(), e);
        }
        return writer.toDeleteFile();
    }
}
