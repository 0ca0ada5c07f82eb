package io.tributary.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LakeQueryTest {
    private static final TableSchema ORDERS = new TableSchema(new TableId("public", "orders"), List.of(
            Column.required("OrderID", ColumnType.Primitive.INT64, "int8"),
            Column.nullable("Amount", new ColumnType.Decimal(10, 2), "numeric"),
            Column.nullable("placed_on", ColumnType.Primitive.DATE, "date"),
            Column.nullable("ref", ColumnType.Primitive.UUID, "uuid"),
            Column.nullable("email", ColumnType.Primitive.STRING, "text")), List.of("OrderID"));

    @TempDir
    Path dir;

    private long lsn = 100;

    private ChangeEvent event(ChangeOperation op, Row before, Row after) {
        lsn += 10;
        return new ChangeEvent(op, ORDERS, before, after, SourcePosition.ofSequence(lsn, 0), lsn, Instant.parse("2024-01-02T03:04:05Z"), null);
    }

    private static Row row(long id, String amount) {
        return Row.of(id, new BigDecimal(amount), LocalDate.of(2024, 1, 2), UUID.nameUUIDFromBytes(Long.toString(id).getBytes()), "user" + id + "@example.com");
    }

    /**
     * Regression: DuckDB JDBC 1.1.3's Blob pointed into native memory that later rows of the result
     * reused, so binary values read after the result moved on held other bytes (Spark read the
     * lake's bytea columns right, {@code sql} did not). 2.0.0.1 keeps them; the copy per row does
     * not depend on it.
     */
    @Test
    void binaryValuesKeepTheirBytesAfterLaterRowsAreRead() {
        try (QueryEngine engine = QueryEngine.open(List.of())) {
            QueryResult result = engine.query("SELECT i, unhex(lpad(printf('%x', i), 4, '0')) AS b FROM range(1, 2049) t(i) ORDER BY i");
            assertThat(result.rows()).hasSize(2048);
            for (List<Object> row : result.rows()) {
                long i = ((Number) row.get(0)).longValue();
                assertThat(row.get(1)).as("row %d", i).isEqualTo(new byte[] {(byte) (i >> 8), (byte) i});
            }
        }
    }

    @Test
    void appliesUpsertsDeletesAndTruncatesAndIgnoresReplays() {
        LakeConfig config = new LakeConfig(dir, LakeConfig.RawLayer.DISABLED);
        Map<TableId, TableOptions> options = Map.of(ORDERS.table(), new TableOptions(Map.of(), Map.of(), List.of(), List.of("email")));
        try (Lake lake = Lake.open(config, "test", t -> options.getOrDefault(t, TableOptions.DEFAULT))) {
            List<ChangeEvent> first = List.of(
                    event(ChangeOperation.READ, null, row(1, "10.00")),
                    event(ChangeOperation.READ, null, row(2, "20.00")),
                    event(ChangeOperation.READ, null, row(3, "30.00")));
            lake.commit(first, first.get(2).position(), new SourceOffset("{}"), java.util.Set.of());
            List<ChangeEvent> second = List.of(
                    event(ChangeOperation.UPDATE, row(1, "10.00"), row(1, "11.50")),
                    event(ChangeOperation.DELETE, row(2, "20.00"), null),
                    event(ChangeOperation.UPDATE, row(3, "30.00"), row(30, "30.00")),
                    event(ChangeOperation.CREATE, null, row(4, "40.00")));
            lake.commit(second, second.get(3).position(), new SourceOffset("{\"n\":2}"), java.util.Set.of());
            // A replay of the same batch after a crash changes nothing.
            lake.commit(second, second.get(3).position(), new SourceOffset("{\"n\":2}"), java.util.Set.of());

            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(q.query("SELECT order_id, amount FROM silver.orders ORDER BY 1").rows())
                        .containsExactly(List.of(1L, new BigDecimal("11.50")), List.of(4L, new BigDecimal("40.00")), List.of(30L, new BigDecimal("30.00")));
                assertThat(q.query("SELECT count(*) FROM bronze.orders").rows()).containsExactly(List.of(7L));
                assertThat(q.query("SELECT _op, count(*) FROM bronze.orders GROUP BY 1 ORDER BY 1").rows())
                        .containsExactly(List.of("c", 1L), List.of("d", 1L), List.of("r", 3L), List.of("u", 2L));
                assertThat((String) q.query("SELECT email FROM silver.orders WHERE order_id = 1").rows().get(0).get(0)).hasSize(64).doesNotContain("@");
                assertThat(q.query("SELECT ref FROM silver.orders WHERE order_id = 4").rows().get(0).get(0))
                        .isEqualTo(UUID.nameUUIDFromBytes("4".getBytes()));
                assertThatThrownBy(() -> q.query("SELECT nope FROM silver.orders"))
                        .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.INVALID_SQL))
                        .hasMessageContaining("nope");
            }
            assertThat(lake.committedState()).get().extracting(s -> s.offset().token()).isEqualTo("{\"n\":2}");

            List<ChangeEvent> third = List.of(
                    event(ChangeOperation.TRUNCATE, null, null),
                    event(ChangeOperation.CREATE, null, row(5, "50.00")));
            lake.commit(third, third.get(1).position(), new SourceOffset("{}"), java.util.Set.of());
            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(q.query("SELECT order_id FROM silver.orders").rows()).containsExactly(List.of(5L));
                assertThat(q.query("SELECT count(*) FROM bronze.orders WHERE _op = 't'").rows()).containsExactly(List.of(1L));
            }
        }
    }

    @Test
    void silverAppliesRenamesCastsExclusionsAndHashing() {
        LakeConfig config = new LakeConfig(dir, LakeConfig.RawLayer.ENABLED);
        TableOptions options = new TableOptions(Map.of("Amount", "total"), Map.of("total", "string", "placed_on", "timestamp"), List.of("ref"), List.of("email"));
        try (Lake lake = Lake.open(config, "test", t -> options)) {
            List<ChangeEvent> events = List.of(
                    new ChangeEvent(ChangeOperation.CREATE, ORDERS, null, row(7, "70.25"), SourcePosition.ofSequence(500, 0), 9,
                            Instant.parse("2024-01-02T03:04:05Z"), out -> out.write("{\"op\":\"c\"}".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
            lake.commit(events, events.get(0).position(), new SourceOffset("{}"), java.util.Set.of());
            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                QueryResult silver = q.query("SELECT * FROM silver.orders");
                assertThat(silver.columns()).containsExactly("order_id", "total", "placed_on", "email", "_position", "_commit_ts");
                assertThat(silver.types()).containsSubsequence("VARCHAR", "TIMESTAMP");
                assertThat(silver.rows().get(0).subList(0, 2)).containsExactly(7L, "70.25");
                assertThat(silver.rows().get(0).get(3)).isEqualTo(sha256("user7@example.com"));
                // Bronze keeps every source column as captured.
                assertThat(q.query("SELECT amount, ref IS NOT NULL, email FROM bronze.orders").rows())
                        .containsExactly(List.of(new BigDecimal("70.25"), true, "user7@example.com"));
            }
        }
        assertThat(dir.resolve("raw/orders/2024-01-02")).isDirectory();
    }

    private static String sha256(String text) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
