package io.tributary.cli;

import static io.tributary.cli.CliRun.tributary;
import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.layout.Layer;
import io.tributary.models.GoldBuilder;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Incremental gold models through the command line: {@code run --full-refresh}, and header errors at startup. */
class IncrementalModelsIT {
    private static TestingPostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
        postgres.createDatabase("shop");
        postgres.execute("shop", "CREATE TABLE orders (id int PRIMARY KEY, customer text, amount int)",
                "INSERT INTO orders SELECT g, 'c' || (g % 7), g FROM generate_series(1, 100) g");
    }

    @AfterAll
    static void stop() {
        postgres.dropInactiveSlots();
        postgres.close();
    }

    private Path config(String model) throws Exception {
        Files.createDirectories(dir.resolve("models/gold"));
        Files.writeString(dir.resolve("models/gold/spend.sql"), model);
        Path file = dir.resolve("shop.yaml");
        Files.writeString(file, """
                name: shop
                source: {host: 127.0.0.1, port: %d, database: shop, user: postgres, sslmode: disable, tables: [public.orders]}
                lake: {warehouse: ./lake}
                commit: {interval: 200ms}
                models: {path: ./models, interval: 1h}
                """.formatted(postgres.port()));
        return file;
    }

    @Test
    void fullRefreshRebuildsAnIncrementalModel() throws Exception {
        Path config = config("""
                -- materialized: incremental
                -- unique_key: customer
                SELECT customer, sum(amount) AS spent FROM silver.orders
                WHERE customer IN (SELECT customer FROM bronze.orders WHERE _position > {{ last_position }})
                GROUP BY customer
                """);
        CliRun first = tributary("run", "-c", config.toString(), "--once");
        assertThat(first.exitCode()).as(first.err()).isZero();
        assertThat(builds()).containsExactly("full");

        postgres.execute("shop", "UPDATE orders SET amount = amount + 1 WHERE id = 1");
        CliRun second = tributary("run", "-c", config.toString(), "--once");
        assertThat(second.exitCode()).as(second.err()).isZero();
        assertThat(builds()).containsExactly("full", "incremental");

        CliRun refresh = tributary("run", "-c", config.toString(), "--once", "--full-refresh");
        assertThat(refresh.exitCode()).as(refresh.err()).isZero();
        assertThat(builds()).containsExactly("full", "incremental", "full");
    }

    @Test
    void aBadHeaderStopsTheRunNamingFileAndLine() throws Exception {
        Path config = config("""
                -- materialized: incremental
                SELECT customer, sum(amount) AS spent FROM silver.orders GROUP BY customer
                """);
        CliRun run = tributary("run", "-c", config.toString(), "--once");
        assertThat(run.exitCode()).isEqualTo(3);
        assertThat(run.err()).contains("Cannot load model " + dir.resolve("models/gold/spend.sql") + ":1: an incremental model needs '-- unique_key:");
    }

    /** The build kind of every snapshot of gold.spend, oldest first. */
    private List<String> builds() {
        try (Lake lake = Lake.open(new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED), "shop", t -> TableOptions.DEFAULT)) {
            Table table = lake.load(Layer.GOLD, "spend").orElseThrow();
            List<String> out = new ArrayList<>();
            for (Snapshot s = table.currentSnapshot(); s != null; s = s.parentId() == null ? null : table.snapshot(s.parentId())) {
                out.add(0, s.summary().get(GoldBuilder.BUILD));
            }
            return out;
        }
    }
}
