package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * How the lake reaches an S3-compatible object store ({@code lake.s3}): AWS S3, MinIO, Ceph,
 * Cloudflare R2, or Google Cloud Storage through its S3-compatible endpoint.
 *
 * @param endpoint        the store's URL, e.g. {@code http://127.0.0.1:9000}; empty: AWS's regional endpoint
 * @param region          the signing region; empty: the AWS default region chain ({@code AWS_REGION},
 *                        the profile), or {@code us-east-1} when an endpoint is given
 * @param pathStyleAccess {@code http://host/bucket/key} instead of {@code http://bucket.host/key}
 *                        (MinIO and most self-hosted stores need it)
 * @param accessKeyId     with {@code secretAccessKey}, static credentials; both empty: the default
 *                        AWS credential chain (environment, profile, container or instance role)
 * @param cacheSize       bytes of immutable data files that queries ({@code tributary sql}, models)
 *                        keep in {@code <state-dir>/file-cache} to read them with DuckDB
 * @param queryReads      how queries reach the files ({@code lake.s3.query-reads})
 */
public record S3Config(Optional<String> endpoint, Optional<String> region, boolean pathStyleAccess, Optional<String> accessKeyId,
                       Optional<Secret> secretAccessKey, DataSize cacheSize, QueryReads queryReads) {
    /** The default cache size of queries: 2 GiB. */
    public static final DataSize DEFAULT_CACHE_SIZE = new DataSize(2L << 30);
    /** No settings: AWS's endpoint, region and credential chains. */
    public static final S3Config DEFAULT = new S3Config(Optional.empty(), Optional.empty(), false, Optional.empty(), Optional.empty(), DEFAULT_CACHE_SIZE,
            QueryReads.AUTO);

    /**
     * How DuckDB reads a table's data and delete files for {@code tributary sql}, {@code history}
     * and models ({@code lake.s3.query-reads}).
     */
    public enum QueryReads {
        /** {@link #HTTPFS} when DuckDB's httpfs extension loads (it is installed), else {@link #CACHE}. */
        AUTO,
        /** DuckDB reads {@code s3://} itself with its httpfs extension, installing it if needed; failing that, queries fail. */
        HTTPFS,
        /** Local copies in {@code <state-dir>/file-cache}, downloaded through the warehouse's Iceberg file IO. */
        CACHE
    }

    /** The settings without a query-reads choice: {@link QueryReads#AUTO}. */
    public S3Config(Optional<String> endpoint, Optional<String> region, boolean pathStyleAccess, Optional<String> accessKeyId,
                    Optional<Secret> secretAccessKey, DataSize cacheSize) {
        this(endpoint, region, pathStyleAccess, accessKeyId, secretAccessKey, cacheSize, QueryReads.AUTO);
    }

    public S3Config {
        requireNonNull(endpoint, "endpoint is null");
        requireNonNull(region, "region is null");
        requireNonNull(accessKeyId, "accessKeyId is null");
        requireNonNull(secretAccessKey, "secretAccessKey is null");
        requireNonNull(cacheSize, "cacheSize is null");
        requireNonNull(queryReads, "queryReads is null");
    }
}
