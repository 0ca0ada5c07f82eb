package io.tributary.bench;

import io.tributary.testing.TestingPostgres;
import java.io.IOException;
import java.io.OutputStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.Properties;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;

/**
 * The initial snapshot's ceiling: {@code COPY (SELECT * FROM t) TO STDOUT} of every table, read by
 * pgjdbc's {@code CopyManager} and counted (one text-format row per newline, PostgreSQL "COPY",
 * text format), nothing kept. One connection, one table after the other, as a plain single-stream
 * reader would.
 */
final class CopyReader {
    record Result(long rows, long bytes, double seconds) {
        double rowsPerSecond() {
            return rows / seconds;
        }
    }

    private CopyReader() {
    }

    static Result read(TestingPostgres postgres, String db, List<String> tables) throws Exception {
        Properties props = new Properties();
        PGProperty.USER.set(props, TestingPostgres.USER);
        Counting out = new Counting();
        long start = System.nanoTime();
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(db), props)) {
            for (String table : tables) {
                c.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY (SELECT * FROM " + table + ") TO STDOUT", out);
            }
        }
        return new Result(out.rows, out.bytes, (System.nanoTime() - start) / 1e9);
    }

    /** Counts the bytes and rows written to it. */
    private static final class Counting extends OutputStream {
        long rows;
        long bytes;

        @Override
        public void write(int b) {
            bytes++;
            if (b == '\n') {
                rows++;
            }
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            bytes += len;
            for (int i = off; i < off + len; i++) {
                if (b[i] == '\n') {
                    rows++;
                }
            }
        }
    }
}
