package io.tributary.config;

/** libpq's {@code sslmode} values, passed through to the PostgreSQL connections (PostgreSQL "SSL Support", section 34.19). */
public enum SslMode {
    DISABLE, ALLOW, PREFER, REQUIRE, VERIFY_CA, VERIFY_FULL;

    /** The spelling libpq and pgjdbc use, e.g. {@code verify-full}. */
    public String libpqName() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
