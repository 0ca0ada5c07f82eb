package io.tributary.cli;

import static io.tributary.query.HandBuiltTables.at;
import static io.tributary.query.HandBuiltTables.position;
import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.query.HandBuiltTables;
import io.tributary.query.HandBuiltTables.Version;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.commit.StateTable;
import io.tributary.spi.SourceOffset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sql --as-of} and {@code history} over a lake with a hand-built SCD2 history table. */
class TimeTravelCommandsTest {
    @TempDir
    Path dir;

    private String config;

    /** Row 1: a at 10:00, b then c in one transaction at 11:00, deleted at 12:00, d at 13:00. Row 2: x at 10:00. */
    @BeforeEach
    void buildLake() throws Exception {
        Path lake = dir.resolve("lake");
        try (LakeCatalog catalog = LakeCatalog.open(lake)) {
            Table history = HandBuiltTables.create(catalog, "silver", "orders_history", HandBuiltTables.HISTORY);
            HandBuiltTables.appendHistory(catalog, history, List.of(
                    new Version(1, "a", at("10:00"), at("11:00"), false, "c", position(100, 0), 7),
                    new Version(2, "x", at("10:00"), null, false, "c", position(100, 1), 7),
                    new Version(1, "c", at("11:00"), at("12:00"), false, "u", position(200, 1), 8),
                    new Version(1, "b", at("11:00"), at("11:00"), false, "u", position(200, 0), 8),
                    new Version(1, null, at("12:00"), at("13:00"), true, "d", position(300, 0), 9),
                    new Version(1, "d", at("13:00"), null, false, "c", position(400, 0), 10)), position(400, 0));
            Table silver = HandBuiltTables.create(catalog, "silver", "orders", HandBuiltTables.SILVER);
            HandBuiltTables.appendSilver(catalog, silver, List.of(new Object[] {1L, "d"}, new Object[] {2L, "x"}), at("13:00"), position(400, 0));
            Table customers = HandBuiltTables.create(catalog, "silver", "customers", new Schema(List.of(
                    Types.NestedField.required(1, "id", Types.LongType.get())), Set.of(1)));
            org.apache.iceberg.data.GenericRecord customer = org.apache.iceberg.data.GenericRecord.create(customers.schema());
            customer.setField("id", 7L);
            HandBuiltTables.append(catalog, customers, List.of(customer), position(400, 0));
            new StateTable(catalog, "shop").record(position(400, 0), new SourceOffset("{}"), at("13:00"), position(400, 0));
        }
        Files.createDirectories(dir.resolve("models/gold"));
        Files.writeString(dir.resolve("models/gold/order_count.sql"), "SELECT count(*) AS n FROM silver.orders\n");
        Files.writeString(dir.resolve("models/gold/doubled.sql"), "SELECT n * 2 AS n2 FROM gold.order_count\n");
        Files.writeString(dir.resolve("pg.secret"), "unused");
        Path file = dir.resolve("pipeline.yaml");
        Files.writeString(file, """
                name: shop
                source:
                  host: 127.0.0.1
                  port: 1
                  database: shop
                  user: postgres
                  password: ${file:pg.secret}
                  sslmode: disable
                lake:
                  warehouse: ./lake
                models: ./models
                """);
        config = file.toString();
    }

    @Test
    void sqlAsOfAnInstantAnswersForSilverAndGoldTogether() {
        CliRun now = CliRun.tributary("sql", "-c", config, "--format", "csv", "SELECT id, amount FROM silver.orders ORDER BY id");
        assertThat(now.out()).as(now.err()).isEqualTo(lines("id,amount", "1,d", "2,x"));

        CliRun during = CliRun.tributary("sql", "-c", config, "--format", "csv", "--as-of", "2026-11-22T11:30:00Z",
                "SELECT o.id, o.amount, g.n2 FROM silver.orders o, gold.doubled g ORDER BY id");
        assertThat(during.exitCode()).as(during.err()).isZero();
        assertThat(during.out()).isEqualTo(lines("id,amount,n2", "1,c,4", "2,x,4"));
        assertThat(during.err()).isEmpty();

        CliRun withOffset = CliRun.tributary("sql", "-c", config, "--format", "csv", "--as-of", "2026-11-22T13:30:00+01:00",
                "SELECT id, amount FROM silver.orders ORDER BY id");
        assertThat(withOffset.out()).as("12:30Z: row 1 is deleted").isEqualTo(lines("id,amount", "2,x"));

        CliRun history = CliRun.tributary("sql", "-c", config, "--format", "csv", "--as-of", "2026-11-22T12:30:00Z",
                "SELECT id, amount, _valid_to, _is_current FROM silver.orders_history WHERE _is_deleted ORDER BY id");
        assertThat(history.out()).as("the tombstone was open then").isEqualTo(lines("id,amount,_valid_to,_is_current", "1,,,false"));
    }

