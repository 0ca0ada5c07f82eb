package io.tributary.source.postgres.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.spi.TableId;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** How the initial snapshot is split between Debezium's blocking snapshot and incremental snapshots. */
class DebeziumPropertiesTest {
    private static final TableId BIG = TableId.parse("public.big");
    private static final TableId LOOSE = TableId.parse("sales.loose");

    private static Properties base() {
        PostgresSourceConfig config = new PostgresSourceConfig("127.0.0.1", 5432, "shop", "u", Optional.empty(), SslMode.DISABLE, List.of(BIG, LOOSE),
                "s", "p", Duration.ofSeconds(10), Duration.ofSeconds(10));
        return DebeziumProperties.build(config, List.of(BIG, LOOSE), "seed", Duration.ofSeconds(1));
    }

    @Test
    void theBlockingSnapshotReadsOnlyTheTablesLeftToIt() {
        Properties p = DebeziumProperties.withBlockingSnapshotOf(DebeziumProperties.withIncrementalSnapshots(base(), 25_000), List.of(LOOSE));

        assertThat(p.getProperty("snapshot.mode")).isEqualTo("initial");
        assertThat(p.getProperty("snapshot.include.collection.list")).isEqualTo("\\Qsales.loose\\E");
        assertThat(p.getProperty("incremental.snapshot.chunk.size")).isEqualTo("25000");
        assertThat(p.getProperty("read.only")).isEqualTo("true");
        // A chunk in one fetch, which must end short of the fetch size: Debezium (2.7.3, 3.6.1)
        // loses the cursor of a chunk read in several (bench: 50,000-row chunks, 10,240-row fetches).
        assertThat(p.getProperty("snapshot.fetch.size")).isEqualTo("25001");
        assertThat(DebeziumProperties.withIncrementalSnapshots(base(), 5_000).getProperty("snapshot.fetch.size")).isEqualTo("10240");
    }

    @Test
    void withoutBlockingTablesTheSlotIsStreamedWithoutSnapshot() {
        Properties p = DebeziumProperties.withBlockingSnapshotOf(base(), List.of());

        assertThat(p.getProperty("snapshot.mode")).isEqualTo("no_data");
        assertThat(p.getProperty("snapshot.include.collection.list")).isNull();
    }

    @Test
    void byDefaultEveryTableTakesTheBlockingSnapshot() {
        Properties p = base();

        assertThat(p.getProperty("snapshot.mode")).isEqualTo("initial");
        assertThat(p.getProperty("snapshot.include.collection.list")).isNull();
    }
}
