package io.tributary.lake.storage;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import org.apache.iceberg.aws.AwsClientProperties;
import org.apache.iceberg.aws.s3.S3FileIOAwsClientFactory;
import org.apache.iceberg.aws.s3.S3FileIOProperties;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.retries.api.BackoffStrategy;
import software.amazon.awssdk.retries.api.RetryStrategy;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * The S3 client of the warehouse's {@code S3FileIO} ({@code s3.client-factory-impl}): the endpoint,
 * region, path-style access and credentials of {@code lake.s3}, the Apache HTTP client, and a retry
 * strategy that rides out an outage of the store: every retryable failure (throttling, 5xx, a
 * refused or reset connection, a timeout) is retried up to {@value #MAX_ATTEMPTS} attempts with
 * exponential backoff from {@link #BASE_DELAY} to {@link #MAX_DELAY} (half jitter), so at least
 * 11.75 s and at most 23.5 s pass before a request fails; no circuit breaker cuts the retries short.
 * A longer outage fails the pipeline (exit 4) without acknowledging the source; it resumes where
 * the lake stands when started again.
 * Every S3 request Tributary makes is idempotent (a whole-object PUT, a GET, a LIST, a DELETE), so
 * a retry never doubles a write.
 */
public final class S3Clients implements S3FileIOAwsClientFactory {
    static final int MAX_ATTEMPTS = 7;
    static final Duration BASE_DELAY = Duration.ofMillis(500);
    static final Duration MAX_DELAY = Duration.ofSeconds(8);
    private Map<String, String> properties = Map.of();

    @Override
    public void initialize(Map<String, String> props) {
        this.properties = Map.copyOf(props);
    }

    @Override
    public S3Client s3() {
        S3ClientBuilder builder = S3Client.builder()
                .httpClientBuilder(ApacheHttpClient.builder().maxConnections(32))
                .credentialsProvider(credentials())
                .forcePathStyle(Boolean.parseBoolean(properties.getOrDefault(S3FileIOProperties.PATH_STYLE_ACCESS, "false")))
                .overrideConfiguration(c -> c.retryStrategy(retryStrategy()));
        String endpoint = properties.get(S3FileIOProperties.ENDPOINT);
        if (endpoint != null) {
            builder.endpointOverride(URI.create(endpoint));
        }
        String region = properties.get(AwsClientProperties.CLIENT_REGION);
        if (region != null) {
            builder.region(Region.of(region));
        }
        return builder.build();
    }

    /** Not used: S3FileIO reads and writes with the synchronous client. */
    @Override
    public S3AsyncClient s3Async() {
        throw new UnsupportedOperationException("The warehouse's S3 file IO uses the synchronous client only");
    }

    static RetryStrategy retryStrategy() {
        BackoffStrategy backoff = BackoffStrategy.exponentialDelayHalfJitter(BASE_DELAY, MAX_DELAY);
        return AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(MAX_ATTEMPTS).backoffStrategy(backoff)
                .throttlingBackoffStrategy(backoff).circuitBreakerEnabled(false).build();
    }

    private AwsCredentialsProvider credentials() {
        String id = properties.get(S3FileIOProperties.ACCESS_KEY_ID);
        String secret = properties.get(S3FileIOProperties.SECRET_ACCESS_KEY);
        if (id != null && secret != null) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(id, secret));
        }
        return DefaultCredentialsProvider.builder().build();
    }
}
