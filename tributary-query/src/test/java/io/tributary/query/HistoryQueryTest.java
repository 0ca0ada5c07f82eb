package io.tributary.query;

import static io.tributary.query.HandBuiltTables.at;
import static io.tributary.query.HandBuiltTables.position;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeTable;
import io.tributary.query.HandBuiltTables.Version;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Time travel over hand-built SCD2 history tables: as-of views, macros, tie-breaking in a transaction, tombstones. */
class HistoryQueryTest {
    @TempDir
    Path dir;

    private List<LakeTable> tables;

    /**
     * Row 1: created at 10:00, updated twice in one transaction at 11:00 (a zero-length version),
     * deleted at 12:00 (tombstone), re-inserted at 13:00. Row 2: created at 10:00. Row 3: created at
     * 11:00, deleted at 12:00 (tombstone still open). Silver holds the state after 13:00.
     */
    @BeforeEach
    void buildLake() {
        try (LakeCatalog catalog = LakeCatalog.open(dir)) {
            Table history = HandBuiltTables.create(catalog, "silver", "orders_history", HandBuiltTables.HISTORY);
            HandBuiltTables.appendHistory(catalog, history, List.of(
                    new Version(1, "a", at("10:00"), at("11:00"), false, "c", position(100, 0), 7),
                    new Version(2, "x", at("10:00"), null, false, "c", position(100, 1), 7),
                    new Version(1, "b", at("11:00"), at("11:00"), false, "u", position(200, 0), 8),
                    new Version(1, "c", at("11:00"), at("12:00"), false, "u", position(200, 1), 8),
                    new Version(3, "y", at("11:00"), at("12:00"), false, "c", position(200, 2), 8)), position(200, 2));
            HandBuiltTables.appendHistory(catalog, history, List.of(
                    new Version(1, null, at("12:00"), at("13:00"), true, "d", position(300, 0), 9),
                    new Version(3, null, at("12:00"), null, true, "d", position(300, 1), 9),
                    new Version(1, "d", at("13:00"), null, false, "c", position(400, 0), 10)), position(400, 0));
            // The history writer closes versions by rewriting; the open versions above already carry their end.
            Table silver = HandBuiltTables.create(catalog, "silver", "orders", HandBuiltTables.SILVER);
            HandBuiltTables.appendSilver(catalog, silver, List.of(new Object[] {1L, "d"}, new Object[] {2L, "x"}), at("13:00"), position(400, 0));
            Table bronze = HandBuiltTables.create(catalog, "bronze", "orders", new Schema(List.of(
                    Types.NestedField.required(1, "id", Types.LongType.get()),
                    Types.NestedField.required(2, "_op", Types.StringType.get()),
                    Types.NestedField.required(3, "_commit_ts", Types.TimestampType.withZone()))));
            List<Record> changes = new ArrayList<>();
            for (Object[] c : List.of(new Object[] {1L, "c", "10:00"}, new Object[] {2L, "c", "10:00"}, new Object[] {1L, "u", "11:00"},
                    new Object[] {1L, "d", "12:00"}, new Object[] {1L, "c", "13:00"})) {
                GenericRecord r = GenericRecord.create(bronze.schema());
                r.setField("id", c[0]);
                r.setField("_op", c[1]);
                r.setField("_commit_ts", HandBuiltTables.utc(at((String) c[2])));
                changes.add(r);
            }
            HandBuiltTables.append(catalog, bronze, changes, position(400, 0));
            Table customers = HandBuiltTables.create(catalog, "silver", "customers", new Schema(List.of(
                    Types.NestedField.required(1, "id", Types.LongType.get())), Set.of(1)));
            tables = List.of(LakeTable.of(Layer.BRONZE, bronze), LakeTable.of(Layer.SILVER, customers), LakeTable.of(Layer.SILVER, silver),
                    LakeTable.of(Layer.SILVER, history));
        }
    }

