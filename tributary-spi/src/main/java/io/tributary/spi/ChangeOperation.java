package io.tributary.spi;

/**
 * What a change event did to a row, with the one-letter codes of the Debezium envelope's {@code op}
 * field, which the lake stores in {@code _op} columns.
 */
public enum ChangeOperation {
    /** A row read by the initial snapshot. */
    READ("r"),
    /** A row inserted. */
    CREATE("c"),
    /** A row updated; a primary-key change is an update whose before and after keys differ. */
    UPDATE("u"),
    /** A row deleted. */
    DELETE("d"),
    /** Every row of the table removed by TRUNCATE. */
    TRUNCATE("t");

    private final String code;

    ChangeOperation(String code) {
        this.code = code;
    }

    public String code() {
        return code;
    }

    /**
     * @throws IllegalArgumentException when the code is not one of r, c, u, d, t
     */
    public static ChangeOperation fromCode(String code) {
        for (ChangeOperation op : values()) {
            if (op.code.equals(code)) {
                return op;
            }
        }
        throw new IllegalArgumentException("Unknown change operation code '" + code + "', expected one of r, c, u, d, t");
    }
}
