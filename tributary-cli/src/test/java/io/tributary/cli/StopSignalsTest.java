package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Regression: a clean stop logged an ERROR with a stack trace ("Unable to close connection properly
 * … Broken pipe") when Debezium closed the replication connection the stop had already ended.
 */
class StopSignalsTest {
    @Test
    void aStopSilencesOnlyTheReplicationConnectionsCloseErrors() {
        Logger replication = LoggerFactory.getLogger(StopSignals.REPLICATION_CONNECTION);
        Logger other = LoggerFactory.getLogger("io.debezium.connector.postgresql.PostgresStreamingChangeEventSource");
        assertThat(replication.isErrorEnabled()).isTrue();

        StopSignals.silenceExpectedCloseErrors();

        assertThat(replication.isErrorEnabled()).isFalse();
        assertThat(other.isErrorEnabled()).isTrue();
        assertThat(LoggerFactory.getLogger("io.tributary.pipeline.Pipeline").isInfoEnabled()).isTrue();
    }
}
