package io.tributary.spi;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * A change event as the source delivered it (for PostgreSQL, the Debezium JSON envelope), rendered
 * on demand: the raw layer streams it straight into its compressed file, on the commit thread
 * rather than the capture thread. Implementations must be thread-safe and write UTF-8 JSON without
 * a trailing newline.
 */
@FunctionalInterface
public interface RawRecord {
    /**
     * Writes the event to {@code out}; does not close or flush it.
     *
     * @throws IOException when {@code out} fails
     */
    void writeTo(OutputStream out) throws IOException;

    /** The rendered event as a string, for tests and diagnostics. */
    default String asString() {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try {
            writeTo(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toString(StandardCharsets.UTF_8);
    }
}
