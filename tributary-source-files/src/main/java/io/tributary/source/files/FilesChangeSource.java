package io.tributary.source.files;

import io.tributary.config.CronExpression;
import io.tributary.config.FilesSourceConfig;
import io.tributary.config.FilesSourceConfig.FileTable;
import io.tributary.source.files.IngestedFiles.ColumnSpec;
import io.tributary.spi.ChangeBatch;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeHandler;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.SourceSession;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code source.type: files}: ingests the files of a landing folder, each once, table by table in
 * path order. Every delivery of a file is one unit of the source's order: its rows get the position
 * {@code F<sequence>-<row>} (the sequence counts deliveries, so a file re-delivered with new content
 * sorts after everything before it), CREATE operations (an upsert by key in silver), the file's
 * date as commit timestamp (from {@code date-from-path}, else its modification time), and the
 * columns {@code _source_file}, {@code _source_row} (the data row's ordinal, from 1) and, with
 * {@code date-from-path}, {@code _source_date} (a table's key may name these: {@code [_source_file,
 * _source_row]} makes a re-delivered file replace its rows row by row). Rows that do not parse go to the table
 * {@code <table>_rejects} with their file, line, text and reason; a file whose share of rejects is
 * above {@code max-reject-ratio} (rows that do not parse, and rows with a null key column) stops
 * the run ({@link ErrorCode#MALFORMED_INPUT}, exit 3) before any of its rows is delivered.
 *
 * <p>What was ingested is the source's offset ({@link IngestedFiles}), committed with the rows: a
 * crash mid-file leaves the file out of the ledger, the restart reads it again under the same
 * sequence, and the lake skips the rows it already holds. A file is read only once its size and
 * modification time stayed the same across two listings {@link #SETTLE} apart (a file still being
 * written waits for the next poll).
 */
final class FilesChangeSource implements ChangeSource {
    private static final Logger LOG = LoggerFactory.getLogger(FilesChangeSource.class);
    /** How long a file's size and modification time must stay unchanged before it is read. */
    static final Duration SETTLE = Duration.ofSeconds(1);
    /** The commit key's prefix: a letter, so file positions sort after PostgreSQL's and never look like them. */
    private static final String KEY_PREFIX = "F";
    static final String REJECTS_SUFFIX = "_rejects";

    private final FilesSourceConfig settings;
    private final SourceSession session;
    private final Clock clock;
    private final Landing landing;
    private final Optional<CronExpression> schedule;
    private final Object wake = new Object();
    private volatile boolean closed;

    private IngestedFiles ledger;
    private final List<ChangeEvent> pending = new ArrayList<>();
    private SourcePosition through;
    private SourcePosition consistent;

    FilesChangeSource(FilesSourceConfig settings, SourceSession session, Clock clock) {
        this.settings = settings;
        this.session = session;
        this.clock = clock;
        this.landing = new Landing(settings, session.objectStore());
        this.schedule = settings.schedule().map(CronExpression::parse);
        this.ledger = IngestedFiles.decode(session.resumeOffset(), sequenceOf(session.committed()));
        this.through = session.committed();
        this.consistent = session.committed();
    }

    /** The delivery sequence of a position this source wrote; 0 for any other (the lake's beginning). */
    static long sequenceOf(SourcePosition position) {
        String key = position.commitKey();
        if (key.length() == 17 && key.startsWith(KEY_PREFIX)) {
            return new SourcePosition(key.substring(1), 0).sequence().orElse(0);
        }
        return 0;
    }

    /** The commit key of delivery {@code sequence}. */
    static String commitKey(long sequence) {
        return KEY_PREFIX + SourcePosition.sequenceKey(sequence);
    }

    @Override
    public void run(ChangeHandler handler, RunMode mode) {
        LOG.info("Ingesting files under {} for {} table(s); {}", landing.root(), settings.fileTables().size(), ledger);
        try (FileReader reader = new FileReader()) {
            Instant nextPoll = clock.instant();
            while (!closed) {
                if (mode == RunMode.CONTINUOUS && schedule.isPresent() && clock.instant().isBefore(nextPoll)) {
                    // A scheduled source: the first poll waits for the schedule too.
                    waitUntil(nextPoll);
                    continue;
                }
                poll(handler, reader);
                if (mode == RunMode.CATCH_UP || closed) {
                    break;
                }
                nextPoll = nextPoll(clock.instant());
                LOG.debug("Next poll of {} at {}", landing.root(), nextPoll);
                waitUntil(nextPoll);
            }
        }
        if (!closed) {
            handler.drain();
        }
    }

    /** When the source polls next after {@code now}: the schedule's next minute in its time zone, or now plus the interval. */
    Instant nextPoll(Instant now) {
        if (schedule.isPresent()) {
            return schedule.get().next(ZonedDateTime.ofInstant(now, settings.timeZone())).toInstant();
        }
        return now.plus(settings.pollInterval());
    }

    private void waitUntil(Instant when) {
        synchronized (wake) {
            while (!closed) {
                long ms = Duration.between(clock.instant(), when).toMillis();
                if (ms <= 0) {
                    return;
                }
                try {
                    wake.wait(ms);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    closed = true;
                }
            }
        }
    }

    /** Lists every table's files and ingests the new and changed ones that have settled. */
    private void poll(ChangeHandler handler, FileReader reader) {
        List<List<Landing.Listed>> first = new ArrayList<>();
        boolean any = false;
        for (FileTable table : settings.fileTables()) {
            List<Landing.Listed> changed = new ArrayList<>(Landing.changed(landing.list(table.pattern()), ledger.files(table.name())));
            // A delivery a previous run was cut short in goes first, so it keeps its sequence.
            ledger.inProgress().filter(p -> p.table().equals(table.name())).ifPresent(p ->
                    changed.sort(java.util.Comparator.comparing((Landing.Listed f) -> !f.path().equals(p.path()))));
            first.add(changed);
            any |= !changed.isEmpty();
        }
        if (!any) {
            return;
        }
        waitUntil(clock.instant().plus(SETTLE));
        List<Integer> order = new ArrayList<>();
        for (int t = 0; t < settings.fileTables().size(); t++) {
            order.add(t);
        }
        // The table of a delivery a previous run was cut short in goes first, so the delivery keeps its sequence.
        ledger.inProgress().ifPresent(p -> order.sort(java.util.Comparator.comparing((Integer t) -> !settings.fileTables().get(t).name().equals(p.table()))));
        for (int t : order) {
            if (closed) {
                return;
            }
            FileTable table = settings.fileTables().get(t);
            java.util.Map<String, Landing.Listed> again = new java.util.HashMap<>();
            landing.list(table.pattern()).forEach(f -> again.put(f.path(), f));
            for (Landing.Listed file : first.get(t)) {
                if (closed) {
                    return;
                }
                if (!file.equals(again.get(file.path()))) {
                    LOG.info("{} is still changing (or went away): left for the next poll", landing.describe(file.path()));
                    continue;
                }
                ingest(handler, reader, table, file);
            }
        }
    }

    private void ingest(ChangeHandler handler, FileReader reader, FileTable table, Landing.Listed file) {
        try (Landing.Local local = landing.fetch(file)) {
            try {
                ingest(handler, reader, table, file, local.path());
            } catch (TributaryException e) {
                if (local.temporary() == null) {
                    throw e;
                }
                // Name the object, not its temporary copy.
                throw new TributaryException(e.errorCode(), e.getMessage().replace(local.path().toString(), landing.describe(file.path())), e);
            }
        }
    }

    private void ingest(ChangeHandler handler, FileReader reader, FileTable table, Landing.Listed file, java.nio.file.Path path) {
        long started = System.nanoTime();
        String sha256 = Landing.sha256(path);
        Optional<IngestedFiles.Ingested> before = ledger.file(table.name(), file.path());
        if (before.isPresent() && before.get().sha256().equals(sha256) && before.get().size() == file.size()) {
            // Touched or copied again with the same content: nothing new to land.
            ledger.touched(table.name(), file.path(), file.modifiedMillis());
            LOG.info("{}: same content as ingested before (sequence {}); not read again", landing.describe(file.path()), before.get().sequence());
            return;
        }
        long sequence = ledger.begin(table.name(), file.path(), sha256);
        // An empty file (no header either) has no rows: DuckDB's readers refuse it, so it is not read.
        boolean empty = file.size() == 0;
        FileReader.Sniffed sniffed = empty ? null : reader.sniff(path, table);
        List<ColumnSpec> columns = empty ? ledger.columns(table.name()) : FileReader.columns(sniffed, table, ledger.columns(table.name()));
        FileReader.Scan scan = empty ? new FileReader.Scan(0, 0, List.of()) : reader.check(sniffed, table, columns);
        long total = scan.rows() + scan.rejects().size();
        long rejected = scan.rejects().size() + scan.nullKeys();
        double ratio = total == 0 ? 0 : (double) rejected / total;
        if (ratio > table.maxRejectRatio()) {
            throw new TributaryException(ErrorCode.MALFORMED_INPUT, String.format(java.util.Locale.ROOT,
                    "%s: %d of %d rows cannot be ingested into table %s (%.2f%%, above max-reject-ratio %s)%s. Fix the file (or raise "
                            + "source.tables.%s.max-reject-ratio) and run again: nothing of it was ingested",
                    path, rejected, total, table.name(), 100 * ratio, table.maxRejectRatio(),
                    scan.rejects().isEmpty() ? "; " + scan.nullKeys() + " have a null key column " + table.key() : "; first: " + describe(scan.rejects().get(0)),
                    table.name()));
        }
        Optional<LocalDate> date = dateFromPath(table, file.path());
        TableSchema schema = schema(table, columns, date.isPresent());
        Instant commitTs = date.map(d -> d.atStartOfDay(settings.timeZone()).toInstant()).orElse(Instant.ofEpochMilli(file.modifiedMillis()));
        String key = commitKey(sequence);
        SourceOffset midFile = ledger.encode(new IngestedFiles.InProgress(table.name(), file.path(), sha256, sequence));
        int[] keyIndexes = schema.keyIndexes();
        io.tributary.spi.RawRecord reference = rawReference(table, file, sha256, sequence);
        long[] rows = {0};
        long[] ingestedRows = {0};
        List<FileReader.Reject> rejects = new ArrayList<>(scan.rejects());
        FileReader.RowSink sink = values -> {
            long row = ++rows[0];
            Object[] full = new Object[schema.columns().size()];
            System.arraycopy(values, 0, full, 0, values.length);
            full[values.length] = file.path();
            full[values.length + 1] = row;
            if (date.isPresent()) {
                full[values.length + 2] = date.get();
            }
            for (int k : keyIndexes) {
                if (full[k] == null) {
                    rejects.add(new FileReader.Reject(-1, null, "data row " + row + ": key column " + schema.columns().get(k).name() + " is null"));
                    return;
                }
            }
            ingestedRows[0]++;
            // The raw layer holds a reference to each delivery (on its first row), not a copy of the file.
            io.tributary.spi.RawRecord raw = ingestedRows[0] == 1 && session.keepRawEvents() ? reference : null;
            add(handler, new ChangeEvent(ChangeOperation.CREATE, schema, null, Row.of(full), new SourcePosition(key, row), sequence, commitTs, raw), midFile);
        };
        if (!empty) {
            reader.read(sniffed, table, columns, sink);
        }
        long index = rows[0];
        if (before.isPresent() && lineageKeyed(table) && before.get().rows() > rows[0]) {
            // A shorter re-delivery: the rows past its end are gone from the file, so from silver.
            for (long gone = rows[0] + 1; gone <= before.get().rows(); gone++) {
                Object[] image = new Object[schema.columns().size()];
                image[columns.size()] = file.path();
                image[columns.size() + 1] = gone;
                if (date.isPresent()) {
                    image[columns.size() + 2] = date.get();
                }
                add(handler, new ChangeEvent(ChangeOperation.DELETE, schema, Row.of(image), null, new SourcePosition(key, ++index), sequence, commitTs, null), midFile);
            }
        }
        if (!rejects.isEmpty()) {
            TableSchema rejectSchema = rejectsSchema(table);
            for (FileReader.Reject r : rejects) {
                add(handler, new ChangeEvent(ChangeOperation.CREATE, rejectSchema, null, Row.of(file.path(), r.line() < 0 ? null : r.line(), r.text(), r.reason()),
                        new SourcePosition(key, ++index), sequence, commitTs, null), midFile);
            }
            LOG.warn("{}: {} row(s) cannot be ingested; kept in {}{} with their line and reason", landing.describe(file.path()), rejects.size(), table.name(), REJECTS_SUFFIX);
        }
        ledger.columns(table.name(), columns);
        ledger.ingested(table.name(), file.path(), new IngestedFiles.Ingested(file.size(), file.modifiedMillis(), sha256, sequence, ingestedRows[0], rejects.size()));
        SourcePosition end = new SourcePosition(key, index);
        if (end.isAfter(through)) {
            through = end;
        }
        consistent = through;
        flush(handler, ledger.encode());
        LOG.info("Ingested {} into {}: {} row(s){} in {} ms (sequence {}{})", landing.describe(file.path()), table.name(), ingestedRows[0],
                rejects.isEmpty() ? "" : ", " + rejects.size() + " rejected", (System.nanoTime() - started) / 1_000_000, sequence,
                before.isPresent() ? ", a new delivery of a file ingested as sequence " + before.get().sequence() : "");
    }

    /** The raw layer's line for a delivery: where the file was, what it held (size, checksum) and the sequence its rows carry. */
    private io.tributary.spi.RawRecord rawReference(FileTable table, Landing.Listed file, String sha256, long sequence) {
        com.fasterxml.jackson.databind.node.ObjectNode json = JSON.createObjectNode();
        json.put("source", "files");
        json.put("table", table.name());
        json.put("file", file.path());
        json.put("location", landing.describe(file.path()));
        json.put("size", file.size());
        json.put("modified", Instant.ofEpochMilli(file.modifiedMillis()).toString());
        json.put("sha256", sha256);
        json.put("sequence", sequence);
        byte[] bytes = json.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (settings.rawFiles() == FilesSourceConfig.RawFiles.REFERENCE) {
            return out -> out.write(bytes);
        }
        // source.raw: copy: the file itself beside the reference, read again from the landing folder
        // or prefix when the raw layer writes it (on the commit thread, before the lake commit).
        io.tributary.spi.RawRecord.Attachment copy = new io.tributary.spi.RawRecord.Attachment(
                commitKey(sequence) + "-" + java.nio.file.Path.of(file.path()).getFileName(), out -> {
                    try (java.io.InputStream in = landing.open(file)) {
                        in.transferTo(out);
                    }
                });
        return new io.tributary.spi.RawRecord() {
            @Override
            public void writeTo(java.io.OutputStream out) throws java.io.IOException {
                out.write(bytes);
            }

            @Override
            public Optional<Attachment> attachment() {
                return Optional.of(copy);
            }
        };
    }

    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    private static String describe(FileReader.Reject r) {
        return (r.line() < 0 ? "" : "line " + r.line() + ": ") + r.reason();
    }

    /** Buffers an event; hands a full batch over, which (mid-file) carries the ledger as it was before the file. */
    private void add(ChangeHandler handler, ChangeEvent event, SourceOffset offsetBefore) {
        pending.add(event);
        through = event.position();
        if (pending.size() >= session.maxBatchEvents()) {
            flush(handler, offsetBefore);
        }
    }

    private void flush(ChangeHandler handler, SourceOffset offset) {
        List<ChangeEvent> events = List.copyOf(pending);
        pending.clear();
        // A delivery read again after a crash starts before the lake's committed position (the lake
        // skips those rows): the batch is then consistent only as far as it reaches.
        handler.accept(new ChangeBatch(events, through, offset, List.of(), List.of(), consistent.isAfter(through) ? through : consistent));
    }

    /** The date {@code date-from-path} finds in a file's relative path. */
    static Optional<LocalDate> dateFromPath(FileTable table, String relative) {
        if (table.dateFromPath().isEmpty()) {
            return Optional.empty();
        }
        String pattern = table.dateFromPath().get();
        int at = pattern.indexOf("{date}");
        Pattern regex = Pattern.compile(Pattern.quote(pattern.substring(0, at)) + "(\\d{4}-\\d{2}-\\d{2})" + Pattern.quote(pattern.substring(at + "{date}".length())));
        Matcher m = regex.matcher(relative);
        if (!m.find()) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "source.tables." + table.name() + ".date-from-path '" + pattern + "' finds no date (yyyy-mm-dd) in " + relative);
        }
        try {
            return Optional.of(LocalDate.parse(m.group(1)));
        } catch (java.time.format.DateTimeParseException e) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "source.tables." + table.name() + ".date-from-path: " + m.group(1) + " in " + relative + " is not a date");
        }
    }

    /** The key of a table without {@code key}: a row is identified by its file and its ordinal there. */
    static final List<String> LINEAGE_KEY = List.of("_source_file", "_source_row");

    /** Whether the table's rows are keyed by their file and ordinal ({@code key} absent, or that key given). */
    static boolean lineageKeyed(FileTable table) {
        return table.key().isEmpty() || table.key().equals(LINEAGE_KEY);
    }

    /**
     * The table as the lake sees it: the file's columns, then {@code _source_file}, {@code _source_row}
     * and, with a date from the path, {@code _source_date}; keyed by {@code key}, else by
     * {@link #LINEAGE_KEY} (silver then holds every row of every file, and a re-delivered file
     * replaces its rows).
     */
    static TableSchema schema(FileTable table, List<ColumnSpec> columns, boolean withDate) {
        List<Column> out = new ArrayList<>();
        for (ColumnSpec c : columns) {
            ColumnType type = DuckTypes.columnType(c.type());
            out.add(table.key().contains(c.name()) ? Column.required(c.name(), type, c.type()) : Column.nullable(c.name(), type, c.type()));
        }
        out.add(Column.required("_source_file", ColumnType.Primitive.STRING, "file path"));
        out.add(Column.required("_source_row", ColumnType.Primitive.INT64, "row ordinal"));
        if (withDate) {
            out.add(Column.required("_source_date", ColumnType.Primitive.DATE, "date from path"));
        }
        for (String key : table.key().isEmpty() ? LINEAGE_KEY : table.key()) {
            if (out.stream().noneMatch(c -> c.name().equals(key))) {
                throw new TributaryException(ErrorCode.INVALID_CONFIG, "source.tables." + table.name() + ".key: column " + key + " is not in the files; they have "
                        + columns.stream().map(ColumnSpec::name).toList() + " (and " + out.subList(columns.size(), out.size()).stream().map(Column::name).toList() + ")");
            }
        }
        return new TableSchema(new TableId("public", table.name()), out, table.key().isEmpty() ? LINEAGE_KEY : table.key());
    }

    /** {@code <table>_rejects}: the rows of the table's files that did not parse. */
    static TableSchema rejectsSchema(FileTable table) {
        return new TableSchema(new TableId("public", table.name() + REJECTS_SUFFIX), List.of(
                Column.required("_source_file", ColumnType.Primitive.STRING, "file path"),
                Column.nullable("line", ColumnType.Primitive.INT64, "line number"),
                Column.nullable("raw", ColumnType.Primitive.STRING, "line text"),
                Column.required("reason", ColumnType.Primitive.STRING, "error")), List.of());
    }

    @Override
    public void close() {
        closed = true;
        synchronized (wake) {
            wake.notifyAll();
        }
    }
}
