package io.tributary.lake.catalog;

import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.util.List;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DeleteFile;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionKey;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericAppenderFactory;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.deletes.EqualityDeleteWriter;
import org.apache.iceberg.encryption.EncryptedOutputFile;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFileFactory;

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
        GenericAppenderFactory factory = new GenericAppenderFactory(table.schema(), table.spec());
        factory.setAll(table.properties());
        factory.setAll(LargeValueMetrics.forRecords(table.schema(), records));
        EncryptedOutputFile out = partition == null ? files.newOutputFile() : files.newOutputFile(table.spec(), partition);
        DataWriter<Record> writer = factory.newDataWriter(out, FileFormat.PARQUET, partition);
        try (writer) {
            for (Record r : records) {
                writer.write(r);
            }
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot write a data file of table " + table.name() + ": " + e.getMessage(), e);
        }
        return writer.toDataFile();
    }

    /** Writes an equality delete file on the columns of {@code deleteSchema} (Iceberg spec, "Equality Delete Files"). */
    public DeleteFile writeEqualityDeletes(Schema deleteSchema, List<Record> keys) {
        int[] ids = deleteSchema.columns().stream().mapToInt(f -> f.fieldId()).toArray();
        GenericAppenderFactory factory = new GenericAppenderFactory(table.schema(), table.spec(), ids, deleteSchema, null);
        factory.setAll(table.properties());
        EqualityDeleteWriter<Record> writer = factory.newEqDeleteWriter(files.newOutputFile(), FileFormat.PARQUET, null);
        try (writer) {
            for (Record r : keys) {
                writer.write(r);
            }
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot write an equality delete file of table " + table.name() + ": " + e.getMessage(), e);
        }
        return writer.toDeleteFile();
    }
}
