package io.tributary.spi;

/**
 * Every error Tributary reports, with a stable number and a kind that decides retries and the CLI
 * exit code (USER 3, EXTERNAL 4, INTERNAL 1).
 */
public enum ErrorCode {
    INTERNAL_ERROR(1, Kind.INTERNAL),
    INVALID_CONFIG(100, Kind.USER),
    INVALID_SQL(101, Kind.USER),
    TABLE_NOT_FOUND(102, Kind.USER),
    UNSUPPORTED_TYPE(103, Kind.USER),
    MISSING_SECRET(104, Kind.USER),
    NO_PRIMARY_KEY(105, Kind.USER),
    MODEL_ERROR(106, Kind.USER),
    /** A source column changed in a way the lake table cannot follow (e.g. text to integer, an unmapped rename). */
    INCOMPATIBLE_SCHEMA_CHANGE(107, Kind.USER),
    /** Another pipeline holds the lake or the replication slot (fencing token). */
    PIPELINE_FENCED(108, Kind.USER),
    /** An input file cannot be ingested: more rows that do not parse than its table allows ({@code max-reject-ratio}), or a file its reader refuses. */
    MALFORMED_INPUT(109, Kind.USER),
    SOURCE_UNREACHABLE(200, Kind.EXTERNAL),
    SOURCE_AUTHENTICATION_FAILED(201, Kind.EXTERNAL),
    SOURCE_MISCONFIGURED(202, Kind.EXTERNAL),
    SOURCE_FAILED(203, Kind.EXTERNAL),
    CONVERSION_FAILED(204, Kind.EXTERNAL),
    /** The replication slot no longer holds the WAL after the lake's position (dropped, recreated or invalidated). */
    SLOT_GAP(205, Kind.EXTERNAL),
    /** The source no longer holds changes after the lake's position: Kafka's retention removed records the lake has not read. */
    SOURCE_GAP(206, Kind.EXTERNAL),
    LAKE_IO_FAILED(300, Kind.EXTERNAL),
    LAKE_COMMIT_FAILED(301, Kind.EXTERNAL),
    /** The sink (Kafka) cannot be reached or refused a write, past its retries. */
    SINK_FAILED(400, Kind.EXTERNAL);

    private final int number;
    private final Kind kind;

    ErrorCode(int number, Kind kind) {
        this.number = number;
        this.kind = kind;
    }

    public int number() {
        return number;
    }

    public Kind kind() {
        return kind;
    }

    /** Who has to act: the user (fix config or SQL), an external system (retry, repair it), or us (a bug). */
    public enum Kind {
        USER(3), EXTERNAL(4), INTERNAL(1);

        private final int exitCode;

        Kind(int exitCode) {
            this.exitCode = exitCode;
        }

        /** The process exit code the CLI uses for errors of this kind. */
        public int exitCode() {
            return exitCode;
        }
    }
}
