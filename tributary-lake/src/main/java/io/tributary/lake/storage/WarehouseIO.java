package io.tributary.lake.storage;

import io.tributary.config.LakeConfig;
import io.tributary.config.S3Config;
import java.util.HashMap;
import java.util.Map;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.aws.AwsClientProperties;
import org.apache.iceberg.aws.s3.S3FileIOProperties;
import org.apache.iceberg.io.FileIO;

/**
 * The Iceberg {@link FileIO} of a warehouse and the catalog properties that choose it: a local
 * directory is read and written by {@link LocalFileIO}; an {@code s3://} warehouse by Iceberg's
 * {@code S3FileIO} with the {@code lake.s3} settings, on the client {@link S3Clients} builds (it
 * retries throttling, 5xx and connection failures with backoff).
 */
public final class WarehouseIO {
    /** Iceberg's S3 file IO, loaded by name so a local lake never touches the AWS SDK. */
    public static final String S3_FILE_IO = "org.apache.iceberg.aws.s3.S3FileIO";
    /** The S3 settings that hold no credential, which a served catalog hands its clients. */
    public static final java.util.Set<String> PUBLIC_S3_PROPERTIES = java.util.Set.of(S3FileIOProperties.ENDPOINT,
            S3FileIOProperties.PATH_STYLE_ACCESS, AwsClientProperties.CLIENT_REGION);

    private WarehouseIO() {
    }

    /** The catalog properties that make a catalog (and a query's reader) use the warehouse's file IO. */
    public static Map<String, String> properties(LakeConfig lake) {
        Map<String, String> props = new HashMap<>();
        if (lake.isLocal()) {
            props.put(CatalogProperties.FILE_IO_IMPL, LocalFileIO.class.getName());
            return props;
        }
        return s3Properties(lake.s3());
    }

    /** The properties of an {@code S3FileIO} with {@code s3}'s settings (also for a landing prefix beside a local warehouse). */
    public static Map<String, String> s3Properties(S3Config s3) {
        Map<String, String> props = new HashMap<>();
        props.put(CatalogProperties.FILE_IO_IMPL, S3_FILE_IO);
        s3.endpoint().ifPresent(e -> props.put(S3FileIOProperties.ENDPOINT, e));
        if (s3.pathStyleAccess()) {
            props.put(S3FileIOProperties.PATH_STYLE_ACCESS, "true");
        }
        // An endpoint of one's own (MinIO, Ceph) has no region chain of its own: sign as us-east-1.
        s3.region().or(() -> s3.endpoint().map(e -> "us-east-1")).ifPresent(r -> props.put(AwsClientProperties.CLIENT_REGION, r));
        s3.accessKeyId().ifPresent(k -> props.put(S3FileIOProperties.ACCESS_KEY_ID, k));
        s3.secretAccessKey().ifPresent(k -> props.put(S3FileIOProperties.SECRET_ACCESS_KEY, k.reveal()));
        // Our S3 client: throttling (503 SlowDown), 5xx and refused or reset connections are retried
        // with backoff for half a minute or more.
        props.put(S3FileIOProperties.CLIENT_FACTORY, S3Clients.class.getName());
        return props;
    }

    /** A new file IO of the warehouse; close it when done. */
    public static FileIO open(LakeConfig lake) {
        Map<String, String> props = properties(lake);
        return CatalogUtil.loadFileIO(props.get(CatalogProperties.FILE_IO_IMPL), props, null);
    }
}
