package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.CatalogConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.S3Config;
import io.tributary.config.Secret;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.RestCatalogService;
import io.tributary.lake.commit.CommittedState;
import io.tributary.lake.commit.Lease;
import io.tributary.lake.commit.StateTable;
import io.tributary.server.CatalogServer;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TributaryException;
import io.tributary.testing.TestingPostgres;
import io.tributary.testing.TestingS3;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, item 3: the lease and fencing keep their compare-and-swap guarantee on the shared
 * catalogs: a JDBC catalog in PostgreSQL and a REST catalog (each catalog instance stands for one
 * process, on an S3 warehouse). A live lease refuses a second pipeline, a stale one is taken over,
 * and the zombie's watermark never lands.
 */
class SharedCatalogFencingIT {
    private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
    private static final SourcePosition P1 = SourcePosition.ofSequence(100, 0);
    private static final SourcePosition P2 = SourcePosition.ofSequence(200, 0);

    @TempDir
    static Path dir;
    private static TestingPostgres postgres;
    private static TestingS3 s3;

    @BeforeAll
    static void start() {
        postgres = new TestingPostgres();
        s3 = TestingS3.start(dir.resolve("s3"));
        s3.createBucket("lake");
    }

    @AfterAll
    static void stop() {
        s3.close();
        postgres.close();
    }

    private static LakeConfig lake(String prefix, CatalogConfig catalog) {
        return new LakeConfig("s3://lake/" + prefix, new S3Config(Optional.of(s3.endpoint()), Optional.of("us-east-1"), true,
                Optional.of(TestingS3.ACCESS_KEY_ID), Optional.of(new Secret(TestingS3.SECRET_ACCESS_KEY, "test")), S3Config.DEFAULT_CACHE_SIZE),
                catalog, LakeConfig.RawLayer.ENABLED, LakeConfig.HistoryLayer.ENABLED, dir.resolve("state-" + prefix));
    }

    @Test
    void onAPostgresCatalog() {
        postgres.createDatabase("fence_catalog");
        LakeConfig lake = lake("jdbc", CatalogConfig.jdbc(postgres.jdbcUrl("fence_catalog"), TestingPostgres.USER, Optional.empty()));
        fencing(() -> LakeCatalog.open(lake));
    }

    @Test
    void onARestCatalog() {
        postgres.createDatabase("rest_behind");
        LakeConfig behind = lake("rest", CatalogConfig.jdbc(postgres.jdbcUrl("rest_behind"), TestingPostgres.USER, Optional.empty()));
        try (LakeCatalog catalog = LakeCatalog.open(behind);
             CatalogServer server = CatalogServer.start(new RestCatalogService(catalog, RestCatalogService.Access.READ_WRITE, Optional.empty()),
                     new InetSocketAddress("127.0.0.1", 0))) {
            LakeConfig viaRest = behind.withCatalog(new CatalogConfig(CatalogConfig.Type.REST, Optional.of(server.uri()), Optional.empty(), Optional.empty(),
                    Optional.empty(), Optional.empty(), Optional.empty()));
            fencing(() -> LakeCatalog.open(viaRest));
        }
    }

    private static void fencing(Supplier<LakeCatalog> process) {
        try (LakeCatalog first = process.get(); LakeCatalog second = process.get(); LakeCatalog third = process.get()) {
            StateTable owner = new StateTable(first, "p");
            Lease held = owner.acquire(T0);
            owner.record(P1, new SourceOffset("o1"), T0.plusSeconds(1));

            // A live lease: a second pipeline is refused and changes nothing.
            assertThatThrownBy(() -> new StateTable(second, "p").acquire(T0.plusSeconds(2)))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED))
                    .hasMessageContaining("is held by owner " + held.owner());

            // A stale lease is taken over; the old owner's next watermark is refused.
            StateTable successor = new StateTable(third, "p");
            Lease taken = successor.acquire(T0.plusSeconds(1).plus(StateTable.LEASE_TIMEOUT).plusMillis(1));
            assertThat(taken.epoch()).isEqualTo(held.epoch() + 1);
            assertThatThrownBy(() -> owner.record(P2, new SourceOffset("zombie"), T0.plusSeconds(40)))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.PIPELINE_FENCED));
            successor.record(P2, new SourceOffset("o2"), T0.plusSeconds(42));
        }
        try (LakeCatalog reader = process.get()) {
            CommittedState state = new StateTable(reader, "p").read().orElseThrow();
            assertThat(state.watermark()).isEqualTo(P2);
            assertThat(state.offset().token()).as("the zombie's offset never landed").isEqualTo("o2");
        }
    }
}
