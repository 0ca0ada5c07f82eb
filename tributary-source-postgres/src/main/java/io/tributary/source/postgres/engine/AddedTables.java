package io.tributary.source.postgres.engine;

import io.tributary.source.postgres.offset.OffsetCodec;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tables of a pipeline and which of them the lake holds completely. A table added to an existing
 * pipeline, or a large table of a new one ({@code source.snapshot.resumable-above}), is snapshotted
 * on its own while the others stream (a Debezium incremental snapshot) and
 * counts as captured once Debezium's offset no longer lists it among the tables its incremental
 * snapshot still reads: until then, a restart resumes its snapshot from the offset. The captured set
 * travels in the offset the lake stores ({@link OffsetCodec#withTables}). Not thread-safe: the
 * capture thread only.
 */
public final class AddedTables {
    private static final Logger LOG = LoggerFactory.getLogger(AddedTables.class);

    private final List<TableId> configured;
    private final Set<TableId> captured;
    private final Set<TableId> snapshotting;
    private final Set<TableId> listed = new HashSet<>();
    private final List<TableId> toRequest;
    private final java.util.Map<TableId, Long> reads = new java.util.HashMap<>();
    private final boolean resumes;

    /**
     * @param captured  tables the lake holds completely
     * @param resumed   added tables whose incremental snapshot the stored offset resumes
     * @param toRequest added tables whose incremental snapshot is still to be asked for
     */
    public AddedTables(List<TableId> configured, Set<TableId> captured, List<TableId> resumed, List<TableId> toRequest) {
        this.configured = List.copyOf(configured);
        this.captured = new LinkedHashSet<>(captured);
        this.snapshotting = new LinkedHashSet<>(resumed);
        this.snapshotting.addAll(toRequest);
        this.listed.addAll(resumed);
        this.toRequest = List.copyOf(toRequest);
        this.resumes = !resumed.isEmpty();
    }

    /** Every configured table captured: a first start (its initial snapshot reads them all) or nothing added. */
    public static AddedTables none(List<TableId> configured) {
        return new AddedTables(configured, new HashSet<>(configured), List.of(), List.of());
    }

    /** Added tables whose incremental snapshot has to be asked for, once streaming runs. */
    public List<TableId> toRequest() {
        return toRequest;
    }

    /** Whether the stored offset holds an incremental snapshot in progress, which Debezium resumes when it starts. */
    public boolean resumes() {
        return resumes;
    }

    /** The added tables not snapshotted completely yet, in the order they are read. */
    public List<TableId> running() {
        return List.copyOf(snapshotting);
    }

    /** Whether a table added to the pipeline has not been snapshotted completely yet. */
    public boolean snapshotting() {
        return !snapshotting.isEmpty();
    }

    /**
     * The captured tables as of a batch ({@code events} and its {@code offset}): an added table
     * whose incremental snapshot was listed in an earlier offset and is no longer listed in this one
     * has been read completely.
     */
    public List<TableId> capturedAsOf(List<ChangeEvent> events, SourceOffset offset) {
        if (!snapshotting.isEmpty()) {
            for (ChangeEvent e : events) {
                if (e.operation() == ChangeOperation.READ && snapshotting.contains(e.table())) {
                    reads.merge(e.table(), 1L, Long::sum);
                }
            }
            List<TableId> running = OffsetCodec.incrementalSnapshotTables(offset);
            for (TableId table : new ArrayList<>(snapshotting)) {
                if (running.contains(table)) {
                    listed.add(table);
                } else if (listed.contains(table) || requestedAfter(table, running)) {
                    // Debezium reads the requested tables in order and skips one whose chunk query
                    // failed (it logs "Snapshotting of table ... failed. Skipping it"); the table was
                    // not empty when it was requested.
                    if (toRequest.contains(table) && reads.getOrDefault(table, 0L) == 0) {
                        throw new TributaryException(ErrorCode.SOURCE_FAILED, "Cannot snapshot table " + table
                                + ": Debezium's incremental snapshot ended without reading a row of it (its log above says why). "
                                + "Nothing marks it captured; a restart snapshots it again");
                    }
                    snapshotting.remove(table);
                    captured.add(table);
                    LOG.info("Snapshot of {} finished: {} rows read in this run; it is captured like the others from now on", table,
                            reads.getOrDefault(table, 0L));
                }
            }
        }
        return configured.stream().filter(captured::contains).toList();
    }

    /** Whether Debezium's offset lists a table requested after {@code table}: it is past {@code table}. */
    private boolean requestedAfter(TableId table, List<TableId> running) {
        int index = toRequest.indexOf(table);
        return index >= 0 && running.stream().anyMatch(t -> toRequest.indexOf(t) > index);
    }
}
