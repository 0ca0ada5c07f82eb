package io.tributary.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelHeaderTest {
    @TempDir
    Path dir;

    private Model load(String text) throws IOException {
        Files.createDirectories(dir.resolve("gold"));
        Files.writeString(dir.resolve("gold/m.sql"), text);
        List<Model> models = ModelGraph.load(dir);
        assertThat(models).hasSize(1);
        return models.get(0);
    }

    private void assertModelError(String text, String message) {
        assertThatThrownBy(() -> load(text))
                .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.MODEL_ERROR))
                .hasMessage("Cannot load model " + dir.resolve("gold/m.sql") + message);
    }

    @Test
    void modelWithoutHeaderIsATable() throws IOException {
        Model model = load("-- Revenue per day, from orders: not cancelled ones.\nSELECT 1 AS x;\n");
        assertThat(model.header()).isEqualTo(ModelHeader.TABLE);
        assertThat(model.sql()).isEqualTo("-- Revenue per day, from orders: not cancelled ones.\nSELECT 1 AS x");
    }

    @Test
    void incrementalHeaderWithCompositeKey() throws IOException {
        Model model = load("\n-- Spend per customer and day.\n--   Materialized :  INCREMENTAL\n-- unique_key: customer_id, Day\nSELECT 1 AS customer_id, 2 AS day\n-- unique_key: not a header\n");
        assertThat(model.header().materialization()).isEqualTo(ModelHeader.Materialization.INCREMENTAL);
        assertThat(model.header().uniqueKey()).containsExactly("customer_id", "Day");
        assertThat(model.header().uniqueKeyLine()).isEqualTo(4);
    }

    @Test
    void explicitTableMaterialization() throws IOException {
        assertThat(load("-- materialized: table\nSELECT 1").header()).isEqualTo(ModelHeader.TABLE);
    }

    @Test
    void unknownHeaderKey() {
        assertModelError("-- materialized: incremental\n-- uniq_key: id\nSELECT 1 AS id",
                ":2: unknown header key 'uniq_key'; known keys are materialized, unique_key (a free-text comment must not start with 'word:')");
    }

    @Test
    void incrementalWithoutUniqueKey() {
        assertModelError("-- Spend.\n-- materialized: incremental\nSELECT 1 AS id",
                ":2: an incremental model needs '-- unique_key: <column>[, <column>...]' in its header");
    }

    @Test
    void uniqueKeyOnTableModel() {
        assertModelError("-- unique_key: id\nSELECT 1 AS id",
                ":1: unique_key applies to incremental models only; add '-- materialized: incremental' or remove it");
    }

    @Test
    void badMaterialization() {
        assertModelError("-- materialized: view\nSELECT 1 AS id", ":1: materialized must be 'table' or 'incremental', got 'view'");
    }

    @Test
    void badAndRepeatedKeyColumns() {
        assertModelError("-- materialized: incremental\n-- unique_key: id,\nSELECT 1 AS id", ":2: unique_key must be column names separated by commas, got 'id,'");
        assertModelError("-- materialized: incremental\n-- unique_key: id, ID\nSELECT 1 AS id", ":2: unique_key names column 'ID' twice");
        assertModelError("-- materialized: incremental\n-- unique_key: id\n-- materialized: table\nSELECT 1 AS id", ":3: 'materialized' is already set on line 1");
    }

    @Test
    void unknownPlaceholder() {
        assertModelError("-- materialized: incremental\n-- unique_key: id\nSELECT 1 AS id\nWHERE x > {{ last_positon }}",
                ":4: unknown placeholder {{ last_positon }}; known placeholders are last_position, last_built_at, is_incremental");
    }

    @Test
    void unclosedPlaceholder() {
        assertModelError("SELECT 1 AS id\n\nWHERE x > {{ last_position }\n", ":3: unclosed placeholder; write {{ last_position }}, {{ last_built_at }}, {{ is_incremental }}");
    }

    @Test
    void placeholdersRenderForFullAndIncrementalBuilds() throws IOException, SQLException {
        Model model = load("-- materialized: incremental\n-- unique_key: id\n"
                + "SELECT 1 AS id, '0000000000000001-000000000000' > {{last_position}} AS newer, now() > {{ last_built_at }} AS later, {{ is_incremental }} AS inc;");
        assertThat(model.sql()).endsWith("> '' AS newer, now() > TIMESTAMPTZ '-infinity' AS later, false AS inc");
        assertThat(duckDb(model.sql())).containsExactly(true, true, false);

        SourcePosition position = SourcePosition.ofSequence(0x1A2B3C4L, 12);
        String incremental = model.incrementalSql(new LastBuild(position, Optional.of(Instant.parse("2026-01-02T03:04:05.123456Z"))));
        assertThat(incremental).endsWith("> '0000000001A2B3C4-000000000012' AS newer, now() > TIMESTAMPTZ '2026-01-02 03:04:05.123456+00' AS later, true AS inc");
        assertThat(duckDb(incremental)).containsExactly(false, true, true);
        assertThat(duckDb(model.incrementalSql(new LastBuild(SourcePosition.BEGINNING, Optional.empty())))).containsExactly(true, true, true);
    }

    @Test
    void fingerprintFollowsTheFileText() throws IOException {
        String first = load("SELECT 1 AS id").template().fingerprint();
        assertThat(load("SELECT 1 AS id").template().fingerprint()).isEqualTo(first).hasSize(64);
        assertThat(load("SELECT 1 AS id ").template().fingerprint()).isNotEqualTo(first);
    }

    private static List<Object> duckDb(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            assertThat(rs.next()).isTrue();
            return List.of(rs.getObject(2), rs.getObject(3), rs.getObject(4));
        }
    }
}
