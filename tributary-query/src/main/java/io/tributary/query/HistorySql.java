package io.tributary.query;

import static io.tributary.query.QueryEngine.ident;
import static io.tributary.query.QueryEngine.literal;

import io.tributary.lake.layout.Layer;
import io.tributary.lake.scan.LakeTable;
import io.tributary.lake.scan.LakeTable.LakeColumn;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The SQL of history reads over an SCD2 table {@code silver.<t>_history}: every column of
 * {@code silver.<t>}, then {@code _valid_from} (commit time of the change that made the version),
 * {@code _valid_to} (of the change that ended it, null while open), {@code _is_current},
 * {@code _is_deleted} (tombstone), {@code _op}, {@code _position} (source order, breaks ties of
 * {@code _valid_from}), {@code _tx_id}. A row's state at instant T is its version with
 * {@code _valid_from <= T AND (_valid_to IS NULL OR _valid_to > T) AND NOT _is_deleted}; versions
 * of one key chain without gaps or overlaps, so there is at most one.
 */
final class HistorySql {
    static final String SUFFIX = "_history";
    static final String AS_OF_SUFFIX = "_as_of";
    /** The columns a history table adds to its silver table's. */
    static final Set<String> VERSION_COLUMNS = Set.of("_valid_from", "_valid_to", "_is_current", "_is_deleted", "_op", "_tx_id");
    private static final DateTimeFormatter MICROS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS").withZone(ZoneOffset.UTC);

    private HistorySql() {
    }

    /** Whether {@code table} is a history table: {@code silver.<t>_history} with the version columns (a source table may end in _history too). */
    static boolean isHistory(LakeTable table) {
        Set<String> names = table.columns().stream().map(LakeColumn::name).collect(Collectors.toSet());
        return table.layer() == Layer.SILVER && table.name().endsWith(SUFFIX) && table.name().length() > SUFFIX.length()
                && names.containsAll(VERSION_COLUMNS);
    }

    static String silverName(LakeTable history) {
        return history.name().substring(0, history.name().length() - SUFFIX.length());
    }

    /** {@code T} as a DuckDB TIMESTAMPTZ literal, truncated to microseconds (DuckDB's resolution). */
    static String instant(Instant t) {
        return "TIMESTAMPTZ " + literal(MICROS.format(t.truncatedTo(ChronoUnit.MICROS)) + "+00");
    }

    /**
     * The silver columns of a row version, read from history alias {@code h}: {@code silver}'s
     * columns in its order when it exists (a silver column the history lacks: {@code _commit_ts} is
     * the version's {@code _valid_from}, any other reads as null), else the history's columns but
     * the version columns.
     */
    static String silverProjection(LakeTable history, Optional<LakeTable> silver) {
        Set<String> present = history.columns().stream().map(LakeColumn::name).collect(Collectors.toSet());
        List<LakeColumn> columns = silver.map(LakeTable::columns)
                .orElseGet(() -> history.columns().stream().filter(c -> !VERSION_COLUMNS.contains(c.name())).toList());
        return columns.stream().map(c -> {
            if (present.contains(c.name())) {
                return "h." + ident(c.name());
            }
            String value = c.name().equals("_commit_ts") && present.contains("_valid_from") ? "h._valid_from" : "NULL";
            return "CAST(" + value + " AS " + DuckDbTypes.of(c.icebergType()) + ") AS " + ident(c.name());
        }).collect(Collectors.joining(", "));
    }

    /** Rows of {@code source} (a relation with history's columns) as they stood at {@code at} (a SQL expression). */
    static String asOf(String source, String projection, String at) {
        return "SELECT " + projection + " FROM " + source + " h WHERE h._valid_from <= " + at + " AND (h._valid_to IS NULL OR h._valid_to > " + at
                + ") AND NOT h._is_deleted";
    }

    /** {@code CREATE MACRO silver.<t>_as_of(ts)}: the silver columns as of {@code ts} (TIMESTAMPTZ, or text DuckDB casts to it). */
    static String asOfMacro(LakeTable history, String source, String projection) {
        return "CREATE OR REPLACE MACRO " + ident(Layer.SILVER.namespace()) + "." + ident(silverName(history) + AS_OF_SUFFIX) + "(__tributary_as_of) AS TABLE "
                + asOf(source, projection, "CAST(__tributary_as_of AS TIMESTAMPTZ)");
    }

    /**
     * The versions of {@code source} as known at {@code at}: those begun by then, with
     * {@code _valid_to} and {@code _is_current} as they were then (a version ended later was open).
     */
    static String versionsKnownAt(LakeTable history, String source, String at) {
        String columns = history.columns().stream().map(c -> switch (c.name()) {
            case "_valid_to" -> "CASE WHEN h._valid_to <= " + at + " THEN h._valid_to END AS _valid_to";
            case "_is_current" -> "(h._valid_to IS NULL OR h._valid_to > " + at + ") AND NOT h._is_deleted AS _is_current";
            default -> "h." + ident(c.name());
        }).collect(Collectors.joining(", "));
        return "SELECT " + columns + " FROM " + source + " h WHERE h._valid_from <= " + at;
    }

    /** A view with {@code table}'s columns that fails, when read, with {@code message}. */
    static String failing(LakeTable table, String message) {
        String nulls = table.columns().stream().map(c -> "CAST(NULL AS " + DuckDbTypes.of(c.icebergType()) + ") AS " + ident(c.name()))
                .collect(Collectors.joining(", "));
        return "SELECT " + nulls + " FROM range(1) WHERE error(" + literal(message) + ")";
    }
}
