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
        // Debezium 3.6: "ERROR Threads - Operation jdbc-connection-close failed", caused by "Broken pipe".
        Logger threads = LoggerFactory.getLogger("io.debezium.util.Threads");
        Logger replication = LoggerFactory.getLogger("io.debezium.connector.postgresql.connection.PostgresReplicationConnection");
        Logger other = LoggerFactory.getLogger("io.debezium.connector.postgresql.PostgresStreamingChangeEventSource");
        assertThat(threads.isErrorEnabled()).isTrue();
        assertThat(replication.isErrorEnabled()).isTrue();

        StopSignals.silenceExpectedCloseErrors();

        assertThat(threads.isErrorEnabled()).isFalse();
        assertThat(replication.isErrorEnabled()).isFalse();
        assertThat(other.isErrorEnabled()).isTrue();
        assertThat(LoggerFactory.getLogger("io.tributary.pipeline.Pipeline").isInfoEnabled()).isTrue();
    }
}
