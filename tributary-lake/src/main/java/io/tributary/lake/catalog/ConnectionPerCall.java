package io.tributary.lake.catalog;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import org.apache.iceberg.ClientPool;
import org.apache.iceberg.jdbc.JdbcClientPool;

/**
 * The JDBC catalog's connections to its SQLite file, one per call and closed after it. A pooled
 * SQLite connection that keeps a result set open (Iceberg's catalog does, checking its own tables
 * at start) keeps its read transaction open, and in WAL mode it then sees the catalog as it was
 * then: commits of other processes stay invisible to it and its own writes fail as busy. Opening the
 * file costs well under a millisecond beside an Iceberg commit.
 */
public final class ConnectionPerCall extends JdbcClientPool {
    public ConnectionPerCall(Map<String, String> properties) {
        super(1, properties.get("uri"), properties);
    }

    @Override
    public <R> R run(ClientPool.Action<R, Connection, SQLException> action) throws SQLException, InterruptedException {
        try (Connection connection = newClient()) {
            return action.run(connection);
        }
    }

    @Override
    public <R> R run(ClientPool.Action<R, Connection, SQLException> action, boolean retry) throws SQLException, InterruptedException {
        return run(action);
    }
}
