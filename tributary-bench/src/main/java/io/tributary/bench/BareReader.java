package io.tributary.bench;

import io.tributary.testing.TestingPostgres;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * The ceiling: a bare logical replication reader (pgjdbc's replication API, no Debezium) that
 * drains a pgoutput slot and counts messages, to compare Tributary's rate against
 * (PostgreSQL "Logical Streaming Replication Protocol", section 55.5).
 */
final class BareReader {
    record Result(long changes, long messages, double seconds) {
    }

    private final TestingPostgres postgres;
    private final String db;
    private final String slot;
    private final String publication;

    private BareReader(TestingPostgres postgres, String db, String slot, String publication) {
        this.postgres = postgres;
        this.db = db;
        this.slot = slot;
        this.publication = publication;
    }

    static BareReader createSlot(TestingPostgres postgres, String db, String slot, String publication) {
        postgres.execute(db, "SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
        return new BareReader(postgres, db, slot, publication);
    }

    /** Reads the slot up to the server's current WAL position, then drops the slot. */
    Result drain() throws Exception {
        LogSequenceNumber end = LogSequenceNumber.valueOf(postgres.queryOne(db, "SELECT pg_current_wal_lsn()::text"));
        Properties props = new Properties();
        PGProperty.USER.set(props, TestingPostgres.USER);
        PGProperty.REPLICATION.set(props, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(props, "9.4");
        PGProperty.PREFER_QUERY_MODE.set(props, "simple");
        long changes = 0;
        long messages = 0;
        long start = System.nanoTime();
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(db), props)) {
            PGReplicationStream stream = c.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                    .withSlotName(slot)
                    .withSlotOption("proto_version", 1)
                    .withSlotOption("publication_names", publication)
                    .withStatusInterval(1, TimeUnit.SECONDS)
                    .start();
            while (stream.getLastReceiveLSN().compareTo(end) < 0) {
                ByteBuffer message = stream.readPending();
                if (message == null) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000L);
                    continue;
                }
                messages++;
                byte type = message.get(message.position());
                if (type == 'I' || type == 'U' || type == 'D') {
                    changes++;
                }
            }
            stream.close();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        postgres.execute(db, "SELECT pg_drop_replication_slot('" + slot + "')");
        return new Result(changes, messages, seconds);
    }
}
