package io.tributary.source.postgres.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.source.postgres.convert.ChangeEventConverter;
import io.tributary.source.postgres.offset.OffsetCodec;
import io.tributary.spi.ChangeBatch;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batches of a large transaction: sizes, positions, offsets that replay it whole, and what is acknowledged. */
class BatchAssemblerTest {
    private static final Map<String, ?> PARTITION = Map.of("server", "tributary");
    private static final Schema KEY = SchemaBuilder.struct().field("id", Schema.INT64_SCHEMA).build();
    private static final Schema ROW = SchemaBuilder.struct().optional().field("id", Schema.INT64_SCHEMA).field("name", Schema.OPTIONAL_STRING_SCHEMA).build();
    private static final Schema SOURCE = SchemaBuilder.struct().field("schema", Schema.STRING_SCHEMA).field("table", Schema.STRING_SCHEMA)
            .field("lsn", Schema.OPTIONAL_INT64_SCHEMA).field("txId", Schema.OPTIONAL_INT64_SCHEMA).field("ts_ms", Schema.INT64_SCHEMA)
            .field("snapshot", Schema.OPTIONAL_STRING_SCHEMA).build();
    private static final Schema TRANSACTION = SchemaBuilder.struct().optional().field("id", Schema.STRING_SCHEMA).build();
    private static final Schema ENVELOPE = SchemaBuilder.struct().field("before", ROW).field("after", ROW).field("source", SOURCE)
            .field("op", Schema.STRING_SCHEMA).field("transaction", TRANSACTION).build();
    private static final Schema STATUS = SchemaBuilder.struct().field("status", Schema.STRING_SCHEMA).field("id", Schema.STRING_SCHEMA).build();
    private static final SourceOffset RESUME = OffsetCodec.encode(PARTITION, Map.of("lsn", 500L, "lsn_commit", 500L));

    @TempDir
    Path spillDirectory;

    private BatchAssembler<SourceRecord> assembler(SourcePosition resumeFrom, Optional<SourceOffset> resumeOffset) {
        return new BatchAssembler<>(Function.identity(), new ChangeEventConverter(true), new SnapshotProgress(Map.of()), resumeFrom, resumeOffset, 4,
                new OpenTransaction.Limits(3, 1 << 20, spillDirectory));
    }

    @Test
    void handsOverSpilledTransactionInBatchesThatReplayItWhole() throws Exception {
        BatchAssembler<SourceRecord> assembler = assembler(SourcePosition.ofSequence(500, 0), Optional.of(RESUME));
        List<SourceRecord> poll = transaction(7, 1000, 10);
        List<ChangeBatch> batches = new ArrayList<>();

        assembler.assemble(poll, batches::add);

        assertThat(batches).extracting(b -> b.events().size()).containsExactly(4, 4, 2);
        assertThat(batches).flatExtracting(ChangeBatch::events).extracting(ChangeEvent::position)
                .containsExactlyElementsOf(positions(1000, 0, 10));
        assertThat(batches).flatExtracting(ChangeBatch::events).extracting(e -> e.after().get(1)).containsExactlyElementsOf(names(0, 10));
        assertThat(batches).flatExtracting(ChangeBatch::events).allSatisfy(e -> assertThat(e.raw()).hasValueSatisfying(raw -> assertThat(raw).contains("\"op\":\"c\"")));
        assertThat(batches).extracting(ChangeBatch::through).containsExactly(position(1000, 3), position(1000, 7), position(1000, 9));
        assertThat(batches).extracting(ChangeBatch::consistent).as("parts of the transaction are consistent only through the position before it")
                .containsExactly(position(500, 0), position(500, 0), position(1000, 9));
        // A restart after committing the first parts resumes before the transaction, which is replayed whole.
        assertThat(batches).extracting(ChangeBatch::offset).containsExactly(RESUME, RESUME, OffsetCodec.encode(PARTITION, poll.get(poll.size() - 1).sourceOffset()));
        assertThat(assembler.acknowledgeable(position(1000, 7))).as("nothing to acknowledge inside the transaction").isEmpty();
        assertThat(assembler.acknowledgeable(position(1000, 9))).as("the END record alone covers the transaction").containsExactly(poll.get(poll.size() - 1));
        try (var files = Files.list(spillDirectory)) {
            assertThat(files).as("spill file deleted").isEmpty();
        }
    }

