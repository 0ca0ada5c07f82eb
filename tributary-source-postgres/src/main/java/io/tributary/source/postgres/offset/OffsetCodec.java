package io.tributary.source.postgres.offset;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.connect.json.JsonConverter;

/**
 * Encodes a Debezium source partition and offset as a {@link SourceOffset} token, and turns a token
 * back into the serialized key/value pair Kafka Connect's offset storage expects
 * (a JSON array {@code [engineName, partition]} as key, the offset map as value).
 */
public final class OffsetCodec {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private OffsetCodec() {
    }

    public static SourceOffset encode(Map<String, ?> partition, Map<String, ?> offset) {
        Map<String, Object> token = new LinkedHashMap<>();
        token.put("partition", partition);
        token.put("offset", offset);
        try {
            return new SourceOffset(MAPPER.writeValueAsString(token));
        } catch (JsonProcessingException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot encode source offset: " + e.getMessage(), e);
        }
    }

    /** The offset map of a token, e.g. to read {@code lsn} from it. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> offset(SourceOffset token) {
        if (!(parse(token).get("offset") instanceof Map<?, ?> offset)) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot read the source offset stored in the lake: it has no 'offset' object");
        }
        return (Map<String, Object>) offset;
    }

    /** The token with the set of captured tables recorded in it, so a restart can tell which tables are new. */
    public static SourceOffset withTables(SourceOffset token, List<TableId> tables) {
        Map<String, Object> parsed = parse(token);
        parsed.put("tables", tables.stream().map(TableId::toString).toList());
        try {
            return new SourceOffset(MAPPER.writeValueAsString(parsed));
        } catch (JsonProcessingException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot encode source offset: " + e.getMessage(), e);
        }
    }

    /** The captured tables recorded in a token; empty for tokens written before tables were recorded. */
    public static Optional<List<TableId>> tables(SourceOffset token) {
        Object tables = parse(token).get("tables");
        if (!(tables instanceof List<?> list)) {
            return Optional.empty();
        }
        return Optional.of(list.stream().map(t -> TableId.parse(t.toString())).toList());
    }

    /**
     * The tables an incremental snapshot still has to read, from Debezium's
     * {@code incremental_snapshot_collections} offset key (a JSON list of
     * {@code {"incremental_snapshot_collections_id": "schema.table", ...}}); empty when none runs.
     */
    @SuppressWarnings("unchecked")
    public static List<TableId> incrementalSnapshotTables(SourceOffset token) {
        Object collections = offset(token).get("incremental_snapshot_collections");
        if (collections == null) {
            return List.of();
        }
        try {
            List<Object> entries = collections instanceof String text ? MAPPER.readValue(text, new TypeReference<List<Object>>() { }) : (List<Object>) collections;
            return entries.stream().map(e -> e instanceof Map<?, ?> m ? m.get("incremental_snapshot_collections_id") : e)
                    .filter(java.util.Objects::nonNull).map(id -> TableId.parse(id.toString())).toList();
        } catch (JsonProcessingException | ClassCastException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot read the incremental snapshot progress in the source offset stored in the lake: " + e.getMessage(), e);
        }
    }

    /**
     * Whether the offset was stored during an initial snapshot that had not delivered its last row:
     * Debezium then snapshots again from the start. Debezium keeps the {@code snapshot} key only
     * while a snapshot runs: {@code true} up to 2.x, the snapshot's type ({@code "INITIAL"}) from
     * 3.0 on (PostgresOffsetContext), beside {@code last_snapshot_record} and, from 3.0 on,
     * {@code snapshot_completed}. Misreading a 3.x offset as streaming made a restarted snapshot
     * read the rows without the new slot's exported snapshot, so bronze got changes twice.
     * An offset with incremental snapshot progress is never mid-snapshot in this sense.
     */
    public static boolean midSnapshot(SourceOffset token) {
        Map<String, Object> offset = offset(token);
        Object snapshot = offset.get("snapshot");
        boolean snapshotting = Boolean.TRUE.equals(snapshot) || snapshot instanceof String type && !type.isEmpty() && !type.equalsIgnoreCase("false");
        // An offset carrying incremental snapshot progress was stored while streaming (the chunked
        // snapshot runs beside the stream), even where Debezium 3 keeps the blocking snapshot's
        // keys in it: the stream resumes from it, and the slot must stay.
        return snapshotting && !Boolean.TRUE.equals(offset.get("last_snapshot_record")) && !Boolean.TRUE.equals(offset.get("snapshot_completed"))
                && offset.get("incremental_snapshot_collections") == null;
    }

    private static Map<String, Object> parse(SourceOffset token) {
        try {
            return MAPPER.readValue(token.token(), new TypeReference<LinkedHashMap<String, Object>>() { });
        } catch (JsonProcessingException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot read the source offset stored in the lake: " + e.getOriginalMessage(), e);
        }
    }

    /** The entry to seed Kafka Connect's offset store with, for the engine named {@code engineName}. */
    public static Map<ByteBuffer, ByteBuffer> storeEntry(String engineName, SourceOffset token) {
        Map<String, Object> parsed = parse(token);
        try (JsonConverter keys = new JsonConverter(); JsonConverter values = new JsonConverter()) {
            keys.configure(Map.of("schemas.enable", "false"), true);
            values.configure(Map.of("schemas.enable", "false"), false);
            byte[] key = keys.fromConnectData(engineName, null, Arrays.asList(engineName, parsed.get("partition")));
            byte[] value = values.fromConnectData(engineName, null, parsed.get("offset"));
            return Map.of(ByteBuffer.wrap(key), ByteBuffer.wrap(value));
        }
    }
}
