package io.tributary.source.postgres.slot;

import io.tributary.config.PostgresSourceConfig;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Opens plain JDBC connections to the source for set-up and inspection (not for streaming), and
 * turns connection failures into errors that name the cause and the fix.
 */
public final class PostgresConnector {
    private final PostgresSourceConfig config;

    public PostgresConnector(PostgresSourceConfig config) {
        this.config = config;
    }

    public PostgresSourceConfig config() {
        return config;
    }

    /**
     * @throws TributaryException SOURCE_UNREACHABLE, SOURCE_AUTHENTICATION_FAILED or SOURCE_MISCONFIGURED
     */
    public Connection open() {
        Properties props = new Properties();
        props.setProperty("user", config.user());
        config.password().ifPresent(p -> props.setProperty("password", p.reveal()));
        props.setProperty("sslmode", config.sslMode().libpqName());
        props.setProperty("connectTimeout", Long.toString(Math.max(1, config.connectTimeout().toSeconds())));
        props.setProperty("ApplicationName", "tributary");
        try {
            return DriverManager.getConnection("jdbc:postgresql://" + config.host() + ":" + config.port() + "/" + config.database(), props);
        } catch (SQLException e) {
            throw translate(e);
        }
    }

    /** Converts a connection-time SQLException into a TributaryException with cause and fix. */
    public TributaryException translate(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        String where = "PostgreSQL at " + config.host() + ":" + config.port() + " database " + config.database();
        String detail = mask(e.getMessage());
        if (state.equals("28P01") || state.equals("28000")) {
            return new TributaryException(ErrorCode.SOURCE_AUTHENTICATION_FAILED,
                    "Cannot connect to " + where + " as user " + config.user() + ": authentication failed. Check source.user and the password reference "
                            + config.password().map(p -> p.reference()).orElse("(none set)") + ", and pg_hba.conf", e);
        }
        if (state.equals("3D000")) {
            return new TributaryException(ErrorCode.SOURCE_MISCONFIGURED,
                    "Cannot connect to " + where + ": the database does not exist. Check source.database", e);
        }
        if (detail != null && detail.contains("SSL")) {
            return new TributaryException(ErrorCode.SOURCE_MISCONFIGURED,
                    "Cannot connect to " + where + " with source.sslmode " + config.sslMode().libpqName() + ": " + detail
                            + " Check source.sslmode against the server's ssl setting and certificates", e);
        }
        if (state.startsWith("08") || e.getCause() instanceof java.net.ConnectException || e.getCause() instanceof java.net.UnknownHostException) {
            return new TributaryException(ErrorCode.SOURCE_UNREACHABLE,
                    "Cannot connect to " + where + ": " + detail + ". Check that the server runs, source.host and source.port, and firewalls", e);
        }
        return new TributaryException(ErrorCode.SOURCE_FAILED, "Cannot use " + where + ": " + detail + " (SQLState " + state + ")", e);
    }

    private String mask(String text) {
        return config.password().map(p -> p.mask(text)).orElse(text);
    }
}