    @Test
    void aBatchCutAtTheLastEventOfATransactionIsConsistentThroughIt() {
        BatchAssembler<SourceRecord> assembler = assembler(SourcePosition.ofSequence(500, 0), Optional.of(RESUME));
        List<ChangeBatch> batches = new ArrayList<>();

        assembler.assemble(transaction(7, 1000, 8), batches::add);

        // The last, empty batch carries the offset of the transaction's END record.
        assertThat(batches).extracting(b -> b.events().size()).containsExactly(4, 4, 0);
        assertThat(batches).extracting(ChangeBatch::through).containsExactly(position(1000, 3), position(1000, 7), position(1000, 7));
        assertThat(batches).extracting(ChangeBatch::consistent).containsExactly(position(500, 0), position(1000, 7), position(1000, 7));
    }

    @Test
    void dropsEventsAtOrBelowCommittedPositionWhenTransactionIsReplayed() {
        BatchAssembler<SourceRecord> assembler = assembler(SourcePosition.ofSequence(1000, 5), Optional.of(RESUME));
        List<ChangeBatch> batches = new ArrayList<>();

        assembler.assemble(transaction(7, 1000, 10), batches::add);

        assertThat(batches).flatExtracting(ChangeBatch::events).extracting(ChangeEvent::position).containsExactlyElementsOf(positions(1000, 6, 4));
        assertThat(batches.get(batches.size() - 1).through()).isEqualTo(position(1000, 9));
    }

    @Test
    void keepsTransactionWholeWithoutOffsetToResumeFrom() {
        BatchAssembler<SourceRecord> assembler = assembler(SourcePosition.BEGINNING, Optional.empty());
        List<ChangeBatch> batches = new ArrayList<>();

        assembler.assemble(transaction(7, 1000, 10), batches::add);

        assertThat(batches).extracting(b -> b.events().size()).containsExactly(10);
    }

    @Test
    void cutsTransactionsSpreadOverPollsAndKeepsSmallOnesInMemory() {
        BatchAssembler<SourceRecord> assembler = assembler(SourcePosition.ofSequence(500, 0), Optional.of(RESUME));
        List<SourceRecord> small = transaction(8, 900, 2);
        List<SourceRecord> large = transaction(9, 1000, 6);
        List<ChangeBatch> batches = new ArrayList<>();

        assembler.assemble(small, batches::add);
        assembler.assemble(large.subList(0, 4), batches::add);
        assembler.assemble(large.subList(4, large.size()), batches::add);

        assertThat(batches).extracting(b -> b.events().size()).containsExactly(2, 4, 2);
        assertThat(batches).extracting(ChangeBatch::offset).containsExactly(OffsetCodec.encode(PARTITION, small.get(small.size() - 1).sourceOffset()),
                OffsetCodec.encode(PARTITION, small.get(small.size() - 1).sourceOffset()), OffsetCodec.encode(PARTITION, large.get(large.size() - 1).sourceOffset()));
        assertThat(batches).flatExtracting(ChangeBatch::events).extracting(e -> e.after().get(1)).containsExactlyElementsOf(concat(names(0, 2), names(0, 6)));
        assertThat(batches).extracting(ChangeBatch::consistent).containsExactly(position(900, 1), position(900, 1), position(1000, 5));
    }

