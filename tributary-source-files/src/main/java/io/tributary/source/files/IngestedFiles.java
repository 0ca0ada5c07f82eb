package io.tributary.source.files;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.TributaryException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a files source has ingested, per table: every file (relative path, size, modification time,
 * SHA-256 of its content, the ingestion sequence number its rows carry, rows and rejects) and the
 * columns the table was given by its first file. It travels as the source's {@link SourceOffset},
 * so the lake records it in the same Iceberg commit as the rows: never a side file, never ahead of
 * the lake. Mutable, one thread.
 */
final class IngestedFiles {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int VERSION = 1;

    /** One ingested delivery of a file. {@code modifiedMillis}: the file's modification time, ms since the epoch. */
    record Ingested(long size, long modifiedMillis, String sha256, long sequence, long rows, long rejects) {
    }

    /** A column as the table holds it: the name in the file and its DuckDB type (one of {@link DuckTypes#SUPPORTED}). */
    record ColumnSpec(String name, String type) {
    }

    /** A file whose rows were being delivered when the offset was taken (a batch ended mid-file). */
    record InProgress(String table, String path, String sha256, long sequence) {
    }

    private long nextSequence;
    private InProgress inProgress;
    private final Map<String, List<ColumnSpec>> columns = new TreeMap<>();
    private final Map<String, Map<String, Ingested>> files = new TreeMap<>();

    private IngestedFiles(long nextSequence) {
        this.nextSequence = nextSequence;
    }

    /** Nothing ingested yet: the first file gets sequence 1. */
    static IngestedFiles empty() {
        return new IngestedFiles(1);
    }

    /**
     * The ledger a lake committed last; empty for a lake without a commit or one asked for a new
     * initial snapshot (every file is ingested again).
     *
     * @throws TributaryException {@link ErrorCode#SOURCE_MISCONFIGURED} when the lake's offset was
     *         written by another kind of source
     */
    static IngestedFiles decode(Optional<SourceOffset> offset) {
        return decode(offset, 0);
    }

    /**
     * As {@link #decode(Optional)}; after {@code tributary resnapshot} (every file is ingested
     * again) the sequence starts after {@code committedSequence}, the lake's, so the new
     * deliveries sort after what the lake holds instead of being skipped as replays.
     */
    static IngestedFiles decode(Optional<SourceOffset> offset, long committedSequence) {
        if (offset.isEmpty() || offset.get().requestsInitialSnapshot()) {
            return new IngestedFiles(Math.max(1, committedSequence + 1));
        }
        try {
            JsonNode root = JSON.readTree(offset.get().token());
            if (root == null || !root.isObject() || !"files".equals(root.path("source").asText()) || root.path("version").asInt() != VERSION) {
                throw new TributaryException(ErrorCode.SOURCE_MISCONFIGURED, "The lake's committed source offset was not written by a files source "
                        + "(version " + VERSION + "): this lake belongs to another kind of source; give the files source a lake of its own");
            }
            IngestedFiles out = new IngestedFiles(root.path("next").asLong(1));
            JsonNode cut = root.path("in-progress");
            if (cut.isObject()) {
                out.inProgress = new InProgress(cut.path("table").asText(), cut.path("path").asText(), cut.path("sha256").asText(), cut.path("seq").asLong());
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = root.path("tables").fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> table = it.next();
                List<ColumnSpec> specs = new ArrayList<>();
                for (JsonNode c : table.getValue().path("columns")) {
                    specs.add(new ColumnSpec(c.get(0).asText(), c.get(1).asText()));
                }
                out.columns.put(table.getKey(), specs);
                Map<String, Ingested> byPath = new TreeMap<>();
                for (Iterator<Map.Entry<String, JsonNode>> f = table.getValue().path("files").fields(); f.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = f.next();
                    JsonNode v = e.getValue();
                    byPath.put(e.getKey(), new Ingested(v.path("size").asLong(), v.path("modified").asLong(), v.path("sha256").asText(),
                            v.path("seq").asLong(), v.path("rows").asLong(), v.path("rejects").asLong()));
                }
                out.files.put(table.getKey(), byPath);
            }
            return out;
        } catch (JsonProcessingException e) {
            throw new TributaryException(ErrorCode.SOURCE_MISCONFIGURED, "The lake's committed source offset is not a files source's ledger: " + e.getOriginalMessage(), e);
        }
    }

