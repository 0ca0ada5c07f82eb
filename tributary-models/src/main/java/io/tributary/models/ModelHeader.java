package io.tributary.models;

import static java.util.Objects.requireNonNull;

import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a gold model is materialized, declared by {@code -- key: value} comment lines at the top of
 * its file, before the first line that is neither blank nor a {@code --} comment:
 *
 * <pre>
 * -- materialized: incremental
 * -- unique_key: customer_id
 * </pre>
 *
 * <ul>
 * <li>{@code materialized}: {@code table} (the default: every build replaces the table) or
 * {@code incremental} (a build upserts the rows the SELECT returns by {@code unique_key}).
 * <li>{@code unique_key}: one or more result columns, comma-separated, that identify a row of the
 * result; required by, and only allowed for, incremental models.
 * </ul>
 *
 * Keys are case-insensitive. Header comment lines that do not start with {@code word:} are free
 * text. The names follow dbt's model configuration ({@code materialized}, {@code unique_key}).
 *
 * @param uniqueKey columns as written in the header, in order; empty for a table model
 * @param uniqueKeyLine 1-based line of the {@code unique_key} entry in the file; 0 when absent
 */
public record ModelHeader(Materialization materialization, List<String> uniqueKey, int uniqueKeyLine) {
    /** A model without a header: rebuilt in full every time. */
    public static final ModelHeader TABLE = new ModelHeader(Materialization.TABLE, List.of(), 0);

    private static final Pattern ENTRY = Pattern.compile("--\\s*([A-Za-z][A-Za-z0-9_]*)\\s*:(.*)");
    private static final Pattern COLUMN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final List<String> KEYS = List.of("materialized", "unique_key");

    public enum Materialization {
        /** Each build replaces the whole table. */
        TABLE,
        /** Each build after the first upserts the SELECT's rows by the unique key. */
        INCREMENTAL
    }

    public ModelHeader {
        requireNonNull(materialization, "materialization is null");
        uniqueKey = List.copyOf(uniqueKey);
        if (materialization == Materialization.INCREMENTAL && uniqueKey.isEmpty()) {
            throw new IllegalArgumentException("An incremental model needs a unique key");
        }
        if (uniqueKeyLine < 0) {
            throw new IllegalArgumentException("Line must not be negative, got " + uniqueKeyLine);
        }
    }

    public boolean incremental() {
        return materialization == Materialization.INCREMENTAL;
    }

    /**
     * Reads the header of a model file's text.
     *
     * @throws TributaryException MODEL_ERROR naming the file and line of an unknown or repeated key,
     *     a bad value, an incremental model without {@code unique_key}, or a {@code unique_key} on a
     *     table model
     */
    public static ModelHeader parse(Path file, String text) {
        Materialization materialization = Materialization.TABLE;
        int materializedLine = 0;
        List<String> uniqueKey = List.of();
        int uniqueKeyLine = 0;
        String[] lines = text.split("\r?\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            int number = i + 1;
            if (line.isEmpty()) {
                continue;
            }
            if (!line.startsWith("--")) {
                break;
            }
            Matcher m = ENTRY.matcher(line);
            if (!m.matches()) {
                continue;
            }
            String key = m.group(1).toLowerCase(Locale.ROOT);
            String value = m.group(2).strip();
            switch (key) {
                case "materialized" -> {
                    if (materializedLine > 0) {
                        throw error(file, number, "'materialized' is already set on line " + materializedLine);
                    }
                    materializedLine = number;
                    materialization = switch (value.toLowerCase(Locale.ROOT)) {
                        case "table" -> Materialization.TABLE;
                        case "incremental" -> Materialization.INCREMENTAL;
                        default -> throw error(file, number, "materialized must be 'table' or 'incremental', got '" + value + "'");
                    };
                }
                case "unique_key" -> {
                    if (uniqueKeyLine > 0) {
                        throw error(file, number, "'unique_key' is already set on line " + uniqueKeyLine);
                    }
                    uniqueKeyLine = number;
                    uniqueKey = columns(file, number, value);
                }
                default -> throw error(file, number, "unknown header key '" + m.group(1) + "'; known keys are " + String.join(", ", KEYS)
                        + " (a free-text comment must not start with 'word:')");
            }
        }
        if (materialization == Materialization.INCREMENTAL && uniqueKey.isEmpty()) {
            throw error(file, materializedLine, "an incremental model needs '-- unique_key: <column>[, <column>...]' in its header");
        }
        if (materialization == Materialization.TABLE && !uniqueKey.isEmpty()) {
            throw error(file, uniqueKeyLine, "unique_key applies to incremental models only; add '-- materialized: incremental' or remove it");
        }
        return new ModelHeader(materialization, uniqueKey, uniqueKeyLine);
    }

    private static List<String> columns(Path file, int line, String value) {
        Set<String> seen = new LinkedHashSet<>();
        List<String> out = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            String column = part.strip();
            if (!COLUMN.matcher(column).matches()) {
                throw error(file, line, "unique_key must be column names separated by commas, got '" + value + "'");
            }
            if (!seen.add(column.toLowerCase(Locale.ROOT))) {
                throw error(file, line, "unique_key names column '" + column + "' twice");
            }
            out.add(column);
        }
        return out;
    }

    static TributaryException error(Path file, int line, String reason) {
        return new TributaryException(ErrorCode.MODEL_ERROR, "Cannot load model " + file + ":" + line + ": " + reason);
    }
}