    @Test
    void positionsIncrementalSnapshotReadsInStreamOrderAndNeverResumesInsideATransaction() {
        BatchAssembler<SourceRecord> assembler = assembler(position(500, 0), Optional.of(RESUME));
        List<SourceRecord> first = transaction(8, 900, 2);
        SourceRecord between = incrementalRead(20, Map.of("lsn", 900L, "lsn_commit", 900L, "txId", 8L));
        List<SourceRecord> second = transaction(9, 1000, 2);
        // Debezium emits a chunk before the change that closed its window, inside that change's transaction.
        SourceRecord inside = incrementalRead(21, Map.of("lsn", 998L, "txId", 9L));
        List<ChangeBatch> batches = new ArrayList<>();

        List<SourceRecord> poll = new ArrayList<>(first);
        poll.add(between);
        assembler.assemble(poll, batches::add);
        assembler.assemble(List.of(second.get(0), inside), batches::add);
        assembler.assemble(second.subList(1, second.size()), batches::add);

        assertThat(batches).flatExtracting(ChangeBatch::events).extracting(ChangeEvent::position)
                .containsExactly(position(900, 0), position(900, 1), position(900, 2), position(900, 3), position(1000, 0), position(1000, 1));
        assertThat(batches).flatExtracting(ChangeBatch::events).filteredOn(e -> e.operation() == io.tributary.spi.ChangeOperation.READ)
                .extracting(e -> e.after().get(0)).containsExactly(20L, 21L);
        assertThat(batches).as("not an initial snapshot: silver is not reset").allSatisfy(b -> assertThat(b.snapshotStarted()).isEmpty());
        assertThat(batches).extracting(ChangeBatch::through).containsExactly(position(900, 2), position(900, 3), position(1000, 1));
        SourceOffset afterBetween = OffsetCodec.encode(PARTITION, between.sourceOffset());
        assertThat(batches).extracting(ChangeBatch::offset).as("a read inside a transaction does not resume there")
                .containsExactly(afterBetween, afterBetween, OffsetCodec.encode(PARTITION, second.get(second.size() - 1).sourceOffset()));
        assertThat(assembler.acknowledgeable(position(900, 3))).containsExactly(between);
        assertThat(assembler.acknowledgeable(position(1000, 1))).containsExactly(second.get(second.size() - 1));
    }

    /**
     * Resumed after chunk reads positioned after a transaction's commit, a change without
     * transaction metadata at the LSN where that commit ended must come after the committed reads,
     * never on their positions.
     */
    @Test
    void aChangeWithoutTransactionMetadataReplayedBelowTheWatermarkTakesTheNextPosition() {
        BatchAssembler<SourceRecord> assembler = assembler(position(900, 3), Optional.of(OffsetCodec.encode(PARTITION, Map.of("lsn", 900L, "lsn_commit", 900L))));
        SourceRecord replayed = loneChange(77, 900);
        SourceRecord read = incrementalRead(21, Map.of("lsn", 901L, "lsn_commit", 900L));
        List<SourceRecord> next = transaction(10, 1000, 2);
        List<ChangeBatch> batches = new ArrayList<>();
        List<SourceRecord> poll = new ArrayList<>(List.of(replayed, read));
        poll.addAll(next);

        assembler.assemble(poll, batches::add);

        assertThat(batches).flatExtracting(ChangeBatch::events).extracting(ChangeEvent::position)
                .containsExactly(position(900, 4), position(901, 1), position(1000, 0), position(1000, 1));
        assertThat(batches).flatExtracting(ChangeBatch::events).extracting(ChangeEvent::operation)
                .containsExactly(io.tributary.spi.ChangeOperation.DELETE, io.tributary.spi.ChangeOperation.READ, io.tributary.spi.ChangeOperation.CREATE,
                        io.tributary.spi.ChangeOperation.CREATE);
        assertThat(batches).extracting(ChangeBatch::through).isSorted();
    }

