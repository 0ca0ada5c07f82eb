package io.tributary.lake.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shards of a lake landed by several lake workers: each shard held by one worker at a time, a
 * stale worker's shard taken over with the next epoch and the zombie's record refused, a released
 * shard resumed where it was recorded, and the lake's combined watermark and consistent position.
 * Each catalog stands for one worker process.
 */
class ShardsTest {
    private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
    private static final SourcePosition P1 = SourcePosition.ofSequence(100, 0);
    private static final SourcePosition P2 = SourcePosition.ofSequence(200, 0);
    private static final SourcePosition P3 = SourcePosition.ofSequence(300, 0);

    @TempDir
    Path warehouse;
    private final AtomicReference<Instant> now = new AtomicReference<>(T0);

    private static io.tributary.spi.ShardProgress progress(String topic, long next, String table, boolean caughtUp) {
        return new io.tributary.spi.ShardProgress(new SourceOffset("{\"kafka\":{\"" + topic + "\":{\"0\":" + next + "}}}"),
                Set.of(new io.tributary.spi.TableId("public", table)), caughtUp);
    }

    private Shards shards(LakeCatalog catalog) {
        new StateTable(catalog, "p").read();
        catalog.ensure(StateTable.ID, new org.apache.iceberg.Schema(java.util.List.of(org.apache.iceberg.types.Types.NestedField.optional(1, "unused",
                org.apache.iceberg.types.Types.StringType.get())), Set.of()), s -> org.apache.iceberg.PartitionSpec.unpartitioned());
        return new Shards(catalog, "p", now::get);
    }

    @Test
    void workersHoldTheirOwnShardsAndTheLakesStateCombinesThem() {
        try (LakeCatalog first = LakeCatalog.open(warehouse); LakeCatalog second = LakeCatalog.open(warehouse)) {
            Shards a = shards(first);
            Shards b = shards(second);
            assertThat(a.claim(Set.of("shop.orders"), Duration.ZERO).get("shop.orders").offset()).isEmpty();
            b.claim(Set.of("shop.customers"), Duration.ZERO);
            a.record(P1, P1, Map.of("shop.orders", progress("shop.orders", 10, "orders", false)));
            b.record(P3, P2, Map.of("shop.customers", progress("shop.customers", 7, "customers", false)));

            CommittedState lake = new StateTable(first, "p").read().orElseThrow();
            // The furthest shard is the watermark; readers read at the least consistent position of the shards still reading.
            assertThat(lake.watermark()).isEqualTo(P3);
            assertThat(lake.consistent()).isEqualTo(P1);
            assertThat(lake.offset().token()).isEqualTo("{\"kafka\":{\"shop.customers\":{\"0\":7},\"shop.orders\":{\"0\":10}}}");

            // A shard that read all its topic held does not hold the others back.
            a.record(P1, P1, Map.of("shop.orders", progress("shop.orders", 10, "orders", true)));
            assertThat(new StateTable(second, "p").read().orElseThrow().consistent()).isEqualTo(P2);
            b.record(P3, P3, Map.of("shop.customers", progress("shop.customers", 8, "customers", true)));
            assertThat(new StateTable(second, "p").read().orElseThrow().consistent()).isEqualTo(P3);

            // A worker cannot record a shard it does not hold.
            assertThatThrownBy(() -> a.record(P2, P2, Map.of("shop.customers", progress("shop.customers", 9, "customers", false))))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED))
                    .hasMessageContaining("shard shop.customers").hasMessageContaining("no longer holds it");
            assertThat(a.read().get("shop.customers").offset().orElseThrow().token()).contains("\"0\":8");
        }
    }

    @Test
    void aLiveShardIsRefusedAStaleOneTakenOverAndTheZombieFenced() {
        try (LakeCatalog first = LakeCatalog.open(warehouse); LakeCatalog second = LakeCatalog.open(warehouse)) {
            Shards zombie = shards(first);
            Shards successor = shards(second);
            zombie.claim(Set.of("t"), Duration.ZERO);
            zombie.record(P1, P1, Map.of("t", progress("t", 5, "orders", false)));

            now.set(T0.plusSeconds(5));
            assertThatThrownBy(() -> successor.claim(Set.of("t"), Duration.ZERO))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED))
                    .hasMessageContaining("Cannot take shard(s) [t]").hasMessageContaining("epoch 1");

            // Past the lease timeout without a renewal, the shard is taken over where the lake has it.
            now.set(T0.plus(StateTable.LEASE_TIMEOUT).plusSeconds(1));
            ShardState taken = successor.claim(Set.of("t"), Duration.ZERO).get("t");
            assertThat(taken.epoch()).isEqualTo(2);
            assertThat(taken.position()).isEqualTo(P1);
            assertThat(taken.tables()).containsExactly("orders");
            assertThat(taken.offset().orElseThrow().token()).contains("\"0\":5");

            assertThatThrownBy(() -> zombie.record(P2, P2, Map.of("t", progress("t", 9, "orders", false))))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED));
            assertThatThrownBy(() -> zombie.verify(Set.of("t"), "commit"))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED));
            assertThat(zombie.held()).isEmpty();
            successor.record(P2, P2, Map.of("t", progress("t", 9, "orders", false)));
            assertThat(successor.read().get("t").position()).isEqualTo(P2);
        }
    }

    @Test
    void aReleasedShardIsClaimedAtOnceAndAPipelineOfTheWholeLakeIsRefused() {
        try (LakeCatalog first = LakeCatalog.open(warehouse); LakeCatalog second = LakeCatalog.open(warehouse)) {
            Shards a = shards(first);
            Shards b = shards(second);
            a.claim(Set.of("t1", "t2"), Duration.ZERO);
            a.register(Map.of("t1", Set.of("orders")));
            assertThat(a.read().get("t1").tables()).containsExactly("orders");
            a.record(P2, P2, Map.of("t1", progress("t1", 3, "orders", false), "t2", progress("t2", 4, "items", false)));

            assertThatThrownBy(() -> new StateTable(second, "p").acquire(now.get()))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED))
                    .hasMessageContaining("landed by lake workers (source.workers: group)");

            a.release(Set.of("t2"));
            assertThat(a.held()).containsExactly("t1");
            ShardState t2 = b.claim(Set.of("t2"), Duration.ZERO).get("t2");
            assertThat(t2.position()).isEqualTo(P2);
            assertThat(t2.tables()).containsExactly("items");
            // The lake's lease, taken by a worker, carries the shards along.
            StateTable maintainer = new StateTable(second, "p");
            assertThat(maintainer.acquireAsWorker(now.get())).isTrue();
            maintainer.renew(now.get().plusSeconds(20), now.get().plusSeconds(15));
            assertThat(b.read().keySet()).containsExactly("t1", "t2");
            assertThat(new StateTable(first, "p").acquireAsWorker(now.get().plusSeconds(21))).isFalse();
        }
    }
}
