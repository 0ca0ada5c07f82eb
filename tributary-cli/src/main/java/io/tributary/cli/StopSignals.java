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
     * socket: PostgresReplicationConnection logs "Unexpected error while closing Postgres connection"
     * at ERROR, with pgjdbc's "Unable to close connection properly … Broken pipe" and a stack trace.
     * That is the expected end of the connection, so from the signal on, in this process, that one
     * logger is off; every other logger, Debezium's included, keeps its level.
     */
    static void silenceExpectedCloseErrors() {
        if (org.slf4j.LoggerFactory.getLogger(REPLICATION_CONNECTION) instanceof ch.qos.logback.classic.Logger logger) {
            logger.setLevel(ch.qos.logback.classic.Level.OFF);
        }
    }

    static final String REPLICATION_CONNECTION = "io.debezium.connector.postgresql.connection.PostgresReplicationConnection";

    @Override
    public void close() {
        for (int i = 0; i < signals.size(); i++) {
            Signal.handle(signals.get(i), previous.get(i));
        }
    }
}
