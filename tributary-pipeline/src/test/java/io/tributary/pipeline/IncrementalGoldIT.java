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
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.layout.Layer;
import io.tributary.models.GoldBuilder;
import io.tributary.models.LastBuild;
import io.tributary.models.Model;
import io.tributary.models.ModelGraph;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.testing.TestingPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Incremental gold models on a real pipeline: the first build is full, later builds upsert only
 * the keys the model's filter on bronze {@code _position} (or {@code _commit_ts}) selects, and the
 * table always equals a full build of the same SQL. Each test has its own database, slot and lake.
 */
class IncrementalGoldIT {
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static TestingPostgres postgres;

    @TempDir
    Path dir;
    private String database;

    @BeforeAll
    static void startPostgres() {
        postgres = new TestingPostgres();
    }

    @AfterAll
    static void stopPostgres() {
        if (postgres != null) {
            postgres.close();
        }
    }

    @AfterEach
    void dropSlotAndPublication() {
        postgres.dropInactiveSlots();
        if (database != null) {
            postgres.execute("postgres", "DROP DATABASE " + database + " WITH (FORCE)");
        }
    }

    /**
     * Recomputes every customer that any version of a changed order belonged to: a deleted order's
     * bronze row carries only its key, and a moved order's new image does not name its old customer.
     */
    private static final String CUSTOMER_VALUE = """
            -- Lifetime value per customer, recomputed only for customers with a change since the last build.
            -- materialized: incremental
            -- unique_key: customer_id
            SELECT c.id AS customer_id, c.name, count(o.id) AS orders, coalesce(sum(o.amount), 0) AS spent
            FROM silver.customers c LEFT JOIN silver.orders o ON o.customer_id = c.id AND o.status <> 'cancelled'
            WHERE c.id IN (SELECT customer_id FROM bronze.orders WHERE id IN (SELECT id FROM bronze.orders WHERE _position > {{ last_position }})
                           UNION SELECT id FROM bronze.customers WHERE _position > {{ last_position }})
            GROUP BY c.id, c.name
            """;

    private static final String ORDER_FACTS = """
            -- materialized: incremental
            -- unique_key: order_id
            SELECT id AS order_id, customer_id, amount, status, _commit_ts AS changed_at
            FROM silver.orders
            WHERE _commit_ts > {{ last_built_at }}
            """;

    private static final String PG_CUSTOMER_VALUE = "SELECT c.id, c.name, count(o.id), coalesce(sum(o.amount), 0.00) FROM customers c "
            + "LEFT JOIN orders o ON o.customer_id = c.id AND o.status <> 'cancelled' GROUP BY c.id, c.name ORDER BY c.id";

