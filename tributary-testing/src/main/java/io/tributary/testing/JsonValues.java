package io.tributary.testing;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads the JSON that {@link TestingSpark}'s child prints: strings, null and arrays of those, the
 * whole grammar it uses (numbers and objects never occur). Kept here so the fixture module needs no
 * JSON library.
 */
final class JsonValues {
    private final String text;
    private int at;

    private JsonValues(String text) {
        this.text = text;
    }

    /** A {@code String}, null, or a {@code List} of such values. */
    static Object parse(String text) {
        JsonValues p = new JsonValues(text);
        Object value = p.value();
        p.skipSpaces();
        if (p.at != text.length()) {
            throw p.error("end of input");
        }
        return value;
    }

    private Object value() {
        skipSpaces();
        if (text.startsWith("null", at)) {
            at += 4;
            return null;
        }
        if (at < text.length() && text.charAt(at) == '"') {
            return string();
        }
        if (at < text.length() && text.charAt(at) == '[') {
            at++;
            List<Object> values = new ArrayList<>();
            skipSpaces();
            if (at < text.length() && text.charAt(at) == ']') {
                at++;
                return values;
            }
            while (true) {
                values.add(value());
                skipSpaces();
                char c = at < text.length() ? text.charAt(at) : 0;
                at++;
                if (c == ']') {
                    return values;
                }
                if (c != ',') {
                    throw error("',' or ']'");
                }
            }
        }
        throw error("a string, null or an array");
    }

    private String string() {
        StringBuilder b = new StringBuilder();
        at++;
        while (at < text.length()) {
            char c = text.charAt(at++);
            if (c == '"') {
                return b.toString();
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = text.charAt(at++);
            switch (e) {
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'u' -> {
                    b.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                    at += 4;
                }
                default -> b.append(e);
            }
        }
        throw error("the end of a string");
    }

    private void skipSpaces() {
        while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
            at++;
        }
    }

    private IllegalArgumentException error(String expected) {
        return new IllegalArgumentException("Expected " + expected + " at " + at + " of " + text);
    }
}