    @Test
    void sqlAndStatusReadTheLakeAtItsConsistentPosition() {
        // As while a transaction at LSN 400 is committed in parts: every table written at 400 is not visible yet.
        try (LakeCatalog catalog = LakeCatalog.open(dir.resolve("lake"))) {
            new StateTable(catalog, "shop").record(position(400, 0), new SourceOffset("{}"), at("13:00"), position(300, 5));
        }
        CliRun sql = CliRun.tributary("sql", "-c", config, "--format", "csv",
                "SELECT (SELECT count(*) FROM silver.orders) AS orders, (SELECT count(*) FROM silver.orders_history) AS versions");
        assertThat(sql.out()).as(sql.err()).isEqualTo(lines("orders,versions", "0,0"));
        CliRun status = CliRun.tributary("status", "-c", config, "--json");
        assertThat(status.out()).as(status.err()).contains("\"consistentPosition\" : \"" + position(300, 5) + "\"");
    }

    @Test
    void sqlAsOfAnInstantAfterTheLastCommitSaysWhatTheAnswerIsAsOf() {
        CliRun later = CliRun.tributary("sql", "-c", config, "--format", "csv", "--as-of", "2030-01-01T00:00:00Z", "SELECT count(*) AS n FROM silver.orders");
        assertThat(later.exitCode()).as(later.err()).isZero();
        assertThat(later.out()).isEqualTo(lines("n", "2"));
        assertThat(later.err()).contains("changes committed up to 2026-11-22T13:00:00Z", "the answer is as of 2026-11-22T13:00:00Z");
    }

    /** Regression: an instant before the lake's history of a table read answered with no rows and said nothing. */
    @Test
    void sqlAsOfAnInstantBeforeTheHistorySaysFromWhenEachTableReadIsKnown() {
        CliRun before = CliRun.tributary("sql", "-c", config, "--format", "csv", "--as-of", "2026-11-22T09:00:00Z", "SELECT count(*) AS n FROM silver.orders");
        assertThat(before.exitCode()).as(before.err()).isZero();
        assertThat(before.out()).isEqualTo(lines("n", "0"));
        assertThat(before.err()).contains("the lake's history of silver.orders starts at 2026-11-22T10:00:00Z",
                "as of 2026-11-22T09:00:00Z the answer holds none of its rows");

        // Through a gold model, evaluated from its file over silver.orders.
        CliRun gold = CliRun.tributary("sql", "-c", config, "--format", "csv", "--as-of", "2026-11-22T09:00:00Z", "SELECT n2 FROM gold.doubled");
        assertThat(gold.out()).as(gold.err()).isEqualTo(lines("n2", "0"));
        assertThat(gold.err()).contains("the lake's history of silver.orders starts at 2026-11-22T10:00:00Z");

        CliRun within = CliRun.tributary("sql", "-c", config, "--format", "csv", "--as-of", "2026-11-22T10:00:00Z", "SELECT count(*) AS n FROM silver.orders");
        assertThat(within.out()).isEqualTo(lines("n", "2"));
        assertThat(within.err()).isEmpty();
    }

    /** Regression: sql, history and status resolved the source's password, which reading the lake never uses, and failed without it. */
    @Test
    void sqlHistoryAndStatusReadTheLakeWithoutTheSourcePassword() throws Exception {
        Path file = dir.resolve("no-password.yaml");
        Files.writeString(file, Files.readString(Path.of(config)).replace("${file:pg.secret}", "${env:TRIBUTARY_TEST_VARIABLE_NEVER_SET}"));
        String noPassword = file.toString();

        CliRun sql = CliRun.tributary("sql", "-c", noPassword, "--format", "csv", "SELECT count(*) AS n FROM silver.orders");
        assertThat(sql.exitCode()).as(sql.err()).isZero();
        assertThat(sql.out()).isEqualTo(lines("n", "2"));
        CliRun history = CliRun.tributary("history", "-c", noPassword, "orders", "--key", "2", "--format", "csv");
        assertThat(history.exitCode()).as(history.err()).isZero();
        assertThat(history.out()).contains("2,x,");
        CliRun status = CliRun.tributary("status", "-c", noPassword);
        assertThat(status.exitCode()).as(status.err()).isZero();
        assertThat(status.out()).contains("source:     unreachable: Cannot connect to the source: source.password: environment variable "
                + "TRIBUTARY_TEST_VARIABLE_NEVER_SET is not set").contains("orders");

        CliRun run = CliRun.tributary("run", "-c", noPassword, "--once");
        assertThat(run.exitCode()).as("capture still needs it").isEqualTo(3);
        assertThat(run.err()).contains("environment variable TRIBUTARY_TEST_VARIABLE_NEVER_SET is not set");
    }