    @Test
    void incrementalBuildsUpsertChangedKeysAndEqualAFullBuild() throws IOException {
        String db = database();
        postgres.execute(db,
                "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)",
                "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, amount numeric(10,2) NOT NULL, status text NOT NULL)",
                "INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 50) g",
                // Customers 41..50 have no order.
                "INSERT INTO orders SELECT g, 1 + g % 40, (g % 97) + 0.25, 'paid' FROM generate_series(1, 400) g");
        Path models = dir.resolve("models");
        Files.createDirectories(models.resolve("gold"));
        Files.writeString(models.resolve("gold/customer_value.sql"), CUSTOMER_VALUE);
        Files.writeString(models.resolve("gold/order_facts.sql"), ORDER_FACTS);
        PipelineConfig config = config(db, models);

        run(config, false);
        assertThat(firstTributarySnapshot(config, "customer_value")).containsEntry(GoldBuilder.BUILD, "full");
        assertGoldEqualsFullBuild(config);
        assertCustomerValueEqualsPostgres(config, db);
        Snapshot afterFirstRun = current(config, "customer_value");

        // One transaction: one micro-batch, one gold build. Customers 1, 2 (updated orders), 3 (new
        // order), 4 (cancelled order), 5 (renamed), 51 (new, with orders), 7 (deleted order), 11 and 12
        // (an order moved from 11 to 12) change; 9 orders change, one of them deleted.
        postgres.execute(db, """
                BEGIN;
                UPDATE orders SET amount = amount + 10 WHERE id IN (40, 80, 41);
                INSERT INTO orders VALUES (1001, 3, 99.99, 'paid');
                UPDATE orders SET status = 'cancelled' WHERE id = 43;
                UPDATE customers SET name = 'renamed' WHERE id = 5;
                INSERT INTO customers VALUES (51, 'customer 51');
                INSERT INTO orders VALUES (1002, 51, 5.00, 'paid'), (1003, 51, 6.00, 'paid');
                DELETE FROM orders WHERE id = 46;
                UPDATE orders SET customer_id = 12 WHERE id = 50;
                COMMIT""");
        run(config, false);
        List<Map<String, String>> builds = buildsSince(config, "customer_value", afterFirstRun);
        assertThat(builds).hasSize(1);
        assertThat(builds.get(0)).containsEntry(GoldBuilder.BUILD, "incremental").containsEntry("added-records", "9")
                .containsEntry("added-position-deletes", "8").doesNotContainKey("added-equality-deletes").containsEntry("total-records", "59");
        // Built from the micro-batch that carried the transaction: at or past its last change, and
        // not past the lake's watermark (a heartbeat or the catch-up fence may move the watermark on
        // in a commit of its own, with no change for gold to build).
        SourcePosition built = SourcePosition.decode(builds.get(0).get(SnapshotPositions.POSITION));
        assertThat(lastChange(config, "orders").isAfter(built)).as("built at %s", built).isFalse();
        assertThat(built.isAfter(watermark(config))).as("built at %s", built).isFalse();
        Map<String, String> facts = current(config, "order_facts").summary();
        assertThat(facts).containsEntry(GoldBuilder.BUILD, "incremental").containsEntry("added-records", "8");
        try (Lake lake = lake(config); QueryEngine q = QueryEngine.open(lake.tables())) {
            Object latest = q.query("SELECT max(_commit_ts) FROM (SELECT _commit_ts FROM bronze.orders UNION ALL SELECT _commit_ts FROM bronze.customers)").rows().get(0).get(0);
            assertThat(facts.get(GoldBuilder.BUILT_AT)).isEqualTo(((java.time.OffsetDateTime) latest).toInstant().toString());
        }
        // The deleted order is in no result: an incremental build keeps its row, a full refresh drops it.
        assertGoldEqualsFullBuild(config, 46);
        assertCustomerValueEqualsPostgres(config, db);

        // An edited model file is built in full.
        Snapshot beforeEdit = current(config, "customer_value");
        Files.writeString(models.resolve("gold/customer_value.sql"), CUSTOMER_VALUE.replace("Lifetime value", "What each customer spent"));
        postgres.execute(db, "UPDATE orders SET amount = 1 WHERE id = 2");
        run(config, false);
        builds = buildsSince(config, "customer_value", beforeEdit);
        assertThat(builds).hasSize(1);
        assertThat(builds.get(0)).containsEntry(GoldBuilder.BUILD, "full").containsEntry("added-records", "51");
        assertThat(current(config, "order_facts").summary()).containsEntry(GoldBuilder.BUILD, "incremental").containsEntry("added-records", "1");
        assertGoldEqualsFullBuild(config, 46);
        assertCustomerValueEqualsPostgres(config, db);

        // A full refresh rebuilds both, with nothing new from the source.
        Snapshot beforeRefresh = current(config, "order_facts");
        run(config, true);
        builds = buildsSince(config, "order_facts", beforeRefresh);
        assertThat(builds).hasSize(1);
        assertThat(builds.get(0)).containsEntry(GoldBuilder.BUILD, "full").containsEntry("added-records", "402");
        assertThat(current(config, "customer_value").summary()).containsEntry(GoldBuilder.BUILD, "full");
        assertGoldEqualsFullBuild(config);
    }

