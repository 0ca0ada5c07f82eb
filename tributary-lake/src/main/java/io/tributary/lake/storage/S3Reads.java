package io.tributary.lake.storage;

import static java.util.Objects.requireNonNull;

import io.tributary.config.S3Config;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;

/**
 * What a reader that speaks S3 itself (DuckDB's httpfs extension) needs to read an {@code s3://}
 * warehouse's files where they are, instead of through {@link LocalCopies}: the configured choice
 * ({@code lake.s3.query-reads}), the store, and credentials resolved when asked, the static keys of
 * {@code lake.s3} or else the default AWS credential chain (environment, profile, container or
 * instance role), as Iceberg's {@code S3FileIO} resolves them.
 */
public final class S3Reads {
    private final S3Config config;

    public S3Reads(S3Config config) {
        this.config = requireNonNull(config, "config is null");
    }

    /** Static credentials, with the session token of temporary ones. */
    public record Credentials(String accessKeyId, String secretAccessKey, Optional<String> sessionToken) {
    }

    /** {@code lake.s3.query-reads}. */
    public S3Config.QueryReads mode() {
        return config.queryReads();
    }

    /** The store's URL ({@code http(s)://host[:port]}); empty: AWS's regional endpoint. */
    public Optional<String> endpoint() {
        return config.endpoint();
    }

    /** Whether buckets are addressed in the path ({@code http://host/bucket/key}). */
    public boolean pathStyleAccess() {
        return config.pathStyleAccess();
    }

    /**
     * The signing region: {@code lake.s3.region}, {@code us-east-1} for a store of one's own (an
     * endpoint), else the AWS default region chain; empty when none names one.
     */
    public Optional<String> region() {
        if (config.region().isPresent() || config.endpoint().isPresent()) {
            return Optional.of(config.region().orElse("us-east-1"));
        }
        try {
            return Optional.of(new DefaultAwsRegionProviderChain().getRegion().id());
        } catch (SdkClientException e) {
            return Optional.empty();
        }
    }

    /**
     * The credentials to sign with.
     *
     * @throws TributaryException INVALID_CONFIG when no keys are configured and the default AWS chain finds none
     */
    public Credentials credentials() {
        if (config.accessKeyId().isPresent() && config.secretAccessKey().isPresent()) {
            return new Credentials(config.accessKeyId().get(), config.secretAccessKey().get().reveal(), Optional.empty());
        }
        AwsCredentials found;
        try (DefaultCredentialsProvider chain = DefaultCredentialsProvider.builder().build()) {
            found = chain.resolveCredentials();
        } catch (SdkClientException e) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "No S3 credentials: lake.s3 sets no access-key-id and the default AWS credential chain found none: "
                    + e.getMessage(), e);
        }
        return new Credentials(found.accessKeyId(), found.secretAccessKey(),
                found instanceof AwsSessionCredentials session ? Optional.of(session.sessionToken()) : Optional.empty());
    }
}
