package io.tributary.cli;

import static io.tributary.cli.CliRun.tributary;
import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.testing.TestingPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The configured table set: tables missing from the database are a startup error listing every
 * one; a table added to an existing pipeline is refused (it would miss the rows it had before
 * capture) until {@code tributary resnapshot}, after which it is complete in silver.
 */
class TableSetIT {
    private static TestingPostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
        postgres.createDatabase("shop");
        postgres.execute("shop", "CREATE TABLE orders (id int PRIMARY KEY, customer text)", "INSERT INTO orders VALUES (1, 'ada'), (2, 'bob')",
                "CREATE TABLE products (id int PRIMARY KEY, name text)", "INSERT INTO products VALUES (10, 'tea'), (11, 'cup')");
    }

    @AfterAll
    static void stop() {
        postgres.dropInactiveSlots();
        postgres.close();
    }

    private Path config(String name, String tables) throws Exception {
        Path file = dir.resolve(name + ".yaml");
        Files.writeString(file, """
                name: %s
                source: {host: 127.0.0.1, port: %d, database: shop, user: postgres, sslmode: disable, tables: [%s]}
                lake: {warehouse: ./%s-lake}
                commit: {interval: 200ms}
                """.formatted(name, postgres.port(), tables, name));
        return file;
    }

    private static String csv(List<List<String>> rows) {
        return rows.stream().map(r -> String.join(",", r)).collect(Collectors.joining(System.lineSeparator()));
    }

    @Test
    void everyMissingTableIsListed() throws Exception {
        CliRun r = tributary("run", "-c", config("missing", "public.orders, public.nothere, sales.alsonot").toString(), "--once");
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).contains("public.nothere", "sales.alsonot", "no such table").doesNotContain("public.orders,");
    }

    @Test
    void aTableAddedLaterIsRefusedUntilResnapshot() throws Exception {
        Path first = config("grow", "public.orders");
        assertThat(tributary("run", "-c", first.toString(), "--once").exitCode()).isZero();

        Path grown = config("grow", "public.orders, public.products");
        CliRun refused = tributary("run", "-c", grown.toString(), "--once");
        assertThat(refused.exitCode()).isEqualTo(3);
        assertThat(refused.err()).contains("Cannot capture public.products", "the lake captures public.orders", "tributary resnapshot");

        assertThat(tributary("resnapshot", "-c", grown.toString()).exitCode()).isZero();
        CliRun run = tributary("run", "-c", grown.toString(), "--once");
        assertThat(run.exitCode()).as(run.err()).isZero();
        for (String table : List.of("orders", "products")) {
            CliRun silver = tributary("sql", "-c", grown.toString(), "--format", "csv", "SELECT * EXCLUDE (_position, _commit_ts) FROM silver." + table + " ORDER BY id");
            assertThat(silver.out().strip()).as(table).isEqualTo("id," + (table.equals("orders") ? "customer" : "name") + System.lineSeparator()
                    + csv(postgres.query("shop", "SELECT * FROM " + table + " ORDER BY id")));
        }
    }
}
