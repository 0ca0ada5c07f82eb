package io.tributary.config;

import static java.util.Objects.requireNonNull;

import io.tributary.spi.TableId;
import java.time.Duration;
import java.time.ZoneId;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The {@code source} section of a pipeline that ingests files (CSV, JSON lines, Parquet) dropped in
 * a landing folder into the lake, in scheduled batches: each table of {@code fileTables} is a glob
 * over the folder, each file it matches is read once into {@code bronze.<name>} and merged into
 * {@code silver.<name>} (upserted by {@code key}, or appended when there is none).
 *
 * <p>When the folder is looked at: by the cron {@code schedule}, evaluated in {@code timeZone}; or
 * every {@code every}; or, with neither, every {@link #DEFAULT_POLL}.
 *
 * @param path              the landing folder: an absolute, normalized local path (a relative one in
 *                          the configuration file is resolved against the file's directory), or an
 *                          {@code s3://bucket/prefix} URI without a trailing slash, reached with the
 *                          {@code lake.s3} settings
 * @param schedule          a five-field cron expression ({@link CronExpression}), or empty
 * @param every             the interval between looks at the folder, or empty; never with a schedule
 * @param timeZone          the zone in which {@code schedule} is read (UTC by default)
 * @param fileTables        the tables, in the order of the configuration file (which requires at
 *                          least one)
 * @param heartbeatInterval the longest a quiet folder goes without the lake recording its position
 * @param reconnect         how long to keep retrying while the folder cannot be read
 */
public record FilesSourceConfig(String path, Optional<String> schedule, Optional<Duration> every, ZoneId timeZone, List<FileTable> fileTables,
                                Duration heartbeatInterval, ReconnectConfig reconnect, RawFiles rawFiles) implements SourceConfig {
    /** {@code source.type} of this source. */
    public static final String TYPE = "files";
    /** Poll interval when neither schedule nor every is given. */
    public static final Duration DEFAULT_POLL = Duration.ofSeconds(30);

    /** {@code source.raw}: what the raw layer ({@code lake.raw: true}) keeps of each delivered file. */
    public enum RawFiles {
        /** One JSON line per delivery: path, location, size, modification time, SHA-256, sequence. */
        REFERENCE,
        /** The reference, and the file itself, byte for byte, as {@code raw/<table>/<date>/<commit key>-<file name>}. */
        COPY
    }

    /** With the raw layer keeping references ({@link RawFiles#REFERENCE}, the default). */
    public FilesSourceConfig(String path, Optional<String> schedule, Optional<Duration> every, ZoneId timeZone, List<FileTable> fileTables,
                             Duration heartbeatInterval, ReconnectConfig reconnect) {
        this(path, schedule, every, timeZone, fileTables, heartbeatInterval, reconnect, RawFiles.REFERENCE);
    }

    /**
     * @throws IllegalArgumentException when both {@code schedule} and {@code every} are given, the
     *         schedule is not a cron expression, {@code every} is not positive, or two tables
     *         have the same name
     */
    public FilesSourceConfig {
        requireNonNull(path, "path is null");
        requireNonNull(schedule, "schedule is null");
        requireNonNull(every, "every is null");
        requireNonNull(timeZone, "timeZone is null");
        fileTables = List.copyOf(requireNonNull(fileTables, "fileTables is null"));
        requireNonNull(heartbeatInterval, "heartbeatInterval is null");
        requireNonNull(reconnect, "reconnect is null");
        requireNonNull(rawFiles, "rawFiles is null");
        if (schedule.isPresent() && every.isPresent()) {
            throw new IllegalArgumentException("Give either a schedule or an interval, got schedule '" + schedule.get() + "' and every " + every.get());
        }
        schedule.ifPresent(CronExpression::parse);
        if (every.isPresent() && (every.get().isNegative() || every.get().isZero())) {
            throw new IllegalArgumentException("every must be positive, got " + every.get());
        }
        if (fileTables.stream().map(FileTable::name).distinct().count() != fileTables.size()) {
            throw new IllegalArgumentException("Table names must be unique, got " + fileTables.stream().map(FileTable::name).toList());
        }
    }

    /** How a table's files are written. */
    public enum Format { CSV, JSONL, PARQUET }

    /**
     * CSV reading options; defaults: delimiter ",", header true, quote "\"", nullMarker "", encoding
     * "UTF-8", dateFormat/timestampFormat empty (inferred).
     *
     * @param delimiter       one character between fields ({@code \t} for tab-separated files)
     * @param header          whether the first line names the columns (else they are
     *                        {@code column0}, {@code column1}, …)
     * @param quote           the one character that quotes a field
     * @param nullMarker      the text that reads as NULL ({@code csv.null})
     * @param encoding        the canonical name of a Java charset, e.g. {@code UTF-8}, {@code ISO-8859-1}
     * @param dateFormat      a strptime format of the date columns ({@code %d/%m/%Y}), or empty to infer it
     * @param timestampFormat a strptime format of the timestamp columns, or empty to infer it
     */
    public record Csv(String delimiter, boolean header, String quote, String nullMarker, String encoding, Optional<String> dateFormat,
                      Optional<String> timestampFormat) {
        public static final Csv DEFAULT = new Csv(",", true, "\"", "", "UTF-8", Optional.empty(), Optional.empty());

        /**
         * @throws IllegalArgumentException when the delimiter or the quote is not one character
         */
        public Csv {
            requireNonNull(delimiter, "delimiter is null");
            requireNonNull(quote, "quote is null");
            requireNonNull(nullMarker, "nullMarker is null");
            requireNonNull(encoding, "encoding is null");
            requireNonNull(dateFormat, "dateFormat is null");
            requireNonNull(timestampFormat, "timestampFormat is null");
            if (delimiter.length() != 1 || quote.length() != 1) {
                throw new IllegalArgumentException("Delimiter and quote must be one character each, got '" + delimiter + "' and '" + quote + "'");
            }
        }
    }

    /**
     * One table of the landing folder ({@code source.tables.<name>}).
     *
     * @param name           the lake name: {@code bronze.<name>}, {@code silver.<name>}, …
     * @param pattern        a glob relative to {@code path}, '/' separated: {@code *} matches within
     *                       one path segment, {@code **} across segments, {@code ?} one character
     * @param format         how the files are written
     * @param key            the columns identifying a row in silver; empty: silver is append-only
     * @param csv            how CSV files are read ({@link Csv#DEFAULT} for the other formats)
     * @param types          column name to a DuckDB type name in lower case ({@code decimal(12,2)},
     *                       {@code timestamp with time zone}), overriding the type inferred for the
     *                       column; in the configuration file's order
     * @param dateFromPath   the pattern with one {@code {date}} placeholder, e.g.
     *                       {@code orders/{date}/}: the part of a file's path in its place fills
     *                       {@code _source_date}; or empty
     * @param maxRejectRatio the share of a file's rows, in [0,1], that may be rejected (unreadable,
     *                       wrong type) before the whole file is refused; 0, the default, refuses a
     *                       file with any bad row
     */
    public record FileTable(String name, String pattern, Format format, List<String> key, Csv csv, Map<String, String> types,
                            Optional<String> dateFromPath, double maxRejectRatio) {
        /**
         * @throws IllegalArgumentException when maxRejectRatio is outside [0,1] or dateFromPath
         *         does not hold the {@code {date}} placeholder exactly once
         */
        public FileTable {
            requireNonNull(name, "name is null");
            requireNonNull(pattern, "pattern is null");
            requireNonNull(format, "format is null");
            key = List.copyOf(requireNonNull(key, "key is null"));
            requireNonNull(csv, "csv is null");
            types = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(types, "types is null")));
            requireNonNull(dateFromPath, "dateFromPath is null");
            if (!(maxRejectRatio >= 0 && maxRejectRatio <= 1)) {
                throw new IllegalArgumentException("maxRejectRatio must be between 0 and 1, got " + maxRejectRatio);
            }
            if (dateFromPath.isPresent() && placeholders(dateFromPath.get()) != 1) {
                throw new IllegalArgumentException("dateFromPath must hold " + DATE_PLACEHOLDER + " once, got '" + dateFromPath.get() + "'");
            }
        }
    }

    /** A {@link FileTable#pattern()} starting with this is a regular expression over the relative path, not a glob. */
    public static final String REGEX_PREFIX = "regex:";

    /** The placeholder of {@link FileTable#dateFromPath()}. */
    static final String DATE_PLACEHOLDER = "{date}";

    /** How many times {@code text} holds {@link #DATE_PLACEHOLDER}. */
    static int placeholders(String text) {
        return (text.length() - text.replace(DATE_PLACEHOLDER, "").length()) / DATE_PLACEHOLDER.length();
    }

    /**
     * The poll interval: every, else DEFAULT_POLL when schedule is empty (with a schedule, polls
     * follow the cron: {@link CronExpression#next}; this then returns {@link #DEFAULT_POLL}).
     */
    public Duration pollInterval() {
        return every.orElse(DEFAULT_POLL);
    }

    @Override
    public String type() {
        return TYPE;
    }

    /** The lake tables of {@code fileTables}, in their order, in the {@code public} namespace. */
    @Override
    public List<TableId> tables() {
        return fileTables.stream().map(table -> new TableId("public", table.name())).toList();
    }

    @Override
    public String describe() {
        return "files under " + path;
    }

    /** None: the landing folder is reached with the lake's storage settings. */
    @Override
    public Optional<Secret> secret() {
        return Optional.empty();
    }
}