    @Test
    void asOfMacroAnswersAsTheRowsStoodAndSkipsZeroLengthVersionsAndTombstones() {
        try (QueryEngine q = QueryEngine.open(tables)) {
            assertThat(state(q, "SELECT id, amount FROM silver.orders_as_of('2026-11-22 09:59:59+00')")).isEmpty();
            assertThat(state(q, "SELECT id, amount FROM silver.orders_as_of('2026-11-22 10:30:00+00')")).containsExactly("1=a", "2=x");
            // Two updates in one transaction at 11:00: only its last version is ever visible.
            assertThat(state(q, "SELECT id, amount FROM silver.orders_as_of(TIMESTAMPTZ '2026-11-22 11:00:00+00')")).containsExactly("1=c", "2=x", "3=y");
            assertThat(state(q, "SELECT id, amount FROM silver.orders_as_of('2026-11-22 12:30:00+00')")).containsExactly("2=x");
            assertThat(state(q, "SELECT id, amount FROM silver.orders_as_of('2026-11-22 13:00:00+00')")).containsExactly("1=d", "2=x");
            assertThat(q.query("SELECT * FROM silver.orders_as_of('2026-11-22 13:00:00+00')").columns())
                    .containsExactly("id", "amount", "_position", "_commit_ts");
            // The current versions are silver.
            assertThat(state(q, "SELECT id, amount FROM silver.orders_history WHERE _is_current")).isEqualTo(state(q, "SELECT id, amount FROM silver.orders"));
            assertThat(q.query("SELECT amount, _op FROM silver.orders_history WHERE id = 1 ORDER BY _valid_from, _position").rows())
                    .extracting(r -> r.get(0) + "/" + r.get(1)).containsExactly("a/c", "b/u", "c/u", "null/d", "d/c");
        }
    }

    @Test
    void engineAsOfAnInstantShowsSilverHistoryAndBronzeAsTheyStood() {
        try (QueryEngine q = QueryEngine.openAsOf(tables, at("12:30"))) {
            assertThat(state(q, "SELECT id, amount FROM silver.orders")).containsExactly("2=x");
            assertThat(q.query("SELECT * FROM silver.orders").columns()).containsExactly("id", "amount", "_position", "_commit_ts");
            // Versions begun by 12:30, with their end and currency as known then.
            assertThat(q.query("SELECT id, amount, _valid_to IS NULL, _is_current, _is_deleted FROM silver.orders_history ORDER BY _valid_from, _position")
                    .rows()).extracting(Object::toString).containsExactly(
                            "[1, a, false, false, false]", "[2, x, true, true, false]", "[1, b, false, false, false]", "[1, c, false, false, false]",
                            "[3, y, false, false, false]", "[1, null, true, false, true]", "[3, null, true, false, true]");
            assertThat(q.query("SELECT count(*) FROM bronze.orders").rows()).containsExactly(List.of(4L));
            // The macros still read the whole history.
            assertThat(state(q, "SELECT id, amount FROM silver.orders_as_of('2026-11-22 13:00:00+00')")).containsExactly("1=d", "2=x");
            assertThat(q.latestCommitTime()).contains(at("13:00"));
            q.defineView(Layer.GOLD, "order_count", "SELECT count(*) AS n FROM silver.orders;\n");
            assertThat(q.query("SELECT n FROM gold.order_count").rows()).containsExactly(List.of(1L));
        }
    }

    @Test
    void readingASilverTableWithoutHistoryAsOfAnInstantNamesIt() {
        try (QueryEngine q = QueryEngine.openAsOf(tables, at("12:30"))) {
            assertThatThrownBy(() -> q.query("SELECT * FROM silver.customers"))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_SQL))
                    .hasMessageContaining("Cannot read silver.customers as of 2026-11-22T12:30:00Z: it has no history table silver.customers_history");
            // Other tables stay readable.
            assertThat(state(q, "SELECT id, amount FROM silver.orders")).containsExactly("2=x");
        }
    }

    @Test
    void anInstantBetweenMicrosecondsIsTruncatedToDuckDbsResolution() {
        Instant justBefore = at("10:00").minusNanos(1);
        try (QueryEngine q = QueryEngine.openAsOf(tables, justBefore)) {
            assertThat(state(q, "SELECT id, amount FROM silver.orders")).isEmpty();
        }
        try (QueryEngine q = QueryEngine.openAsOf(tables, at("10:00").plusNanos(999))) {
            assertThat(state(q, "SELECT id, amount FROM silver.orders")).containsExactly("1=a", "2=x");
        }
    }

    private static List<String> state(QueryEngine q, String sql) {
        return q.query(sql + " ORDER BY 1").rows().stream().map(r -> r.get(0) + "=" + r.get(1)).toList();
    }
}
