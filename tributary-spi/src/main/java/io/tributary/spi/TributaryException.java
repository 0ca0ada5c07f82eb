package io.tributary.spi;

import static java.util.Objects.requireNonNull;

/**
 * The one exception type Tributary throws. Messages read "Cannot &lt;action&gt; &lt;object&gt;:
 * &lt;reason&gt;", name the table, LSN or snapshot involved, and never a row value or a secret.
 */
public class TributaryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final ErrorCode errorCode;

    public TributaryException(ErrorCode errorCode, String message) {
        this(errorCode, message, null);
    }

    public TributaryException(ErrorCode errorCode, String message, Throwable cause) {
        super(requireNonNull(message, "message is null"), cause);
        this.errorCode = requireNonNull(errorCode, "errorCode is null");
    }

    public ErrorCode errorCode() {
        return errorCode;
    }
}
