package io.tributary.cli;

import java.util.ArrayList;
import java.util.List;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Turns SIGTERM and SIGINT into a clean stop: the action runs, the command finishes its last commit
 * and returns, and the process exits 0. (A JVM shutdown hook would end the process with 143.)
 * Restores the previous handlers on {@link #close()}.
 */
final class StopSignals implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(StopSignals.class);
    private final List<Signal> signals = new ArrayList<>();
    private final List<SignalHandler> previous = new ArrayList<>();

    StopSignals(Runnable stop) {
        for (String name : List.of("TERM", "INT")) {
            Signal signal = new Signal(name);
            signals.add(signal);
            previous.add(Signal.handle(signal, s -> {
                LOG.info("Received SIG{}: stopping capture, committing what was delivered, then exiting", s.getName());
                silenceExpectedCloseErrors();
                stop.run();
            }));
        }
    }

    /**
     * A stop ends the replication slot's walsender itself (so Debezium's streaming thread need not
     * drain its queue), and Debezium's close of that connection afterwards may fail on the broken
     * socket with pgjdbc's "Unable to close connection properly … Broken pipe", which Debezium logs
     * at ERROR with a stack trace: Debezium 3.x from {@code io.debezium.util.Threads} ("Operation
     * jdbc-connection-close failed", its close runs with a timeout), 2.x from
     * PostgresReplicationConnection. When the walsender ends while the streaming thread is still
     * reading, the engine itself logs "Engine has failed with … Database connection failed when
     * reading from copy" ({@code AsyncEmbeddedEngine}, seen on a loaded machine). That is the
     * expected end of the connection, so from the signal on, in this process, those loggers are off;
     * every other logger keeps its level, and a real failure still reaches the user through
     * Tributary's own error message.
     */
    static void silenceExpectedCloseErrors() {
        for (String name : CLOSE_ERROR_LOGGERS) {
            if (org.slf4j.LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger logger) {
                logger.setLevel(ch.qos.logback.classic.Level.OFF);
            }
        }
    }

    /** The loggers through which Debezium reports the failed close of the replication connection. */
    static final List<String> CLOSE_ERROR_LOGGERS = List.of("io.debezium.util.Threads",
            "io.debezium.connector.postgresql.connection.PostgresReplicationConnection", "io.debezium.embedded.async.AsyncEmbeddedEngine");

    @Override
    public void close() {
        for (int i = 0; i < signals.size(); i++) {
            Signal.handle(signals.get(i), previous.get(i));
        }
    }
}
