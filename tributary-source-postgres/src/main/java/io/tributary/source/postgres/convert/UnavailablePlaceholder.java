package io.tributary.source.postgres.convert;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Recognizes the values Debezium puts in place of an unchanged TOASTed column, derived from
 * {@code unavailable.value.placeholder} as Debezium 2.7's {@code UnchangedToastedPlaceholder} does:
 * the text itself, its UTF-8 bytes for bytea, one-element lists for text, bytea and uuid arrays,
 * the bytes as numbers for integer arrays, and a one-entry JSON object for hstore.
 */
public final class UnavailablePlaceholder {
    /** The placeholder text Tributary configures (Debezium's default). */
    public static final String TEXT = "__debezium_unavailable_value";

    private static final byte[] BYTES = TEXT.getBytes(StandardCharsets.UTF_8);
    private static final List<Object> LISTS;

    static {
        List<Integer> ints = new ArrayList<>();
        List<Long> longs = new ArrayList<>();
        for (byte b : BYTES) {
            ints.add((int) b);
            longs.add((long) b);
        }
        LISTS = List.of(List.of(TEXT), List.of(UUID.nameUUIDFromBytes(BYTES).toString()), ints, longs);
    }

    private UnavailablePlaceholder() {
    }

    /** Whether a Debezium column value is the placeholder of an unchanged TOASTed value. */
    public static boolean matches(Object value) {
        if (value instanceof String s) {
            return s.length() >= TEXT.length() && (s.equals(TEXT) || s.equals("{\"" + TEXT + "\":\"" + TEXT + "\"}"));
        }
        if (value instanceof byte[] b) {
            return Arrays.equals(b, BYTES);
        }
        if (value instanceof ByteBuffer b) {
            return b.remaining() == BYTES.length && b.duplicate().equals(ByteBuffer.wrap(BYTES));
        }
        if (value instanceof List<?> list && !list.isEmpty() && list.size() <= BYTES.length) {
            if (list.size() == 1 && (list.get(0) instanceof byte[] || list.get(0) instanceof ByteBuffer)) {
                return matches(list.get(0));
            }
            return LISTS.contains(list);
        }
        return false;
    }
}
