package io.tributary.query;

import java.util.Locale;

/** Iceberg type names (as {@code Type.toString()} prints them) to DuckDB types. */
final class DuckDbTypes {
    private DuckDbTypes() {
    }

    static String of(String icebergType) {
        String t = icebergType.trim().toLowerCase(Locale.ROOT);
        if (t.startsWith("decimal(")) {
            return t.replace(" ", "").toUpperCase(Locale.ROOT);
        }
        if (t.startsWith("list<")) {
            return of(t.substring(5, t.length() - 1)) + "[]";
        }
        return switch (t) {
            case "boolean" -> "BOOLEAN";
            case "int" -> "INTEGER";
            case "long" -> "BIGINT";
            case "float" -> "FLOAT";
            case "double" -> "DOUBLE";
            case "string" -> "VARCHAR";
            case "binary" -> "BLOB";
            case "date" -> "DATE";
            case "time" -> "TIME";
            case "timestamp" -> "TIMESTAMP";
            case "timestamptz" -> "TIMESTAMPTZ";
            case "uuid" -> "UUID";
            default -> t.startsWith("fixed") ? "BLOB" : "VARCHAR";
        };
    }
}