    @Test
    void sqlAsOfRejectsTextThatIsNotAnInstant() {
        for (String bad : List.of("yesterday", "2026-11-22 10:15", "2026-11-22T10:15:00", "2026-13-01T00:00:00Z")) {
            CliRun r = CliRun.tributary("sql", "-c", config, "--as-of", bad, "SELECT 1");
            assertThat(r.exitCode()).as(bad).isEqualTo(2);
            assertThat(r.err()).contains("cannot read '" + bad + "' as an instant", "2026-11-22T10:15:00Z").doesNotContain("\tat ");
            assertThat(r.out()).isEmpty();
        }
    }

    @Test
    void sqlAsOfReadingATableWithoutHistoryNamesIt() {
        CliRun r = CliRun.tributary("sql", "-c", config, "--as-of", "2026-11-22T12:30:00Z", "SELECT count(*) FROM silver.customers");
        assertThat(r.exitCode()).isEqualTo(3);
        assertThat(r.err()).contains("Cannot read silver.customers as of 2026-11-22T12:30:00Z: it has no history table silver.customers_history")
                .doesNotContain("\tat ");
    }

    @Test
    void historyPrintsEveryVersionOfOneRowOldestFirst() {
        CliRun r = CliRun.tributary("history", "-c", config, "orders", "--key", "1", "--format", "csv");
        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.get(0)).isEqualTo("id,amount,_commit_ts,_valid_from,_valid_to,_is_current,_is_deleted,_op,_position,_tx_id");
        // Ties of _valid_from (one transaction) in source order.
        assertThat(lines.subList(1, lines.size())).extracting(l -> l.split(",", -1)[1] + "/" + l.split(",", -1)[7])
                .containsExactly("a/c", "b/u", "c/u", "/d", "d/c");

        CliRun json = CliRun.tributary("history", "-c", config, "silver.orders", "--key", "2", "--format", "json");
        assertThat(json.out().replaceAll("\\s", "")).contains("\"id\":2,\"amount\":\"x\"", "\"_is_current\":true").doesNotContain("\"id\":1");

        CliRun named = CliRun.tributary("history", "-c", config, "orders", "--key", "id=2", "--format", "json");
        assertThat(named.out()).as(named.err()).isEqualTo(json.out());

        CliRun none = CliRun.tributary("history", "-c", config, "orders", "--key", "99");
        assertThat(none.exitCode()).isZero();
        assertThat(none.out()).contains("(0 rows)");
    }

    @Test
    void historyErrorsNameTheTableAndTheKey() {
        CliRun unknown = CliRun.tributary("history", "-c", config, "invoices", "--key", "1");
        assertThat(unknown.exitCode()).isEqualTo(3);
        assertThat(unknown.err()).contains("there is no table silver.invoices", "Known tables: customers, orders").doesNotContain("\tat ");

        CliRun keys = CliRun.tributary("history", "-c", config, "orders", "--key", "1", "--key", "2");
        assertThat(keys.exitCode()).isEqualTo(3);
        assertThat(keys.err()).contains("its primary key is (id), 1 value with --key, got 2");

        CliRun twice = CliRun.tributary("history", "-c", config, "orders", "--key", "id=1", "--key", "id=2");
        assertThat(twice.exitCode()).isEqualTo(3);
        assertThat(twice.err()).contains("--key id=… is given twice");

        CliRun noHistory = CliRun.tributary("history", "-c", config, "customers", "--key", "1");
        assertThat(noHistory.exitCode()).isEqualTo(3);
        assertThat(noHistory.err()).contains("silver.customers: it has no history table silver.customers_history");

        // Regression: a misspelled key column reached DuckDB as a value and failed with its conversion error.
        CliRun misspelled = CliRun.tributary("history", "-c", config, "orders", "--key", "nme=1");
        assertThat(misspelled.exitCode()).isEqualTo(3);
        assertThat(misspelled.err()).contains("--key nme=… names no key column; its primary key is (id)").doesNotContain("Conversion", "\tat ");

        CliRun badValue = CliRun.tributary("history", "-c", config, "orders", "--key", "one");
        assertThat(badValue.exitCode()).isEqualTo(3);
        assertThat(badValue.err()).contains("Cannot read the versions of silver.orders_history", "one").doesNotContain("\tat ");

        CliRun missingKey = CliRun.tributary("history", "-c", config, "orders");
        assertThat(missingKey.exitCode()).isEqualTo(2);
        assertThat(missingKey.err()).contains("--key");
    }

    private static String lines(String... lines) {
        return String.join(System.lineSeparator(), lines) + System.lineSeparator();
    }
}
