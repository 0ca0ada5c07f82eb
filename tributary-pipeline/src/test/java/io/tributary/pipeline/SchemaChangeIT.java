package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.layout.Layer;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.iceberg.Schema;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ALTER TABLE on captured tables while the pipeline streams: added columns and widened types evolve
 * bronze and silver by field id, a dropped column stays (null from then on), a mapped rename keeps
 * the field id, an unmapped rename stops naming both columns and the config key (and passes once
 * mapped), and an incompatible type change stops naming the table, the column and both types.
 */
class SchemaChangeIT {
    private static final TableId ORDERS = new TableId("public", "orders");
    private static final TableId CUSTOMERS = new TableId("public", "customers");
    private static final String CHECKSUM = "SELECT count(*)::text, sum(hashtext(id || '|' || qty || '|' || price || '|' || amount || '|' || label"
            + " || '|' || memo || '|' || coalesce(extra, '<null>')))::text FROM %s";

    @TempDir
    Path dir;

    @Test
    void schemaChangesWhileStreaming() throws Exception {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("ddl");
            postgres.execute(db,
                    "CREATE TABLE orders (id bigint PRIMARY KEY, qty int, price real, amount numeric(10,2), label varchar(10), note text, legacy text)",
                    "INSERT INTO orders SELECT g, g, g * 1.5, g * 2.25, 'l' || g, 'n' || g, 'x' || g FROM generate_series(1, 50) g",
                    "CREATE TABLE customers (id bigint PRIMARY KEY, name text)",
                    "INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 5) g");
            PipelineConfig unmapped = config(postgres, db, Map.of(ORDERS, options(Map.of("memo", "note"))));

            Pipeline pipeline = Pipeline.open(unmapped);
            BackgroundRun run = BackgroundRun.start(pipeline, ChangeSource.RunMode.CONTINUOUS);
            awaitCommitted(pipeline, run, 55);
            int noteId;
            int historyNoteId;
            try (Lake lake = Lake.open(unmapped.lake(), unmapped.name(), unmapped::optionsFor)) {
                noteId = lake.load(Layer.BRONZE, "orders").orElseThrow().schema().findField("note").fieldId();
                historyNoteId = lake.load(Layer.SILVER, "orders_history").orElseThrow().schema().findField("note").fieldId();
            }

            postgres.execute(db, "ALTER TABLE orders ADD COLUMN extra text", "UPDATE orders SET extra = 'e' || id WHERE id <= 5");
            postgres.execute(db, "ALTER TABLE orders ALTER COLUMN qty TYPE bigint", "UPDATE orders SET qty = 5000000000 WHERE id = 6");
            postgres.execute(db, "ALTER TABLE orders ALTER COLUMN price TYPE double precision", "UPDATE orders SET price = 1.0000000001 WHERE id = 7");
            postgres.execute(db, "ALTER TABLE orders ALTER COLUMN amount TYPE numeric(14,2)", "UPDATE orders SET amount = 123456789012.34 WHERE id = 8");
            postgres.execute(db, "ALTER TABLE orders ALTER COLUMN label TYPE varchar(50)", "UPDATE orders SET label = repeat('x', 40) WHERE id = 9");
            postgres.execute(db, "ALTER TABLE orders DROP COLUMN legacy", "INSERT INTO orders VALUES (51, 51, 76.5, 114.75, 'l51', 'n51', NULL)");
            postgres.execute(db, "ALTER TABLE orders RENAME COLUMN note TO memo", "UPDATE orders SET memo = 'renamed' WHERE id = 10");
            awaitCommitted(pipeline, run, 55 + 11);

            // A rename the configuration does not map: the pipeline stops, naming both columns and the key.
            postgres.execute(db, "ALTER TABLE customers RENAME COLUMN name TO full_name", "UPDATE customers SET full_name = 'renamed' WHERE id = 1");
            assertThat(run.await(Duration.ofSeconds(60))).as("the pipeline stopped").isTrue();
            assertThat(run.failure()).get().isInstanceOfSatisfying(TributaryException.class, e -> {
                assertThat(e.errorCode()).isEqualTo(ErrorCode.INCOMPATIBLE_SCHEMA_CHANGE);
                assertThat(e.getMessage()).startsWith("Cannot follow the schema change of public.customers in ")
                        .contains("column(s) [name] disappeared and [full_name] appeared")
                        .contains("tables: public.customers: renamed-from: {full_name: name}");
            });
            pipeline.lake().close();

            // Mapped, it goes on; then an incompatible type change stops it.
            PipelineConfig mapped = config(postgres, db, Map.of(ORDERS, options(Map.of("memo", "note")), CUSTOMERS, options(Map.of("full_name", "name"))));
            pipeline = Pipeline.open(mapped);
            run = BackgroundRun.start(pipeline, ChangeSource.RunMode.CONTINUOUS);
            awaitCommitted(pipeline, run, 1);
            try (Lake lake = Lake.open(mapped.lake(), mapped.name(), mapped::optionsFor); QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(postgres.checksumRows(db, "orders", q.query("SELECT id, qty, price, amount, label, memo, extra FROM silver.orders").rows(), CHECKSUM))
                        .isEqualTo(postgres.query(db, CHECKSUM.formatted("orders")).get(0));
                for (Layer layer : List.of(Layer.BRONZE, Layer.SILVER)) {
                    Schema schema = lake.load(layer, "orders").orElseThrow().schema();
                    assertThat(schema.findField("note")).as("%s: renamed", layer).isNull();
                    assertThat(schema.findField("qty").type()).as("%s: widened", layer).isEqualTo(Types.LongType.get());
                    assertThat(schema.findField("price").type()).isEqualTo(Types.DoubleType.get());
                    assertThat(schema.findField("amount").type()).isEqualTo(Types.DecimalType.of(14, 2));
                    assertThat(schema.findField("legacy")).as("%s: a dropped column stays", layer).isNotNull();
                    assertThat(schema.findField("extra")).isNotNull();
                }
                assertThat(lake.load(Layer.BRONZE, "orders").orElseThrow().schema().findField("memo").fieldId()).as("the rename keeps the field id").isEqualTo(noteId);
                assertThat(q.query("SELECT memo FROM bronze.orders WHERE id = 1 AND _op = 'r'").rows()).as("history under the new name")
                        .containsExactly(List.of("n1"));
                assertThat(q.query("SELECT id, legacy FROM silver.orders WHERE id IN (20, 51) ORDER BY id").rows())
                        .containsExactly(List.of(20L, "x20"), java.util.Arrays.asList(51L, null));
                assertThat(q.query("SELECT full_name FROM silver.customers WHERE id = 1").rows()).containsExactly(List.of("renamed"));
                assertThat(q.query("SELECT count(*) - count(DISTINCT _position) FROM bronze.orders").rows()).containsExactly(List.of(0L));
                // The history follows silver by field id: same columns, types and order, renamed column included.
                Schema silver = lake.load(Layer.SILVER, "orders").orElseThrow().schema();
                Schema history = lake.load(Layer.SILVER, "orders_history").orElseThrow().schema();
                assertThat(history.columns().stream().filter(f -> !f.name().startsWith("_")).map(f -> f.name() + " " + f.type()).toList())
                        .isEqualTo(silver.columns().stream().filter(f -> !f.name().startsWith("_")).map(f -> f.name() + " " + f.type()).toList());
                assertThat(history.findField("memo").fieldId()).as("the rename keeps the history's field id").isEqualTo(historyNoteId);
                assertThat(q.query("SELECT _op, memo FROM silver.orders_history WHERE id = 10 ORDER BY _valid_from, _position").rows())
                        .containsExactly(List.of("r", "n10"), List.of("u", "renamed"));
                assertThat(q.query("SELECT _op, extra FROM silver.orders_history WHERE id = 1 ORDER BY _valid_from, _position").rows())
                        .containsExactly(java.util.Arrays.asList("r", null), List.of("u", "e1"));
                assertThat(q.query("SELECT id, qty, price, amount, label, memo, extra, legacy FROM silver.orders_history WHERE _is_current"
                        + " EXCEPT ALL SELECT id, qty, price, amount, label, memo, extra, legacy FROM silver.orders").rows()).isEmpty();
                assertThat(q.query("SELECT count(*) FROM silver.orders_history WHERE _is_current").rows())
                        .isEqualTo(q.query("SELECT count(*) FROM silver.orders").rows());
                assertThat(q.query("SELECT full_name FROM silver.customers_history WHERE id = 1 ORDER BY _valid_from, _position").rows())
                        .containsExactly(List.of("c1"), List.of("renamed"));
            }

            postgres.execute(db, "ALTER TABLE orders ALTER COLUMN qty TYPE text", "UPDATE orders SET qty = 'many' WHERE id = 1");
            assertThat(run.await(Duration.ofSeconds(60))).as("the pipeline stopped").isTrue();
            assertThat(run.failure()).get().isInstanceOfSatisfying(TributaryException.class, e -> {
                assertThat(e.errorCode()).isEqualTo(ErrorCode.INCOMPATIBLE_SCHEMA_CHANGE);
                assertThat(e.getMessage()).startsWith("Cannot follow the schema change of public.orders in ")
                        .contains("column qty changed type from long to string");
            });
            pipeline.lake().close();
            postgres.dropInactiveSlots();
            postgres.execute(db, "DROP PUBLICATION tributary_ddl");
        }
    }

    private static TableOptions options(Map<String, String> renamedFrom) {
        return new TableOptions(Map.of(), Map.of(), List.of(), List.of(), renamedFrom);
    }

    private PipelineConfig config(TestingPostgres postgres, String db, Map<TableId, TableOptions> tables) {
        return new PipelineConfig("ddl",
                new PostgresSourceConfig(postgres.host(), postgres.port(), db, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                        List.of(ORDERS, CUSTOMERS), "tributary_ddl", "tributary_ddl", Duration.ofMillis(500), Duration.ofSeconds(5)),
                new LakeConfig(dir, LakeConfig.RawLayer.ENABLED), new ModelsConfig(Optional.empty(), Duration.ofSeconds(1)),
                new CommitConfig(Duration.ofMillis(200), 10_000), tables);
    }

    /** Polls until the pipeline committed at least {@code events} change events, or fails with its error. */
    private static void awaitCommitted(Pipeline pipeline, BackgroundRun run, long events) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (pipeline.status().committedEvents() < events && System.nanoTime() < deadline) {
            if (run.await(Duration.ofMillis(100))) {
                throw new AssertionError("the pipeline stopped: " + run.failure(), run.failure().orElse(null));
            }
        }
        assertThat(pipeline.status().committedEvents()).as("committed events").isGreaterThanOrEqualTo(events);
    }
}
