package io.tributary.config;

import io.tributary.config.FilesSourceConfig.Csv;
import io.tributary.config.FilesSourceConfig.FileTable;
import io.tributary.config.FilesSourceConfig.Format;
import java.nio.charset.Charset;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/** Reads the {@code source} section of {@code source.type: files} into a {@link FilesSourceConfig}, reporting every problem. */
final class FilesSourceParser {
    /** A lake table name, as the lake's namespaces name tables. */
    private static final Pattern TABLE_NAME = Pattern.compile("[a-z_][a-z0-9_]{0,62}");
    /** The DuckDB type names {@code types} may give, after {@link #normalizedType}. */
    private static final Pattern DUCKDB_TYPE = Pattern.compile("boolean|tinyint|smallint|integer|int|bigint|hugeint|float|real|double|varchar|text"
            + "|string|date|time|timestamp|timestamptz|timestamp with time zone|json|blob");
    private static final Pattern DECIMAL = Pattern.compile("decimal\\((\\d{1,3}),(\\d{1,3})\\)");
    private static final String TYPES = "boolean, tinyint, smallint, integer, int, bigint, hugeint, float, real, double, decimal(p,s) with "
            + "1 <= p <= 38 and 0 <= s <= p, varchar, text, string, date, time, timestamp, timestamptz, timestamp with time zone, json or blob";
    private static final Pattern S3_LOCATION = Pattern.compile("s3a?://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?");

    private FilesSourceParser() {
    }

    /** The files source of {@code node}; relative local paths resolve against {@code base}. */
    static FilesSourceConfig parse(ConfigNode node, Path base) {
        String path = path(node, base);
        Optional<String> scheduleText = node.string("schedule").map(String::trim);
        Optional<String> schedule = scheduleText;
        if (schedule.isPresent()) {
            try {
                CronExpression.parse(schedule.get());
            } catch (IllegalArgumentException e) {
                node.problem("schedule", "expected a cron expression 'minute hour day-of-month month day-of-week' such as \"0 2 * * *\"; "
                        + e.getMessage());
                schedule = Optional.empty();
            }
        }
        Optional<Duration> every = node.duration("every");
        if (scheduleText.isPresent() && every.isPresent()) {
            // Both texts were read without a problem, so reading 'every' again reports nothing twice.
            node.problem("every", "give either schedule or every, not both; found schedule '" + scheduleText.get() + "' and every '"
                    + node.string("every").orElse("") + "'");
            every = Optional.empty();
        }
        ZoneId timeZone = timeZone(node);
        List<FileTable> tables = tables(node);
        Duration heartbeat = node.duration("heartbeat", ConfigLoader.DEFAULT_HEARTBEAT);
        ReconnectConfig reconnect = ConfigLoader.reconnect(node.object("reconnect"));
        FilesSourceConfig.RawFiles raw = node.enumValue("raw", FilesSourceConfig.RawFiles.class, FilesSourceConfig.RawFiles.REFERENCE);
        node.finish();
        return new FilesSourceConfig(path, schedule, every, timeZone, tables, heartbeat, reconnect, raw);
    }

