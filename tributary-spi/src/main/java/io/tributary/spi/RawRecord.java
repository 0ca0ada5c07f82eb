package io.tributary.spi;

import static java.util.Objects.requireNonNull;

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

    /**
     * Writes the event with its schema, as Kafka Connect's {@code JsonConverter} does with
     * {@code schemas.enable=true}: {@code {"schema": …, "payload": …}}, the payload as
     * {@link #writeTo}. Sources whose events have no Connect schema do not support it.
     *
     * @throws IOException when {@code out} fails
     * @throws UnsupportedOperationException when the source has no schema to write
     */
    default void writeWithSchemaTo(OutputStream out) throws IOException {
        throw new UnsupportedOperationException("This source's events carry no schema");
    }

    /**
     * The event's key as the source keys it (for Debezium, the key struct of the table's primary
     * key or replica identity columns) as UTF-8 JSON, with its schema as {@link #writeWithSchemaTo}
     * or without; empty for an event without a key (a truncate, a table without a key).
     */
    default java.util.Optional<byte[]> key(boolean withSchema) {
        return java.util.Optional.empty();
    }

    /**
     * A file the raw layer keeps beside this record's line (a files source's copy of the file it
     * ingested): stored as {@code name} in the table's folder of the event's day, its bytes as
     * {@code content} writes them, unchanged. Names are unique per delivery; a replay writes the
     * same file again.
     */
    record Attachment(String name, RawRecord content) {
        public Attachment {
            requireNonNull(name, "name is null");
            requireNonNull(content, "content is null");
        }
    }

    /** The file to keep beside this record's line, if any (none by default). */
    default java.util.Optional<Attachment> attachment() {
        return java.util.Optional.empty();
    }

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