    /**
     * After a restart from a chunk read's offset, Debezium's offset context still carries the
     * snapshot marker, and the first streamed change shows it: it is a change of its transaction,
     * positioned at the transaction's commit, not a snapshot read at the LSN it carries (which lies
     * below the reads the lake already holds).
     */
    @Test
    void aStreamedChangeCarryingASnapshotMarkerStaysInItsTransaction() {
        BatchAssembler<SourceRecord> assembler = assembler(position(900, 3), Optional.of(OffsetCodec.encode(PARTITION, Map.of("lsn", 900L, "lsn_commit", 900L))));
        List<SourceRecord> replayed = transaction(10, 1000, 2);
        Struct marked = (Struct) replayed.get(1).value();
        marked.getStruct("source").put("snapshot", "true");
        marked.put("op", "d").put("before", marked.getStruct("after")).put("after", null);
        List<ChangeBatch> batches = new ArrayList<>();

        assembler.assemble(replayed, batches::add);

        assertThat(batches).flatExtracting(ChangeBatch::events).extracting(ChangeEvent::position).containsExactly(position(1000, 0), position(1000, 1));
        assertThat(batches).flatExtracting(ChangeBatch::events).extracting(ChangeEvent::transactionId).containsExactly(10L, 10L);
        assertThat(batches).allSatisfy(b -> assertThat(b.snapshotStarted()).isEmpty());
    }

    private static SourceRecord loneChange(long id, long lsn) {
        Struct before = new Struct(ROW).put("id", id).put("name", "gone " + id);
        Struct source = new Struct(SOURCE).put("schema", "public").put("table", "items").put("lsn", lsn).put("ts_ms", 1_700_000_000_000L).put("snapshot", "false");
        Struct value = new Struct(ENVELOPE).put("before", before).put("source", source).put("op", "d");
        return new SourceRecord(PARTITION, Map.of("lsn", lsn, "lsn_proc", lsn), "tributary.public.items", null, KEY, new Struct(KEY).put("id", id), ENVELOPE, value);
    }

    private static SourceRecord incrementalRead(long id, Map<String, ?> offset) {
        Struct after = new Struct(ROW).put("id", id).put("name", "read " + id);
        Struct source = new Struct(SOURCE).put("schema", "public").put("table", "items").put("lsn", offset.get("lsn")).put("ts_ms", 1_700_000_000_000L)
                .put("snapshot", "incremental");
        Struct value = new Struct(ENVELOPE).put("after", after).put("source", source).put("op", "r");
        return new SourceRecord(PARTITION, offset, "tributary.public.items", null, KEY, new Struct(KEY).put("id", id), ENVELOPE, value);
    }

    private static List<SourceRecord> transaction(long txId, long commitLsn, int rows) {
        List<SourceRecord> records = new ArrayList<>();
        records.add(status("BEGIN", txId, Map.of("lsn", commitLsn - rows - 1, "txId", txId)));
        for (int i = 0; i < rows; i++) {
            long lsn = commitLsn - rows + i;
            Struct after = new Struct(ROW).put("id", (long) i).put("name", "row " + i);
            Struct source = new Struct(SOURCE).put("schema", "public").put("table", "items").put("lsn", lsn).put("txId", txId).put("ts_ms", 1_700_000_000_000L)
                    .put("snapshot", "false");
            Struct value = new Struct(ENVELOPE).put("after", after).put("source", source).put("op", "c").put("transaction", new Struct(TRANSACTION).put("id", txId + ":" + lsn));
            records.add(new SourceRecord(PARTITION, Map.of("lsn", lsn, "txId", txId), "tributary.public.items", null, KEY, new Struct(KEY).put("id", (long) i), ENVELOPE, value));
        }
        records.add(status("END", txId, Map.of("lsn", commitLsn, "lsn_commit", commitLsn, "txId", txId)));
        return records;
    }

    private static SourceRecord status(String status, long txId, Map<String, ?> offset) {
        return new SourceRecord(PARTITION, offset, DebeziumProperties.TOPIC_PREFIX + ".transaction", null, null, null, STATUS,
                new Struct(STATUS).put("status", status).put("id", Long.toString(txId)));
    }

    private static SourcePosition position(long lsn, long index) {
        return SourcePosition.ofSequence(lsn, index);
    }

    private static List<SourcePosition> positions(long lsn, long from, int count) {
        List<SourcePosition> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(position(lsn, from + i));
        }
        return out;
    }

    private static List<Object> names(int from, int count) {
        List<Object> out = new ArrayList<>();
        for (int i = from; i < from + count; i++) {
            out.add("row " + i);
        }
        return out;
    }

    private static List<Object> concat(List<Object> a, List<Object> b) {
        List<Object> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }
}