    /** {@code source.path}: an absolute local path, or an {@code s3://} URI without a trailing slash; empty when missing or wrong. */
    private static String path(ConfigNode node, Path base) {
        Optional<String> given = node.string("path");
        if (!node.has("path")) {
            node.problem("path", "is required: the landing folder, a local directory or s3://bucket/prefix");
            return "";
        }
        if (given.isEmpty()) {
            // Given, yet absent: a reference left unresolved (loadLakeSettings), or a problem already reported.
            return "";
        }
        String path = given.get().trim();
        if (path.isEmpty()) {
            node.problem("path", "expected the landing folder, a local directory or s3://bucket/prefix; found ''");
            return "";
        }
        if (LakeConfig.isObjectStorage(path)) {
            if (!S3_LOCATION.matcher(path).matches()) {
                node.problem("path", "expected s3://<bucket>/<prefix> with a valid bucket name (lowercase letters, digits, '.', '-'); found '" + path + "'");
            }
            String s3 = path.startsWith("s3a://") ? "s3://" + path.substring("s3a://".length()) : path;
            return s3.replaceAll("/+$", "");
        }
        if (path.matches("[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
            node.problem("path", "expected a local directory or an s3://bucket/prefix location; found '" + path + "'");
            return "";
        }
        return base.resolve(path).toAbsolutePath().normalize().toString();
    }

    private static ZoneId timeZone(ConfigNode node) {
        Optional<String> text = node.string("time-zone");
        if (text.isEmpty()) {
            return ConfigLoader.DEFAULT_TIME_ZONE;
        }
        try {
            return ZoneId.of(text.get().trim());
        } catch (DateTimeException e) {
            node.problem("time-zone", "expected a time zone such as UTC, Europe/Lisbon or +01:00; found '" + text.get() + "'");
            return ConfigLoader.DEFAULT_TIME_ZONE;
        }
    }

    /** {@code source.tables}: each valid table, in the file's order. */
    private static List<FileTable> tables(ConfigNode node) {
        boolean mapping = node.isMapping("tables");
        ConfigNode tables = node.object("tables");
        if (!node.has("tables")) {
            node.problem("tables", "is required: a mapping of lake table names to their pattern and format, e.g. orders: {pattern: \"orders/*.csv\", "
                    + "format: csv}");
            return List.of();
        }
        List<String> names = tables.keys();
        if (mapping && names.isEmpty()) {
            node.problem("tables", "expected at least one table, found none");
        }
        List<FileTable> out = new ArrayList<>();
        for (String name : names) {
            boolean validName = TABLE_NAME.matcher(name).matches();
            if (!validName) {
                tables.problem(name, "expected a lake table name: lowercase letters, digits and '_', not starting with a digit, at most 63 "
                        + "characters; found '" + name + "'");
            }
            ConfigNode table = tables.object(name);
            if (!tables.isMapping(name)) {
                if (!tables.has(name)) {
                    tables.problem(name, "expected a mapping with the table's pattern and format; found nothing");
                }
                continue;
            }
            Optional<FileTable> parsed = table(table, name);
            if (validName) {
                parsed.ifPresent(out::add);
            }
        }
        tables.finish();
        return out;
    }

    /** One table; empty when its pattern or format is missing or wrong. */
    private static Optional<FileTable> table(ConfigNode node, String name) {
        Optional<String> pattern = pattern(node);
        Optional<Format> format = format(node);
        List<String> key = node.stringList("key");
        Set<String> keyColumns = new HashSet<>();
        for (int i = 0; i < key.size(); i++) {
            if (key.get(i).isBlank() || !keyColumns.add(key.get(i))) {
                node.problem("key[" + i + "]", "expected distinct column names; found '" + key.get(i) + "'");
            }
        }
        boolean hasCsv = node.has("csv");
        Csv csv = csv(node.object("csv"));
        if (hasCsv && format.isPresent() && format.get() != Format.CSV) {
            node.problem("csv", "applies to format csv only; this table's format is " + format.get().name().toLowerCase(Locale.ROOT));
        }
        Map<String, String> types = new LinkedHashMap<>();
        node.parenthesizedMap("types").forEach((column, type) -> {
            Optional<String> normalized = normalizedType(type);
            if (normalized.isEmpty()) {
                node.problem("types." + column, "expected a DuckDB type: " + TYPES + "; found '" + type + "'");
            } else {
                types.put(column, normalized.get());
            }
        });
        Optional<String> dateFromPath = node.string("date-from-path");
        if (dateFromPath.isPresent() && FilesSourceConfig.placeholders(dateFromPath.get()) != 1) {
            node.problem("date-from-path", "expected the pattern with " + FilesSourceConfig.DATE_PLACEHOLDER + " once where the date is, such as "
                    + "\"orders/{date}/\"; found '" + dateFromPath.get() + "'");
            dateFromPath = Optional.empty();
        }
        double maxRejectRatio = node.number("max-reject-ratio", 0.0, 0.0, 1.0);
        node.finish();
        if (pattern.isEmpty() || format.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new FileTable(name, pattern.get(), format.get(), key, format.get() == Format.CSV ? csv : Csv.DEFAULT, types, dateFromPath,
                maxRejectRatio));
    }

    private static Optional<String> pattern(ConfigNode node) {
        Optional<String> pattern = node.string("pattern").map(String::trim);
        if (!node.has("pattern")) {
            node.problem("pattern", "is required: a glob relative to source.path such as \"orders/*/orders_*.csv\"");
            return Optional.empty();
        }
        if (pattern.isEmpty()) {
            return Optional.empty();
        }
        String glob = pattern.get();
        if (glob.startsWith(FilesSourceConfig.REGEX_PREFIX)) {
            // A regular expression over the relative path ('/' separated), as Java's PathMatcher takes it.
            try {
                java.util.regex.Pattern.compile(glob.substring(FilesSourceConfig.REGEX_PREFIX.length()));
            } catch (PatternSyntaxException e) {
                node.problem("pattern", "not a valid regular expression: " + e.getDescription() + " at index " + e.getIndex() + " of '" + glob + "'");
                return Optional.empty();
            }
            return pattern;
        }
        if (glob.isEmpty() || glob.startsWith("/") || glob.equals("..") || glob.startsWith("../") || glob.contains("/../") || glob.endsWith("/..")) {
            node.problem("pattern", "expected a glob relative to source.path ('*' within a folder, '**' across folders, '?' one character), "
                    + "without '..'; found '" + glob + "'");
            return Optional.empty();
        }
        try {
            FileSystems.getDefault().getPathMatcher("glob:" + glob);
        } catch (PatternSyntaxException e) {
            node.problem("pattern", "not a valid glob: " + e.getDescription() + " at index " + e.getIndex() + " of '" + glob + "'");
            return Optional.empty();
        }
        return pattern;
    }

    private static Optional<Format> format(ConfigNode node) {
        Optional<String> text = node.string("format");
        if (!node.has("format")) {
            node.problem("format", "is required: csv, jsonl or parquet");
            return Optional.empty();
        }
        if (text.isEmpty()) {
            return Optional.empty();
        }
        return switch (text.get().trim().toLowerCase(Locale.ROOT)) {
            case "csv" -> Optional.of(Format.CSV);
            case "jsonl" -> Optional.of(Format.JSONL);
            case "parquet" -> Optional.of(Format.PARQUET);
            default -> {
                node.problem("format", "expected csv, jsonl or parquet; found '" + text.get() + "'");
                yield Optional.empty();
            }
        };
    }

    private static Csv csv(ConfigNode node) {
        Csv d = Csv.DEFAULT;
        String delimiter = oneCharacter(node, "delimiter", d.delimiter());
        boolean header = node.bool("header", d.header());
        String quote = oneCharacter(node, "quote", d.quote());
        if (quote.equals(delimiter)) {
            node.problem(node.has("quote") ? "quote" : "delimiter", "expected a delimiter and a quote that differ; found '" + quote + "' for both");
        }
        String nullMarker = node.string("null").orElse(d.nullMarker());
        String encoding = d.encoding();
        Optional<String> encodingText = node.string("encoding");
        if (encodingText.isPresent()) {
            try {
                encoding = Charset.forName(encodingText.get().trim()).name();
            } catch (IllegalArgumentException e) {
                node.problem("encoding", "expected the name of a character set Java knows, such as UTF-8, ISO-8859-1 or windows-1252; found '"
                        + encodingText.get() + "'");
            }
        }
        Optional<String> dateFormat = node.string("date-format").filter(f -> !f.isBlank());
        Optional<String> timestampFormat = node.string("timestamp-format").filter(f -> !f.isBlank());
        node.finish();
        return new Csv(delimiter, header, quote, nullMarker, encoding, dateFormat, timestampFormat);
    }

    /** A one-character setting; {@code \t} (backslash, t) is a tab, as YAML's unquoted or single-quoted text leaves it. */
    private static String oneCharacter(ConfigNode node, String key, String defaultValue) {
        Optional<String> text = node.string(key);
        if (text.isEmpty()) {
            return defaultValue;
        }
        String value = text.get().equals("\\t") ? "\t" : text.get();
        if (value.length() != 1) {
            node.problem(key, "expected one character" + (key.equals("delimiter") ? " (\\t for a tab)" : "") + "; found '" + text.get() + "'");
            return defaultValue;
        }
        return value;
    }

    /** {@code type} in lower case with single spaces and none inside {@code decimal(p,s)}, if DuckDB has it. */
    private static Optional<String> normalizedType(String type) {
        String normalized = type.trim().toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").replaceAll(" ?([(),]) ?", "$1");
        if (DUCKDB_TYPE.matcher(normalized).matches()) {
            return Optional.of(normalized);
        }
        Matcher decimal = DECIMAL.matcher(normalized);
        if (decimal.matches()) {
            int precision = Integer.parseInt(decimal.group(1));
            int scale = Integer.parseInt(decimal.group(2));
            if (precision >= 1 && precision <= 38 && scale <= precision) {
                return Optional.of(normalized);
            }
        }
        return Optional.empty();
    }
}
