package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.TableId;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A change that arrives alone, with nothing after it, is committed {@code commit.interval} after it
 * was buffered, not at the source's next delivery: the source's heartbeat (at most the commit
 * interval apart) would leave it waiting up to twice the interval.
 */
class CommitIntervalIT {
    private static final Duration INTERVAL = Duration.ofSeconds(3);

    @TempDir
    Path dir;

    @Test
    void aLoneChangeIsCommittedOneIntervalAfterItArrives() throws Exception {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("lone");
            postgres.execute(db, "CREATE TABLE items (id int PRIMARY KEY, label text)", "INSERT INTO items VALUES (0, 'first')");
            PipelineConfig config = new PipelineConfig("lone",
                    new PostgresSourceConfig(postgres.host(), postgres.port(), db, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                            List.of(new TableId("public", "items")), "tributary_lone", "tributary_lone", Duration.ofSeconds(30), Duration.ofSeconds(5)),
                    new LakeConfig(dir, LakeConfig.RawLayer.ENABLED), new ModelsConfig(Optional.empty(), Duration.ofSeconds(1)),
                    new CommitConfig(INTERVAL, 10_000), Map.of());
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            Pipeline pipeline = Pipeline.open(config);
            pipeline.onCommit((events, visibleAt, commitTime) -> {
                for (ChangeEvent e : events) {
                    if (e.operation() != io.tributary.spi.ChangeOperation.READ) {
                        latencies.add(Duration.between(e.commitTimestamp(), visibleAt).toMillis());
                    }
                }
            });
            BackgroundRun run = BackgroundRun.start(pipeline, ChangeSource.RunMode.CONTINUOUS);
            try {
                await(run, () -> pipeline.status().committedEvents() == 1);
                for (int i = 1; i <= 4; i++) {
                    // Apart by more than two intervals: each change is alone in its micro-batch.
                    assertThat(run.await(Duration.ofMillis(INTERVAL.toMillis() * 2 + 700L * i))).as("the pipeline ended: %s", run.failure()).isFalse();
                    postgres.execute(db, "INSERT INTO items VALUES (" + i + ", 'lone')");
                    int expected = i;
                    await(run, () -> latencies.size() == expected);
                }
            } finally {
                run.stop(Duration.ofSeconds(60));
                pipeline.lake().close();
            }
            // Committed once the interval passed (plus the WAL writer's flush of an asynchronous
            // commit, up to 200 ms, the timer's tick and the commit itself), never at a heartbeat an
            // interval later.
            assertThat(latencies).hasSize(4).allSatisfy(ms -> assertThat(ms).isBetween(INTERVAL.toMillis() - 100, INTERVAL.toMillis() + 1_200));
            postgres.dropInactiveSlots();
        }
    }

    private static void await(BackgroundRun run, java.util.function.BooleanSupplier condition) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(90));
        while (!condition.getAsBoolean()) {
            assertThat(run.isRunning()).as("the pipeline ended: %s", run.failure()).isTrue();
            assertThat(Instant.now()).as("waiting for the pipeline").isBefore(deadline);
            run.await(Duration.ofMillis(100));
        }
    }
}
