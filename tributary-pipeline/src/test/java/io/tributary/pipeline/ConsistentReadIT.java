package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.lake.Lake;
import io.tributary.lake.commit.CommittedState;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeTable;
import io.tributary.lake.scan.LakeView;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Transaction-consistent reads against a real PostgreSQL: with {@code commit.max-events} of 4, one
 * transaction changing two tables by 15 rows is committed across several micro-batches. After
 * every commit, a read at the state table's consistent position shows every transaction in both
 * tables or in neither, and so does every gold snapshot.
 */
class ConsistentReadIT {
    /** (rows of a, rows of b) after each source transaction: the only states a consistent read may show. */
    private static final Set<List<Long>> TRANSACTION_BOUNDARIES = Set.of(List.of(1L, 1L), List.of(3L, 3L), List.of(13L, 8L), List.of(14L, 8L));

    private static TestingPostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPostgres() {
        postgres = new TestingPostgres();
    }

    @AfterAll
    static void stopPostgres() {
        if (postgres != null) {
            postgres.dropInactiveSlots();
            postgres.close();
        }
    }

    /** What one commit left for readers. */
    private record Observed(SourcePosition watermark, SourcePosition consistent, List<Long> consistentRows, List<Long> currentRows) {
    }

    @Test
    void aSplitTransactionIsSeenWholeInBothTablesOrNotAtAll() throws Exception {
        String db = postgres.createDatabase("consistent");
        postgres.execute(db,
                "CREATE TABLE a (id int PRIMARY KEY, v text)",
                "CREATE TABLE b (id int PRIMARY KEY, v text)",
                "INSERT INTO a VALUES (1, 'a1')",
                "INSERT INTO b VALUES (1, 'b1')");
        Path models = dir.resolve("models");
        Files.createDirectories(models.resolve("gold"));
        Files.writeString(models.resolve("gold/totals.sql"), "SELECT (SELECT count(*) FROM silver.a) AS a_rows, (SELECT count(*) FROM silver.b) AS b_rows");
        PipelineConfig config = new PipelineConfig(db,
                new PostgresSourceConfig(postgres.host(), postgres.port(), db, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                        List.of(TableId.parse("a"), TableId.parse("b")), "tributary_" + db, "tributary_" + db, Duration.ofSeconds(1), Duration.ofSeconds(5)),
                new LakeConfig(dir.resolve("lake"), LakeConfig.RawLayer.DISABLED), new ModelsConfig(Optional.of(models), Duration.ofMillis(100)),
                new CommitConfig(Duration.ofMillis(200), 4), Map.of());
        run(config, new ArrayList<>());
        postgres.execute(db,
                "BEGIN",
                "INSERT INTO a VALUES (2, 'a2'), (3, 'a3')",
                "INSERT INTO b VALUES (2, 'b2'), (3, 'b3')",
                "COMMIT",
                "BEGIN",
                "INSERT INTO a SELECT g, 'a' || g FROM generate_series(100, 104) g",
                "INSERT INTO b SELECT g, 'b' || g FROM generate_series(100, 104) g",
                "INSERT INTO a SELECT g, 'a' || g FROM generate_series(105, 109) g",
                "COMMIT",
                "INSERT INTO a VALUES (4, 'a4')");
        List<Observed> commits = new ArrayList<>();
        run(config, commits);

        SourcePosition splitStart;
        try (Lake lake = Lake.open(config.lake(), config.name(), config::optionsFor); QueryEngine q = QueryEngine.open(lake.consistentView().tables())) {
            splitStart = SourcePosition.decode((String) q.query("SELECT min(_position) FROM bronze.a WHERE id >= 100").rows().get(0).get(0));
            assertThat(lake.committedState()).map(CommittedState::consistent).isEqualTo(lake.committedState().map(CommittedState::watermark));
            assertThat(counts(q)).isEqualTo(List.of(14L, 8L));
            // Gold is built at consistent positions and stamped with them.
            Table gold = lake.load(Layer.GOLD, "totals").orElseThrow();
            for (Snapshot s : gold.snapshots()) {
                try (QueryEngine g = QueryEngine.open(List.of(LakeTable.of(Layer.GOLD, gold, Optional.of(s.snapshotId()))))) {
                    List<Object> row = g.query("SELECT a_rows, b_rows FROM gold.totals").rows().get(0);
                    assertThat(List.of((Long) row.get(0), (Long) row.get(1))).as("gold snapshot %s", s.summary().get(SnapshotPositions.POSITION))
                            .isIn(TRANSACTION_BOUNDARIES);
                }
            }
        }
        assertThat(commits).as("every commit").allSatisfy(c -> assertThat(c.consistentRows()).isIn(TRANSACTION_BOUNDARIES));
        List<Observed> inside = commits.stream().filter(c -> !c.consistent().equals(c.watermark())).toList();
        assertThat(inside).as("commits of a part of the 15-event transaction").isNotEmpty().allSatisfy(c -> {
            assertThat(c.consistent()).isLessThan(splitStart);
            assertThat(c.watermark()).isGreaterThanOrEqualTo(splitStart);
            assertThat(c.consistentRows()).isEqualTo(List.of(3L, 3L));
        });
        assertThat(inside).as("the current snapshots hold part of it meanwhile").anySatisfy(c -> assertThat(c.currentRows()).isNotIn(TRANSACTION_BOUNDARIES));
        assertThat(commits.get(commits.size() - 1).consistentRows()).isEqualTo(List.of(14L, 8L));
    }

    /** Runs the pipeline until it caught up, noting what a reader sees after each commit. */
    private static void run(PipelineConfig config, List<Observed> commits) {
        try (Pipeline pipeline = Pipeline.open(config)) {
            Lake lake = pipeline.lake();
            pipeline.onCommit((events, visibleAt, commitTime) -> {
                CommittedState state = lake.committedState().orElseThrow();
                LakeView view = lake.consistentView();
                try (QueryEngine consistent = QueryEngine.open(view.tables()); QueryEngine current = QueryEngine.open(lake.tables())) {
                    commits.add(new Observed(state.watermark(), state.consistent(), counts(consistent), counts(current)));
                }
            });
            try {
                pipeline.run(ChangeSource.RunMode.CATCH_UP);
            } finally {
                lake.close();
            }
        }
    }

    private static List<Long> counts(QueryEngine q) {
        List<Object> row = q.query("SELECT (SELECT count(*) FROM silver.a), (SELECT count(*) FROM silver.b)").rows().get(0);
        return List.of((Long) row.get(0), (Long) row.get(1));
    }
}
