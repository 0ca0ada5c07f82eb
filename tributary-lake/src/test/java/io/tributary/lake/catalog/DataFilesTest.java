package io.tributary.lake.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.io.LocalInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The lake's Parquet writing defaults: no dictionary for a column unique on every row, unless the table says otherwise; no Hadoop configuration file read. */
class DataFilesTest {
    private static final Schema SCHEMA = new Schema(Types.NestedField.required(1, "status", Types.StringType.get()),
            Types.NestedField.required(2, "_position", Types.StringType.get()));

    @TempDir
    Path dir;

    @Test
    void positionColumnIsWrittenWithoutADictionaryOthersKeepIt() throws Exception {
        try (LakeCatalog catalog = LakeCatalog.open(dir)) {
            Table table = catalog.ensure(TableIdentifier.of("silver", "orders"), SCHEMA, s -> PartitionSpec.unpartitioned());
            Map<String, Set<Encoding>> encodings = encodings(new DataFiles(table).write(rows(), null));
            assertThat(encodings.get("_position")).doesNotContain(Encoding.PLAIN_DICTIONARY, Encoding.RLE_DICTIONARY);
            assertThat(encodings.get("status")).containsAnyOf(Encoding.PLAIN_DICTIONARY, Encoding.RLE_DICTIONARY);
        }
    }

    @Test
    void aTablePropertyForTheColumnWins() throws Exception {
        try (LakeCatalog catalog = LakeCatalog.open(dir)) {
            Table table = catalog.ensure(TableIdentifier.of("silver", "orders"), SCHEMA, s -> PartitionSpec.unpartitioned());
            table.updateProperties().set("write.parquet.dict-encoding-enabled.column._position", "true").commit();
            Map<String, Set<Encoding>> encodings = encodings(new DataFiles(table).write(rows(), null));
            assertThat(encodings.get("_position")).containsAnyOf(Encoding.PLAIN_DICTIONARY, Encoding.RLE_DICTIONARY);
        }
    }

    @Test
    void writersReadNoHadoopConfigurationFile() throws Exception {
        // Hadoop's Configuration looks its files up through the context class loader of the thread
        // that creates it: one that records the look-ups sees none while the lake writes.
        List<String> lookedUp = java.util.Collections.synchronizedList(new ArrayList<>());
        ClassLoader recording = new ClassLoader(getClass().getClassLoader()) {
            @Override
            public java.net.URL getResource(String name) {
                lookedUp.add(name);
                return super.getResource(name);
            }
        };
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        try (LakeCatalog catalog = LakeCatalog.open(dir)) {
            Table table = catalog.ensure(TableIdentifier.of("silver", "orders"), SCHEMA, s -> PartitionSpec.unpartitioned());
            thread.setContextClassLoader(recording);
            DataFiles files = new DataFiles(table);
            DataFile data = files.write(rows(), null);
            files.writePositionDeletes(List.of(new io.tributary.lake.scan.RowLocation(data.location(), 3)));
            thread.setContextClassLoader(before);
            assertThat(data.recordCount()).isEqualTo(1000);
            assertThat(encodings(data)).containsKeys("status", "_position");
        } finally {
            thread.setContextClassLoader(before);
        }
        assertThat(lookedUp).noneMatch(HadoopDefaults::isConfigurationFile);
        assertThat(HadoopDefaults.isConfigurationFile("core-default.xml")).isTrue();
        assertThat(HadoopDefaults.isConfigurationFile("mapred-site.xml")).isTrue();
        assertThat(HadoopDefaults.isConfigurationFile("META-INF/services/core-default.xml")).isFalse();
    }

    private static List<Record> rows() {
        List<Record> rows = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            Record r = GenericRecord.create(SCHEMA);
            r.set(0, i % 3 == 0 ? "shipped" : "open");
            // Few distinct values: a column that may use a dictionary keeps it (Parquet falls back to plain
            // encoding when a dictionary does not pay, as with real, unique positions).
            r.set(1, String.format("%016X#%d", 1000L, i % 4));
            rows.add(r);
        }
        return rows;
    }

    private static Map<String, Set<Encoding>> encodings(DataFile file) throws Exception {
        try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(Path.of(java.net.URI.create(file.location()).getPath())))) {
            Map<String, Set<Encoding>> out = new java.util.HashMap<>();
            for (ColumnChunkMetaData column : reader.getFooter().getBlocks().get(0).getColumns()) {
                out.put(column.getPath().toDotString(), column.getEncodings());
            }
            return out;
        }
    }
}