    /**
     * Not a pass/fail benchmark: builds a 200,000-row gold table in full, changes 1% of the source
     * rows, builds incrementally, then in full again, and prints the times. Asserts that the
     * incremental build wrote only the changed rows and that both builds give the same table.
     */
    @Test
    void incrementalBuildOfOnePercentChangedRows() throws IOException {
        String db = database();
        int rows = 200_000;
        postgres.execute(db,
                "CREATE TABLE events (id bigint PRIMARY KEY, account int NOT NULL, amount numeric(12,2) NOT NULL, note text)",
                "INSERT INTO events SELECT g, g % 5000, (g % 1000) / 10.0, 'event ' || g FROM generate_series(1, " + rows + ") g");
        Path models = dir.resolve("models");
        Files.createDirectories(models.resolve("gold"));
        Files.writeString(models.resolve("gold/event_facts.sql"), """
                -- materialized: incremental
                -- unique_key: id
                SELECT id, account, amount, amount * 1.2 AS gross, upper(note) AS note
                FROM silver.events
                WHERE NOT {{ is_incremental }} OR id IN (SELECT id FROM bronze.events WHERE _position > {{ last_position }})
                """);
        // The pipeline only replicates; the test builds gold itself to time the builds alone.
        PipelineConfig replicate = config(db, Optional.empty(), "public.events");
        List<Model> model = ModelGraph.load(models);
        run(replicate, false);
        long full;
        SourcePosition firstBuild;
        try (Lake lake = lake(replicate)) {
            GoldBuilder gold = new GoldBuilder(lake, replicate.name());
            long start = System.nanoTime();
            firstBuild = lake.committedState().orElseThrow().watermark();
            gold.build(model, firstBuild);
            full = (System.nanoTime() - start) / 1_000_000;
            assertThat(lake.load(Layer.GOLD, "event_facts").orElseThrow().currentSnapshot().summary())
                    .containsEntry(GoldBuilder.BUILD, "full").containsEntry("added-records", String.valueOf(rows));
        }

        postgres.execute(db, "UPDATE events SET amount = amount + 1, note = note || ' changed' WHERE id % 100 = 0");
        run(replicate, false);
        try (Lake lake = lake(replicate)) {
            long select;
            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                long start = System.nanoTime();
                assertThat(q.query("SELECT count(*) FROM (" + model.get(0).incrementalSql(new LastBuild(firstBuild, Optional.empty())) + "\n)").rows())
                        .containsExactly(List.of((long) rows / 100));
                select = (System.nanoTime() - start) / 1_000_000;
            }
            GoldBuilder gold = new GoldBuilder(lake, replicate.name());
            long start = System.nanoTime();
            gold.build(model, lake.committedState().orElseThrow().watermark());
            long incremental = (System.nanoTime() - start) / 1_000_000;
            assertThat(lake.load(Layer.GOLD, "event_facts").orElseThrow().currentSnapshot().summary())
                    .containsEntry(GoldBuilder.BUILD, "incremental").containsEntry("added-records", String.valueOf(rows / 100))
                    .containsEntry("total-records", String.valueOf(rows + rows / 100));
            List<List<Object>> afterIncremental;
            long read;
            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                start = System.nanoTime();
                afterIncremental = q.query("SELECT * FROM gold.event_facts ORDER BY id").rows();
                read = (System.nanoTime() - start) / 1_000_000;
            }
            gold.requestFullRefresh();
            start = System.nanoTime();
            gold.build(model, lake.committedState().orElseThrow().watermark());
            long fullAgain = (System.nanoTime() - start) / 1_000_000;
            assertThat(lake.load(Layer.GOLD, "event_facts").orElseThrow().currentSnapshot().summary()).containsEntry(GoldBuilder.BUILD, "full");
            List<List<Object>> afterFull;
            long readFull;
            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                start = System.nanoTime();
                afterFull = q.query("SELECT * FROM gold.event_facts ORDER BY id").rows();
                readFull = (System.nanoTime() - start) / 1_000_000;
            }
            assertThat(afterIncremental).hasSize(rows).isEqualTo(afterFull);
            System.out.printf("Gold build of %d rows: full %d ms, incremental with %d changed rows %d ms (its SELECT alone %d ms), full again %d ms; "
                    + "reading the table %d ms after the incremental build (position deletes), %d ms after the full one%n",
                    rows, full, rows / 100, incremental, select, fullAgain, read, readFull);
        }
    }

    private String database() {
        database = postgres.createDatabase("incgold" + DATABASES.incrementAndGet());
        return database;
    }

    private PipelineConfig config(String db, Path models) {
        return config(db, Optional.of(models), "public.customers", "public.orders");
    }

    private PipelineConfig config(String db, Optional<Path> models, String... tables) {
        List<TableId> ids = java.util.Arrays.stream(tables).map(TableId::parse).toList();
        // One gold build per run: right after the first commit, or at the end when more came later.
        return new PipelineConfig(db,
                new PostgresSourceConfig(postgres.host(), postgres.port(), db, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                        ids, "tributary_" + db, "tributary_" + db, Duration.ofSeconds(1), Duration.ofSeconds(5)),
                new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.DISABLED), new ModelsConfig(models, Duration.ofHours(1)),
                new CommitConfig(Duration.ofMillis(200), 100_000), Map.of());
    }

    private static void run(PipelineConfig config, boolean fullRefresh) {
        try (Pipeline pipeline = Pipeline.open(config)) {
            if (fullRefresh) {
                pipeline.fullRefreshModels();
            }
            pipeline.run(ChangeSource.RunMode.CATCH_UP);
            pipeline.lake().close();
        }
    }

    /** The position of the last change committed to a silver table. */
    private static SourcePosition lastChange(PipelineConfig config, String table) {
        try (Lake lake = lake(config)) {
            return SourcePosition.decode(lake.load(Layer.SILVER, table).orElseThrow().currentSnapshot().summary().get(SnapshotPositions.POSITION));
        }
    }

    private static SourcePosition watermark(PipelineConfig config) {
        try (Lake lake = lake(config)) {
            return lake.committedState().orElseThrow().watermark();
        }
    }

    private static Lake lake(PipelineConfig config) {
        return Lake.open(config.lake(), config.name(), t -> TableOptions.DEFAULT);
    }

    private static Snapshot current(PipelineConfig config, String model) {
        try (Lake lake = lake(config)) {
            return lake.load(Layer.GOLD, model).orElseThrow().currentSnapshot();
        }
    }

    /** Summaries of the snapshots committed after {@code since}, oldest first. */
    private static List<Map<String, String>> buildsSince(PipelineConfig config, String model, Snapshot since) {
        try (Lake lake = lake(config)) {
            Table table = lake.load(Layer.GOLD, model).orElseThrow();
            List<Map<String, String>> out = new ArrayList<>();
            for (Snapshot s = table.currentSnapshot(); s != null && s.snapshotId() != since.snapshotId();
                 s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
                out.add(0, s.summary());
            }
            return out;
        }
    }

    private static Map<String, String> firstTributarySnapshot(PipelineConfig config, String model) {
        try (Lake lake = lake(config)) {
            Table table = lake.load(Layer.GOLD, model).orElseThrow();
            Map<String, String> first = null;
            for (Snapshot s = table.currentSnapshot(); s != null; s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
                first = s.summary();
            }
            return first;
        }
    }

    /** Every gold table, read with its deletes, equals its model's full-build SQL over the same lake, row for row. */
    private static void assertGoldEqualsFullBuild(PipelineConfig config) {
        assertGoldEqualsFullBuild(config, -1);
    }

    /** The same, but for the row of a deleted order that gold.order_facts keeps until a full build. */
    private static void assertGoldEqualsFullBuild(PipelineConfig config, int deletedOrder) {
        try (Lake lake = lake(config); QueryEngine q = QueryEngine.open(lake.tables())) {
            if (deletedOrder > 0) {
                assertThat(q.query("SELECT count(*) FROM gold.order_facts WHERE order_id = " + deletedOrder).rows()).containsExactly(List.of(1L));
            }
            for (Model model : ModelGraph.load(config.models().directory().orElseThrow())) {
                String kept = model.name().equals("order_facts") ? " WHERE order_id <> " + deletedOrder : "";
                List<List<Object>> gold = q.query("SELECT * FROM gold." + model.name() + kept + " ORDER BY ALL").rows();
                List<List<Object>> full = q.query("SELECT * FROM (" + model.sql() + "\n) ORDER BY ALL").rows();
                assertThat(gold).as("gold.%s", model.name()).isNotEmpty().isEqualTo(full);
            }
        }
    }

    private static void assertCustomerValueEqualsPostgres(PipelineConfig config, String db) {
        List<List<String>> expected = postgres.query(db, PG_CUSTOMER_VALUE);
        try (Lake lake = lake(config); QueryEngine q = QueryEngine.open(lake.tables())) {
            List<List<String>> gold = q.query("SELECT customer_id, name, orders, spent FROM gold.customer_value ORDER BY customer_id").rows().stream()
                    .map(r -> r.stream().map(String::valueOf).toList()).toList();
            assertThat(gold).isEqualTo(expected);
        }
    }
}
