package io.tributary.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.layout.Layer;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.UpdateProperties;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Incremental gold builds over a local lake; the model reads a CSV file standing in for bronze, with
 * a {@code pos} column in the role of {@code _position}.
 */
class GoldBuilderTest {
    private static final String MODEL = """
            -- Rows changed since the last build.
            -- materialized: incremental
            -- unique_key: id
            SELECT * REPLACE (CAST(id AS INTEGER) AS id) FROM read_csv('%s', header = true, all_varchar = true)
            WHERE pos > {{ last_position }}
            """;

    @TempDir
    Path dir;
    private Lake lake;
    private GoldBuilder builder;
    private Path csv;

    @BeforeEach
    void open() throws IOException {
        lake = Lake.open(new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.DISABLED), "p", t -> TableOptions.DEFAULT);
        builder = new GoldBuilder(lake, "p");
        csv = dir.resolve("changes.csv");
        Files.createDirectories(dir.resolve("models/gold"));
        writeModel(MODEL.formatted(csv));
    }

    @AfterEach
    void close() {
        lake.close();
    }

    private static SourcePosition at(long lsn) {
        return SourcePosition.ofSequence(lsn, 0);
    }

    private void writeModel(String text) throws IOException {
        Files.writeString(dir.resolve("models/gold/m.sql"), text);
    }

    private void writeCsv(String header, String... rows) throws IOException {
        Files.writeString(csv, header + "\n" + String.join("\n", rows) + "\n");
    }

    private Map<String, String> build(SourcePosition watermark) {
        assertThat(builder.build(ModelGraph.load(dir.resolve("models")), watermark).built()).containsExactly("m");
        return lake.load(Layer.GOLD, "m").orElseThrow().currentSnapshot().summary();
    }

    /** gold.m as the query engine reads it, with deletes applied, and the full build's SQL over the same input. */
    private void assertGoldEqualsFullBuild() {
        Model model = ModelGraph.load(dir.resolve("models")).get(0);
        try (QueryEngine engine = QueryEngine.open(lake.tables())) {
            List<List<Object>> gold = engine.query("SELECT * FROM gold.m ORDER BY id").rows();
            List<List<Object>> full = engine.query("SELECT * FROM (" + model.sql() + "\n) ORDER BY id").rows();
            assertThat(gold).isEqualTo(full).isNotEmpty();
        }
        Table table = lake.load(Layer.GOLD, "m").orElseThrow();
        table.refresh();
        for (org.apache.iceberg.Snapshot s : table.snapshots()) {
            s.addedDeleteFiles(table.io()).forEach(d -> assertThat(d.content()).as("a delete file of gold.m").isEqualTo(org.apache.iceberg.FileContent.POSITION_DELETES));
        }
    }

    @Test
    void upsertsChangedKeysAndEqualsAFullBuild() throws IOException {
        String p1 = at(100).encoded();
        String p2 = at(200).encoded();
        String p3 = at(300).encoded();
        writeCsv("id,v,pos", "1,a," + p1, "2,b," + p1, "3,c," + p1, "4,d," + p1);
        Map<String, String> first = build(at(100));
        assertThat(first).containsEntry(GoldBuilder.BUILD, "full").containsEntry(SnapshotPositions.POSITION, p1).containsEntry("added-records", "4");
        assertGoldEqualsFullBuild();

        // Key 2 changes, key 5 is new.
        writeCsv("id,v,pos", "1,a," + p1, "2,b2," + p2, "3,c," + p1, "4,d," + p1, "5,e," + p2);
        Map<String, String> second = build(at(200));
        assertThat(second).containsEntry(GoldBuilder.BUILD, "incremental").containsEntry(SnapshotPositions.POSITION, p2)
                .containsEntry("added-records", "2").containsEntry("added-position-deletes", "1").doesNotContainKey("added-equality-deletes")
                .containsEntry(GoldBuilder.MODEL_HASH, first.get(GoldBuilder.MODEL_HASH));
        assertGoldEqualsFullBuild();

        // Key 2 changes again: the position delete of this build removes the row the last one added.
        writeCsv("id,v,pos", "1,a," + p1, "2,b3," + p3, "3,c," + p1, "4,d," + p1, "5,e," + p2);
        assertThat(build(at(300))).containsEntry(GoldBuilder.BUILD, "incremental").containsEntry("added-records", "1")
                .containsEntry("added-position-deletes", "1");
        assertGoldEqualsFullBuild();
        try (QueryEngine engine = QueryEngine.open(lake.tables())) {
            assertThat(engine.query("SELECT v FROM gold.m WHERE id = 2").rows()).containsExactly(List.of("b3"));
        }

        // Nothing new: an empty incremental build still records the position.
        assertThat(build(at(400))).containsEntry(GoldBuilder.BUILD, "incremental").containsEntry(SnapshotPositions.POSITION, at(400).encoded())
                .doesNotContainKey("added-data-files").doesNotContainKey("added-delete-files");
        assertGoldEqualsFullBuild();
    }

    @Test
    void editedModelFileChangedColumnsAndFullRefreshBuildInFull() throws IOException {
        String p1 = at(100).encoded();
        writeCsv("id,v,pos", "1,a," + p1, "2,b," + p1);
        build(at(100));
        assertThat(build(at(150))).containsEntry(GoldBuilder.BUILD, "incremental");

        writeModel(MODEL.formatted(csv) + "-- edited\n");
        assertThat(build(at(200))).containsEntry(GoldBuilder.BUILD, "full").containsEntry("added-records", "2");
        assertThat(build(at(250))).containsEntry(GoldBuilder.BUILD, "incremental");

        // The input gains a column, as a silver table can: the result no longer fits the table.
        String p3 = at(300).encoded();
        writeCsv("id,v,pos,w", "1,a," + p1 + ",x", "2,b," + p3 + ",y");
        assertThat(build(at(300))).containsEntry(GoldBuilder.BUILD, "full").containsEntry("added-records", "2");
        assertThat(lake.load(Layer.GOLD, "m").orElseThrow().schema().findField("w")).isNotNull();
        assertGoldEqualsFullBuild();

        builder.requestFullRefresh();
        assertThat(build(at(400))).containsEntry(GoldBuilder.BUILD, "full");
        assertThat(build(at(500))).containsEntry(GoldBuilder.BUILD, "incremental");
    }

    @Test
    void uniqueKeyMustBeAResultColumn() throws IOException {
        writeCsv("id,v,pos", "1,a," + at(100).encoded());
        writeModel(MODEL.formatted(csv).replace("unique_key: id", "unique_key: id, key"));
        Path file = dir.resolve("models/gold/m.sql");
        assertThatThrownBy(() -> build(at(100)))
                .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.MODEL_ERROR))
                .hasMessage("Cannot build gold.m from " + file + ":3: unique_key column 'key' is not a column of the result; the result has [id, v, pos]");
    }

    @Test
    void uniqueKeyMustBeUniqueInTheResult() throws IOException {
        String p1 = at(100).encoded();
        writeCsv("id,v,pos", "1,a," + p1, "1,b," + p1);
        Path file = dir.resolve("models/gold/m.sql");
        assertThatThrownBy(() -> build(at(100)))
                .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.MODEL_ERROR))
                .hasMessage("Cannot build gold.m from " + file + ":3: the result holds more than one row with the same unique_key [id]");
    }
    /**
     * {@code {{ last_built_at }}} is the latest bronze {@code _commit_ts}, read from the files' upper
     * bounds, or by scanning the column of a table whose files have no metrics.
     */
    @Test
    void lastBuiltAtIsTheLatestBronzeCommitTime() throws IOException {
        Instant early = Instant.parse("2026-03-01T10:00:00.000001Z");
        Instant late = Instant.parse("2026-03-02T11:30:00.123456Z");
        appendBronze("with_metrics", Map.of(), List.of(early, late));
        appendBronze("without_metrics", Map.of("write.metadata.metrics.default", "none"), List.of(early));
        writeModel("""
                -- materialized: incremental
                -- unique_key: id
                SELECT 1 AS id, {{ last_built_at }} AS since
                """);
        assertThat(build(at(100))).containsEntry(GoldBuilder.BUILT_AT, late.toString());

        appendBronze("without_metrics", Map.of(), List.of(late.plusSeconds(60)));
        assertThat(build(at(200))).containsEntry(GoldBuilder.BUILT_AT, late.plusSeconds(60).toString()).containsEntry(GoldBuilder.BUILD, "incremental");
        try (QueryEngine engine = QueryEngine.open(lake.tables())) {
            assertThat(engine.query("SELECT since FROM gold.m").rows().get(0).get(0)).isEqualTo(late.atOffset(ZoneOffset.UTC));
        }
    }

    @Test
    void aModelWaitsForTheTablesItReadsWithTheModelsReadingIt() throws IOException {
        writeModel("""
                -- Reads bronze.missing_before only in this comment, and then
                SELECT id FROM bronze."arrives_later" /* not silver.ignored */
                """);
        Files.writeString(dir.resolve("models/gold/n.sql"), "SELECT count(*) AS c FROM gold.m");
        List<Model> models = ModelGraph.load(dir.resolve("models"));
        assertThat(models.get(0).lakeReferences()).containsExactly("bronze.arrives_later");

        GoldBuilder.Outcome waiting = builder.build(models, at(100));
        assertThat(waiting.built()).isEmpty();
        assertThat(waiting.waiting()).containsExactly(Map.entry("m", java.util.Set.of("bronze.arrives_later")), Map.entry("n", java.util.Set.of("gold.m")));
        assertThat(lake.load(Layer.GOLD, "m")).isEmpty();

        appendBronze("arrives_later", Map.of(), List.of(Instant.parse("2026-11-20T10:00:00Z")));
        GoldBuilder.Outcome built = builder.build(models, at(200));
        assertThat(built.built()).containsExactly("m", "n");
        assertThat(built.waiting()).isEmpty();
        try (QueryEngine engine = QueryEngine.open(lake.tables())) {
            assertThat(engine.query("SELECT c FROM gold.n").rows()).containsExactly(List.of(1L));
        }
    }

    private void appendBronze(String name, Map<String, String> properties, List<Instant> commitTimes) {
        TableIdentifier id = TableIdentifier.of(Layer.BRONZE.namespace(), name);
        Schema schema = new Schema(Types.NestedField.required(1, "id", Types.IntegerType.get()),
                Types.NestedField.required(2, "_commit_ts", Types.TimestampType.withZone()));
        Table table = lake.catalog().ensure(id, schema, s -> PartitionSpec.unpartitioned());
        if (!properties.isEmpty()) {
            UpdateProperties update = table.updateProperties();
            properties.forEach(update::set);
            update.commit();
        }
        List<Record> records = commitTimes.stream().map(at -> {
            Record r = GenericRecord.create(table.schema());
            r.setField("id", 1);
            r.setField("_commit_ts", at.atOffset(ZoneOffset.UTC));
            return r;
        }).toList();
        lake.catalog().commit(table.newAppend().appendFile(new DataFiles(table).write(records, null)));
    }
}
