package io.tributary.spi;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * Named points on the commit path where a fault-injection test can make the process die at once,
 * as a power cut or {@code kill -9} would (FoundationDB's "buggify", in its simplest form). Inert
 * unless the system property {@value #PROPERTY} is set to {@code <point>} or {@code <point>@<n>}:
 * the process then halts with exit code {@value #EXIT_CODE}, without shutdown hooks, the
 * {@code n}-th time (default the first) it reaches that point.
 */
public final class CrashPoint {
    public static final String PROPERTY = "tributary.crash-at";
    public static final int EXIT_CODE = 137;

    /** Data files and raw files are written, no Iceberg commit of the micro-batch has happened yet. */
    public static final String FILES_WRITTEN = "lake.files-written";
    /** One layer of one table is committed; the others of the micro-batch are not. */
    public static final String TABLE_COMMITTED = "lake.table-committed";
    /** Every table of the micro-batch is committed; the watermark is not recorded yet. */
    public static final String TABLES_COMMITTED = "lake.tables-committed";
    /** The watermark is recorded; the source has not been acknowledged yet. */
    public static final String WATERMARK_RECORDED = "lake.watermark-recorded";
    /** A table's schema is evolved in the catalog; the micro-batch that needed it is not committed yet. */
    public static final String SCHEMA_EVOLVED = "lake.schema-evolved";

    private static final String POINT;
    private static final AtomicInteger REMAINING;

    static {
        String spec = System.getProperty(PROPERTY, "");
        int at = spec.indexOf('@');
        POINT = spec.isEmpty() ? null : at < 0 ? spec : spec.substring(0, at);
        REMAINING = new AtomicInteger(at < 0 ? 1 : Integer.parseInt(spec.substring(at + 1)));
    }

    private CrashPoint() {
    }

    /** Halts the process if this is the configured point and its count is reached; otherwise returns at once. */
    public static void reach(String point) {
        if (POINT != null && POINT.equals(point) && REMAINING.decrementAndGet() == 0) {
            System.err.println("Crash point " + point + " reached: halting");
            System.err.flush();
            Runtime.getRuntime().halt(EXIT_CODE);
        }
    }
}
