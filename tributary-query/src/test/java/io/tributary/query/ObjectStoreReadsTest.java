package io.tributary.query;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.DataSize;
import io.tributary.config.S3Config;
import io.tributary.config.Secret;
import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeTable;
import io.tributary.lake.storage.LocalCopies;
import io.tributary.lake.storage.S3Reads;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** How the engine's views reach files on object storage: in place (httpfs) or through local copies. */
class ObjectStoreReadsTest {
    private static final S3Config MINIO = new S3Config(Optional.of("http://127.0.0.1:9000"), Optional.empty(), true, Optional.of("AKIA'1"),
            Optional.of(new Secret("s3cret", "test")), new DataSize(1 << 20), S3Config.QueryReads.HTTPFS);

    /** Copies named after their location, as a cache would give them. */
    private static final LocalCopies COPIES = new LocalCopies() {
        @Override
        public Path localFile(String location) {
            return Path.of("/cache", location.substring(location.lastIndexOf('/') + 1));
        }

        @Override
        public boolean isDirect() {
            return false;
        }

        @Override
        public Optional<S3Reads> s3Reads() {
            return Optional.of(new S3Reads(MINIO));
        }
    };

    private static LakeTable orders() {
        return new LakeTable(Layer.SILVER, "orders", List.of(new LakeTable.LakeColumn("id", "long", 1, List.of())), Optional.of(1L), Optional.empty(),
                Optional.empty(), List.of(new LakeTable.DataFileRef("s3://lake/shop/silver/orders/data/a.parquet", 1, 10,
                List.of("s3://lake/shop/silver/orders/data/d.parquet"))),
                List.of(new LakeTable.DeleteFileRef("s3://lake/shop/silver/orders/data/d.parquet", 2)), COPIES);
    }

    @Test
    void inPlaceViewsReadTheLocationsAndMatchDeletesByThem() {
        String sql = QueryEngine.viewSql(orders(), true);
        assertThat(sql).contains("read_parquet(['s3://lake/shop/silver/orders/data/a.parquet']")
                .contains("read_parquet(['s3://lake/shop/silver/orders/data/d.parquet'])").doesNotContain("/cache/");
    }

    @Test
    void cachedViewsReadCopiesAndMapDeletesToThem() {
        String sql = QueryEngine.viewSql(orders(), false);
        assertThat(sql).contains("read_parquet(['/cache/a.parquet']").contains("read_parquet(['/cache/d.parquet'])")
                .contains("('s3://lake/shop/silver/orders/data/a.parquet', '/cache/a.parquet')");
    }

    @Test
    void theSecretSignsForTheConfiguredStore() {
        assertThat(QueryEngine.s3Secret(new S3Reads(MINIO))).isEqualTo("CREATE OR REPLACE SECRET tributary_lake (TYPE s3, KEY_ID 'AKIA''1', "
                + "SECRET 's3cret', REGION 'us-east-1', ENDPOINT '127.0.0.1:9000', USE_SSL false, URL_STYLE 'path')");
        S3Config aws = new S3Config(Optional.empty(), Optional.of("eu-west-1"), false, Optional.of("AKIA"), Optional.of(new Secret("k", "test")),
                new DataSize(1), S3Config.QueryReads.AUTO);
        assertThat(QueryEngine.s3Secret(new S3Reads(aws))).isEqualTo("CREATE OR REPLACE SECRET tributary_lake (TYPE s3, KEY_ID 'AKIA', "
                + "SECRET 'k', REGION 'eu-west-1', URL_STYLE 'vhost')");
    }
}