    /** The ledger as the offset the lake commits with the rows. */
    SourceOffset encode() {
        return encode(null);
    }

    /** The ledger as the offset of a batch that ends inside the delivery {@code cut}. */
    SourceOffset encode(InProgress cut) {
        ObjectNode root = JSON.createObjectNode();
        root.put("source", "files");
        root.put("version", VERSION);
        root.put("next", nextSequence);
        if (cut != null) {
            ObjectNode c = root.putObject("in-progress");
            c.put("table", cut.table());
            c.put("path", cut.path());
            c.put("sha256", cut.sha256());
            c.put("seq", cut.sequence());
        }
        ObjectNode tables = root.putObject("tables");
        java.util.Set<String> names = new java.util.TreeSet<>(columns.keySet());
        names.addAll(files.keySet());
        for (String name : names) {
            ObjectNode table = tables.putObject(name);
            ArrayNode cols = table.putArray("columns");
            for (ColumnSpec c : columns.getOrDefault(name, List.of())) {
                cols.addArray().add(c.name()).add(c.type());
            }
            ObjectNode byPath = table.putObject("files");
            files.getOrDefault(name, Map.of()).forEach((path, f) -> {
                ObjectNode o = byPath.putObject(path);
                o.put("size", f.size());
                o.put("modified", f.modifiedMillis());
                o.put("sha256", f.sha256());
                o.put("seq", f.sequence());
                o.put("rows", f.rows());
                o.put("rejects", f.rejects());
            });
        }
        return new SourceOffset(root.toString());
    }

    /** The sequence number the next ingested file gets. */
    long nextSequence() {
        return nextSequence;
    }

    /** The delivery a previous run was cut short in, if the lake committed part of it. */
    Optional<InProgress> inProgress() {
        return Optional.ofNullable(inProgress);
    }

    /**
     * The sequence a delivery of {@code path} with content {@code sha256} is ingested under: the
     * one of a delivery cut short with the same content (the lake then skips the rows it holds),
     * else the next one; a cut-short delivery of other content keeps its sequence for the rows the
     * lake holds of it, and later deliveries sort after it.
     */
    long begin(String table, String path, String sha256) {
        if (inProgress != null) {
            if (inProgress.table().equals(table) && inProgress.path().equals(path) && inProgress.sha256().equals(sha256)) {
                return inProgress.sequence();
            }
            nextSequence = Math.max(nextSequence, inProgress.sequence() + 1);
            inProgress = null;
        }
        return nextSequence;
    }

    /** What the ledger holds of {@code path} of {@code table}. */
    Optional<Ingested> file(String table, String path) {
        return Optional.ofNullable(files.getOrDefault(table, Map.of()).get(path));
    }

    /** Every file ingested into {@code table}, by relative path. */
    Map<String, Ingested> files(String table) {
        return java.util.Collections.unmodifiableMap(files.getOrDefault(table, Map.of()));
    }

    /** The columns of {@code table} as its files gave them so far; empty before its first file. */
    List<ColumnSpec> columns(String table) {
        return columns.getOrDefault(table, List.of());
    }

    void columns(String table, List<ColumnSpec> specs) {
        columns.put(table, List.copyOf(specs));
    }

    /** Records a delivery of {@code path}, ingested under sequence {@link #nextSequence()}, and moves the sequence on. */
    void ingested(String table, String path, Ingested file) {
        if (file.sequence() != nextSequence) {
            throw new IllegalStateException("File " + path + " ingested as " + file.sequence() + ", expected " + nextSequence);
        }
        files.computeIfAbsent(table, t -> new TreeMap<>()).put(path, file);
        nextSequence++;
        inProgress = null;
    }

    /** A file whose content is unchanged but whose modification time moved (touched, copied again): no new rows. */
    void touched(String table, String path, long modifiedMillis) {
        Ingested before = files.get(table).get(path);
        files.get(table).put(path, new Ingested(before.size(), modifiedMillis, before.sha256(), before.sequence(), before.rows(), before.rejects()));
    }

    @Override
    public String toString() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        files.forEach((t, m) -> counts.put(t, m.size()));
        return "ingested files " + counts + ", next sequence " + nextSequence;
    }
}
