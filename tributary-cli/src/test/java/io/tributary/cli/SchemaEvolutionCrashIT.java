package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.spi.CrashPoint;
import io.tributary.testing.ChildJvm;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 3, crash point "mid schema change": a micro-batch that mixes rows of the old and the new
 * schema of a table halts right after bronze's schema update is committed, then (restarted) right
 * after silver's; a third run completes. Silver must equal the source and bronze hold no position twice.
 */
class SchemaEvolutionCrashIT {
    private static final String CHECKSUM = "SELECT count(*)::text, sum(hashtext(id || '|' || qty || '|' || coalesce(extra, '<null>')))::text FROM %s";

    @TempDir
    Path dir;

    @Test
    void crashRightAfterASchemaUpdateRecovers() throws Exception {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("evolve");
            postgres.execute(db, "CREATE TABLE items (id bigint PRIMARY KEY, qty int)",
                    "INSERT INTO items SELECT g, g FROM generate_series(1, 200) g");
            Path config = dir.resolve("pipeline.yaml");
            Files.writeString(config, """
                    name: evolve
                    source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                    lake: {warehouse: ./lake}
                    """.formatted(postgres.port(), db));
            assertThat(Main.execute("run", "-c", config.toString(), "--once")).isZero();

            // Old-schema rows, the change, new-schema rows: one micro-batch of the next run.
            postgres.execute(db, "UPDATE items SET qty = qty + 1 WHERE id <= 20",
                    "ALTER TABLE items ADD COLUMN extra text", "ALTER TABLE items ALTER COLUMN qty TYPE bigint",
                    "UPDATE items SET qty = 5000000000 + id, extra = 'e' || id WHERE id BETWEEN 10 AND 30",
                    "INSERT INTO items VALUES (201, 7000000000, 'new')");
            // Bronze evolves beside silver and its history, so either may halt first; each run halts
            // right after the first schema update it makes, and a later run finds that table done.
            java.util.regex.Pattern evolved = java.util.regex.Pattern.compile("Table (bronze\\.items|silver\\.items|silver\\.items_history) follows the schema change of public\\.items");
            java.util.Set<String> halted = new java.util.LinkedHashSet<>();
            for (int attempt = 1; attempt <= 2; attempt++) {
                Path log = dir.resolve("halt-" + attempt + ".log");
                try (ChildJvm run = ChildJvm.start(Main.class.getName(), List.of("-D" + CrashPoint.PROPERTY + "=" + CrashPoint.SCHEMA_EVOLVED),
                        List.of("run", "-c", config.toString(), "--once"), log)) {
                    OptionalInt exit = run.waitFor(Duration.ofSeconds(90));
                    assertThat(exit).as("halted at a schema update: %s", log).isPresent();
                    String output = Files.readString(log);
                    assertThat(exit.getAsInt()).as(output).isEqualTo(CrashPoint.EXIT_CODE);
                    java.util.regex.Matcher m = evolved.matcher(output);
                    assertThat(m.find()).as("a table followed the schema change before the halt: %s", output).isTrue();
                    halted.add(m.group(1));
                }
            }
            assertThat(halted).as("the two runs halted at the schema updates of two different tables").hasSize(2);
            assertThat(Main.execute("run", "-c", config.toString(), "--once")).isZero();

            try (Lake lake = Lake.open(new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.ENABLED), "evolve", t -> TableOptions.DEFAULT);
                 QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(postgres.checksumRows(db, "items", q.query("SELECT id, qty, extra FROM silver.items").rows(), CHECKSUM))
                        .isEqualTo(postgres.query(db, CHECKSUM.formatted("items")).get(0));
                assertThat(q.query("SELECT count(*) - count(DISTINCT _position), count(*) FILTER (WHERE _op = 'u') FROM bronze.items").rows())
                        .containsExactly(List.of(0L, 41L));
            }
            postgres.dropInactiveSlots();
            postgres.execute(db, "DROP PUBLICATION tributary_evolve");
        }
    }
}
