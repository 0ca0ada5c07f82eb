package io.tributary.lake.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.DataSize;
import io.tributary.config.LakeConfig;
import io.tributary.config.MaintenanceConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.catalog.LocalFiles;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.lake.commit.StateTable;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.Row;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Maintenance on a local lake written by the real writer: compaction keeps every table's content
 * and the resume position, a writer commit during a compaction makes the compaction re-plan, a truncate
 * during a compaction makes it re-plan, expiry keeps what a resume needs, orphans go by age.
 */
class MaintenanceTest {
    private static final TableSchema SCHEMA = new TableSchema(new TableId("public", "items"),
            List.of(Column.required("id", ColumnType.Primitive.INT32, "int4"), Column.nullable("n", ColumnType.Primitive.INT32, "int4"),
                    Column.nullable("body", ColumnType.Primitive.STRING, "text")),
            List.of("id"));
    private static final TableIdentifier SILVER = TableIdentifier.of("silver", "items");
    private static final TableIdentifier BRONZE = TableIdentifier.of("bronze", "items");
    private static final Instant DAY = Instant.parse("2026-03-01T10:00:00Z");

    @TempDir
    Path dir;

    private final Map<Integer, Row> source = new TreeMap<>();
    private final Random random = new Random(42);
    private long lsn = 100;
    private int bronzeRows;

    /** Settings with small thresholds; the clock runs two hours ahead, so every snapshot is past the retention. */
    private static MaintenanceConfig config() {
        return new MaintenanceConfig(MaintenanceConfig.Mode.ENABLED, Duration.ofHours(1), Duration.ofHours(1), 1, Duration.ofDays(1),
                DataSize.ofMegabytes(128), 5, 5);
    }

    private static Clock later() {
        return Clock.offset(Clock.systemUTC(), Duration.ofHours(2));
    }

    @Test
    void compactsSilverAndBronzeKeepingContentAndResumePosition() throws IOException {
        try (Lake lake = open()) {
            for (int batch = 0; batch < 30; batch++) {
                commitRandomBatch(lake, 20);
            }
            Table silver = lake.catalog().load(SILVER).orElseThrow();
            Compaction.Counts before = Compaction.Counts.of(silver);
            assertThat(before.dataFiles()).isGreaterThan(20);
            assertThat(before.deleteFiles()).isGreaterThan(20);
            List<String> bronzeBefore = bronze(lake.catalog());
            SourcePosition position = SnapshotPositions.committed(silver).orElseThrow();

            List<TableReport> reports = new Maintenance(lake.catalog(), config(), later()).run(Optional.empty(), Maintenance.Mode.APPLY, () -> true);

            TableReport silverReport = report(reports, "silver.items");
            assertThat(silverReport.compaction()).isEqualTo(CompactionOutcome.COMPACTED);
            assertThat(silverReport.dataFilesBefore()).isEqualTo(before.dataFiles());
            assertThat(silverReport.dataFilesAfter()).isEqualTo(1);
            assertThat(silverReport.deleteFilesAfter()).isZero();
            assertThat(silverReport.snapshotsExpired()).isGreaterThan(20);
            assertThat(report(reports, "bronze.items").dataFilesAfter()).isEqualTo(1);
            assertThat(report(reports, "tributary.state").snapshotsExpired()).isGreaterThan(20);
            assertThat(reports).allSatisfy(r -> assertThat(r.failure()).isEmpty());

            assertThat(silverRows(lake.catalog())).isEqualTo(expected());
            assertThat(bronze(lake.catalog())).isEqualTo(bronzeBefore).hasSize(bronzeRows);
            silver = lake.catalog().load(SILVER).orElseThrow();
            assertThat(silver.currentSnapshot().summary()).containsEntry(Maintenance.MAINTENANCE, "compaction")
                    .doesNotContainKey(SnapshotPositions.POSITION);
            assertThat(SnapshotPositions.committed(silver)).as("the stamped parent of the compaction survives expiry").contains(position);
            assertThat(SnapshotExpiry.chain(silver)).hasSize(2);

            // The same writer goes on, and a new process resumes where the lake is.
            for (int batch = 0; batch < 5; batch++) {
                commitRandomBatch(lake, 20);
            }
            assertThat(silverRows(lake.catalog())).isEqualTo(expected());
        }
        try (Lake reopened = open()) {
            assertThat(silverRows(reopened.catalog())).isEqualTo(expected());
            assertThat(SnapshotPositions.committed(reopened.catalog().load(SILVER).orElseThrow())).contains(SourcePosition.ofSequence(lsn - 1, 19));
            assertThat(bronze(reopened.catalog())).hasSize(bronzeRows);
        }
    }

    @Test
    void filesHoldingAHugeValueKeepCountsButNoBoundsForItsColumnThroughWritesAndCompaction() throws IOException {
        try (Lake lake = open()) {
            for (int batch = 0; batch < 6; batch++) {
                commitRandomBatch(lake, 20);
            }
            // A value above LargeValueMetrics.MAX_BOUNDED_VALUE_BYTES: bounds would decode it whole.
            String huge = "x".repeat((int) io.tributary.lake.catalog.LargeValueMetrics.MAX_BOUNDED_VALUE_BYTES + 1);
            // A key the random batches never touch: the huge row stays live through compaction.
            Row row = Row.of(1000, 7, huge);
            lake.commit(List.of(new ChangeEvent(ChangeOperation.CREATE, SCHEMA, null, row,
                    SourcePosition.ofSequence(lsn, 0), 1, DAY, null)), SourcePosition.ofSequence(lsn, 0), new SourceOffset("o" + lsn), Set.of());
            source.put(1000, row);
            lsn++;
            for (int batch = 0; batch < 6; batch++) {
                commitRandomBatch(lake, 20);
            }
            Table silver = lake.catalog().load(SILVER).orElseThrow();
            int id = silver.schema().findField("id").fieldId();
            int body = silver.schema().findField("body").fieldId();
            List<DataFile> files = dataFiles(silver);
            Predicate<DataFile> holdsHuge = f -> (Integer) Conversions.fromByteBuffer(Types.IntegerType.get(), f.upperBounds().get(id)) == 1000;
            assertThat(files).filteredOn(holdsHuge).hasSize(1).allSatisfy(f -> {
                assertThat(f.lowerBounds()).containsKey(id).doesNotContainKey(body);
                assertThat(f.upperBounds()).containsKey(id).doesNotContainKey(body);
                assertThat(f.valueCounts()).containsKey(body);
            });
            assertThat(files).filteredOn(holdsHuge.negate()).hasSizeGreaterThan(5).allSatisfy(f -> assertThat(f.lowerBounds()).containsKeys(id, body));

            new Maintenance(lake.catalog(), config(), later()).run(Optional.empty(), Maintenance.Mode.APPLY, () -> true);

            List<DataFile> compacted = dataFiles(lake.catalog().load(SILVER).orElseThrow());
            assertThat(compacted).hasSize(1);
            assertThat(compacted.get(0).lowerBounds()).as("an input had no bounds for body").containsKey(id).doesNotContainKey(body);
            assertThat(silverRows(lake.catalog())).isEqualTo(expected());
        }
    }

    @Test
    void compactionApplyingPositionDeletesKeepsSilverAndHistory() throws IOException {
        try (Lake lake = open()) {
            for (int batch = 0; batch < 30; batch++) {
                commitRandomBatch(lake, 20);
            }
            TableIdentifier history = TableIdentifier.of("silver", "items_history");
            Map<TableIdentifier, List<String>> before = new java.util.LinkedHashMap<>();
            for (TableIdentifier id : List.of(SILVER, history)) {
                Table table = lake.catalog().load(id).orElseThrow();
                long deleteKeys = Compaction.liveDeleteFiles(table, table.currentSnapshot()).stream().mapToLong(d -> d.recordCount()).sum();
                assertThat(deleteKeys).as("position deletes of %s", id).isGreaterThan(100);
                before.put(id, rows(table));
            }

            Compaction compaction = new Compaction(lake.catalog(), config());
            for (TableIdentifier id : before.keySet()) {
                Compaction.Result result = compaction.compact(id, lake.catalog().load(id).orElseThrow(), Maintenance.Mode.APPLY);
                assertThat(result.outcome()).isEqualTo(CompactionOutcome.COMPACTED);
                assertThat(result.deleteFilesAfter()).isZero();
                assertThat(rows(lake.catalog().load(id).orElseThrow())).as("%s after compaction", id).isEqualTo(before.get(id));
            }
            assertThat(silverRows(lake.catalog())).isEqualTo(expected());
        }
    }

    /** A table's live rows as text, sorted, read by Iceberg's generic reader with its deletes applied. */
    private static List<String> rows(Table table) {
        List<String> out = new ArrayList<>();
        try (CloseableIterable<Record> rows = LiveRows.of(table)) {
            rows.forEach(r -> out.add(r.toString()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        out.sort(null);
        return out;
    }

    @Test
    void aWriterCommitDuringCompactionMakesTheCompactionRePlanNotTheWriterFail() {
        try (Lake lake = open()) {
            for (int batch = 0; batch < 10; batch++) {
                commitRandomBatch(lake, 20);
            }
            Compaction compaction = new Compaction(lake.catalog(), config());
            // The writer updates and deletes rows whose files are being rewritten, after they were read:
            // its position deletes name files the compaction replaces, so the compaction's commit fails
            // validation and is planned again; the writer's commit stands.
            int[] attempts = {0};
            compaction.beforeCommit(() -> {
                if (attempts[0]++ > 0) {
                    return;
                }
                List<ChangeEvent> events = new ArrayList<>();
                int index = 0;
                for (Integer id : List.copyOf(source.keySet()).subList(0, 6)) {
                    SourcePosition p = SourcePosition.ofSequence(lsn, index++);
                    if (id % 2 == 0) {
                        events.add(new ChangeEvent(ChangeOperation.DELETE, SCHEMA, source.remove(id), null, p, 1, DAY, null));
                    } else {
                        Row after = Row.of(id, -1, "during compaction");
                        events.add(new ChangeEvent(ChangeOperation.UPDATE, SCHEMA, null, after, p, 1, DAY, null));
                        source.put(id, after);
                    }
                }
                bronzeRows += events.size();
                lake.commit(events, events.get(events.size() - 1).position(), new SourceOffset("o" + lsn), Set.of());
                lsn++;
            });
            Compaction.Result result = compaction.compact(SILVER, lake.catalog().load(SILVER).orElseThrow(), Maintenance.Mode.APPLY);

            assertThat(result.outcome()).isEqualTo(CompactionOutcome.COMPACTED);
            assertThat(attempts[0]).as("compaction attempts").isEqualTo(2);
            assertThat(result.deleteFilesAfter()).as("the writer's delete file was compacted with its rows").isZero();
            assertThat(silverRows(lake.catalog())).isEqualTo(expected());
        }
    }

    @Test
    void truncateDuringCompactionMakesItRePlan() {
        try (Lake lake = open()) {
            for (int batch = 0; batch < 10; batch++) {
                commitRandomBatch(lake, 20);
            }
            Compaction compaction = new Compaction(lake.catalog(), config());
            boolean[] truncated = new boolean[1];
            compaction.beforeCommit(() -> {
                if (!truncated[0]) {
                    truncated[0] = true;
                    SourcePosition p = SourcePosition.ofSequence(lsn++, 0);
                    lake.commit(List.of(new ChangeEvent(ChangeOperation.TRUNCATE, SCHEMA, null, null, p, 1, DAY, null)), p, new SourceOffset("t"), Set.of());
                    source.clear();
                    for (int i = 0; i < 6; i++) {
                        commitRandomBatch(lake, 3);
                    }
                }
            });
            Compaction.Result result = compaction.compact(SILVER, lake.catalog().load(SILVER).orElseThrow(), Maintenance.Mode.APPLY);

            assertThat(truncated[0]).isTrue();
            assertThat(result.outcome()).isEqualTo(CompactionOutcome.COMPACTED);
            assertThat(result.dataFilesBefore()).as("re-planned after the truncate").isLessThanOrEqualTo(6);
            assertThat(silverRows(lake.catalog())).isEqualTo(expected());
            Path data = LocalFiles.path(lake.catalog().load(SILVER).orElseThrow().location()).resolve("data");
            assertThat(new OrphanFiles(new MaintenanceConfig(MaintenanceConfig.Mode.ENABLED, Duration.ofHours(1), Duration.ofHours(1), 1,
                    Duration.ofMillis(1), DataSize.ofMegabytes(128), 5, 5), Clock.offset(Clock.systemUTC(), Duration.ofSeconds(1)))
                    .remove(SILVER, lake.catalog().load(SILVER).orElseThrow(), Maintenance.Mode.DRY_RUN))
                    .as("the files of the failed attempt were deleted, and nothing referenced is an orphan").isZero();
            assertThat(data).isDirectory();
        }
    }

    @Test
    void leavesBronzeFilesWithInitialSnapshotReadsSoARestartedSnapshotCanStillReplaceThem() {
        try (Lake lake = open()) {
            for (int batch = 0; batch < 8; batch++) {
                commitRandomBatch(lake, 10);
            }
            Set<String> changeFiles = new java.util.HashSet<>();
            lake.catalog().load(BRONZE).orElseThrow().newScan().planFiles().forEach(t -> changeFiles.add(t.file().path().toString()));
            // Then an initial snapshot (after a resnapshot) whose reads went into several micro-batches, and was abandoned.
            SourcePosition snapshotFrom = SourcePosition.ofSequence(lsn, 0);
            for (int batch = 0, id = 1000; batch < 6; batch++) {
                List<ChangeEvent> reads = new ArrayList<>();
                for (int i = 0; i < 10; i++, id++) {
                    reads.add(new ChangeEvent(ChangeOperation.READ, SCHEMA, null, Row.of(id, 0, "read"), SourcePosition.ofSequence(lsn, id), 1, DAY, null));
                }
                lake.commit(reads, reads.get(reads.size() - 1).position(), new SourceOffset("r"), Set.of());
            }
            Table bronze = lake.catalog().load(BRONZE).orElseThrow();
            Set<String> readFiles = new java.util.HashSet<>();
            bronze.newScan().planFiles().forEach(t -> readFiles.add(t.file().path().toString()));
            readFiles.removeAll(changeFiles);
            assertThat(readFiles).hasSize(6);
            List<String> before = bronze(lake.catalog());

            Compaction.Result result = new Compaction(lake.catalog(), config()).compact(BRONZE, bronze, Maintenance.Mode.APPLY);

            assertThat(result.outcome()).isEqualTo(CompactionOutcome.COMPACTED);
            assertThat(result.dataFilesAfter()).as("6 files of reads kept, 8 of changes compacted into 1").isEqualTo(7);
            Set<String> after = new java.util.HashSet<>();
            lake.catalog().load(BRONZE).orElseThrow().newScan().planFiles().forEach(t -> after.add(t.file().path().toString()));
            assertThat(after).containsAll(readFiles).doesNotContainAnyElementsOf(changeFiles);
            assertThat(bronze(lake.catalog())).isEqualTo(before);
            // What a restarted initial snapshot commits: the abandoned reads go, by a row filter that matches whole files only.
            Table table = lake.catalog().load(BRONZE).orElseThrow();
            lake.catalog().commit(table.newOverwrite().overwriteByRowFilter(org.apache.iceberg.expressions.Expressions.and(
                    org.apache.iceberg.expressions.Expressions.equal("_op", "r"),
                    org.apache.iceberg.expressions.Expressions.greaterThanOrEqual("_position", snapshotFrom.encoded()))));
            assertThat(bronze(lake.catalog())).hasSize(bronzeRows);
        }
    }

    @Test
    void removesOldOrphansOnlyAndDryRunChangesNothing() throws IOException {
        try (Lake lake = open()) {
            for (int batch = 0; batch < 8; batch++) {
                commitRandomBatch(lake, 10);
            }
            Path data = LocalFiles.path(lake.catalog().load(SILVER).orElseThrow().location()).resolve("data");
            Path old = Files.writeString(data.resolve("00000-0-failed-write.parquet"), "left by a failed write");
            Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofDays(2))));
            Path fresh = Files.writeString(data.resolve("00000-0-being-written.parquet"), "a commit in progress");
            Maintenance maintenance = new Maintenance(lake.catalog(), config(), Clock.systemUTC());
            int dataFiles = Compaction.Counts.of(lake.catalog().load(SILVER).orElseThrow()).dataFiles();

            TableReport dry = maintenance.run(Optional.of("silver.items"), Maintenance.Mode.DRY_RUN, () -> true).get(0);
            assertThat(dry.compaction()).isEqualTo(CompactionOutcome.WOULD_COMPACT);
            assertThat(dry.orphansRemoved()).isEqualTo(1);
            assertThat(old).exists();
            assertThat(Compaction.Counts.of(lake.catalog().load(SILVER).orElseThrow()).dataFiles()).isEqualTo(dataFiles);

            TableReport applied = maintenance.run(Optional.of("silver.items"), Maintenance.Mode.APPLY, () -> true).get(0);
            assertThat(applied.orphansRemoved()).isEqualTo(1);
            assertThat(old).doesNotExist();
            assertThat(fresh).exists();
            assertThat(applied.snapshotsExpired()).as("all snapshots are younger than the retention").isZero();
            assertThat(silverRows(lake.catalog())).isEqualTo(expected());
        }
    }

    @Test
    void stateCommitRetriesOverAConcurrentExpiryButNotOverATakeover() throws Exception {
        InterposingCatalog interposing = new InterposingCatalog();
        try (LakeCatalog writer = LakeCatalog.open(dir, interposing); LakeCatalog other = LakeCatalog.open(dir)) {
            StateTable state = new StateTable(writer, "p");
            state.acquire(Instant.now());
            for (int i = 1; i <= 5; i++) {
                state.record(SourcePosition.ofSequence(i, 0), new SourceOffset("o" + i), Instant.now());
            }
            // Another process expires state snapshots right before the writer's compare-and-swap.
            Maintenance maintenance = new Maintenance(other, config(), later());
            interposing.before(StateTable.ID, () -> assertThat(maintenance.maintain(StateTable.ID, Maintenance.Mode.APPLY).snapshotsExpired()).isPositive());
            state.record(SourcePosition.ofSequence(6, 0), new SourceOffset("o6"), Instant.now());
            assertThat(interposing.fired()).isTrue();
            assertThat(state.read().orElseThrow().watermark()).isEqualTo(SourcePosition.ofSequence(6, 0));

            // A takeover in the same place still fences the writer.
            interposing.before(StateTable.ID, () -> new StateTable(other, "p").acquire(Instant.now().plus(StateTable.LEASE_TIMEOUT).plusSeconds(1)));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> state.record(SourcePosition.ofSequence(7, 0), new SourceOffset("o7"), Instant.now()))
                    .isInstanceOfSatisfying(io.tributary.spi.TributaryException.class,
                            e -> assertThat(e.errorCode()).isEqualTo(io.tributary.spi.ErrorCode.PIPELINE_FENCED))
                    .hasMessageContaining("no longer owns the lake");
        }
    }

    /** Regression: Iceberg's own retry of an expiry failed with "arraySize cannot be negative" after another process's expiry. */
    @Test
    void expiryRetriesOverAnotherProcessesExpiry() {
        InterposingCatalog interposing = new InterposingCatalog();
        try (LakeCatalog first = LakeCatalog.open(dir, interposing); LakeCatalog second = LakeCatalog.open(dir)) {
            StateTable state = new StateTable(first, "p");
            for (int i = 1; i <= 8; i++) {
                state.record(SourcePosition.ofSequence(i, 0), new SourceOffset("o" + i), Instant.now());
            }
            Maintenance other = new Maintenance(second, config(), later());
            interposing.before(StateTable.ID, () -> assertThat(other.maintain(StateTable.ID, Maintenance.Mode.APPLY).snapshotsExpired()).isEqualTo(7));

            TableReport report = new Maintenance(first, config(), later()).maintain(StateTable.ID, Maintenance.Mode.APPLY);

            assertThat(interposing.fired()).isTrue();
            assertThat(report.failure()).isEmpty();
            assertThat(report.snapshotsKept()).isEqualTo(1);
            assertThat(state.read().orElseThrow().watermark()).isEqualTo(SourcePosition.ofSequence(8, 0));
        }
    }

    private static List<DataFile> dataFiles(Table table) throws IOException {
        List<DataFile> out = new ArrayList<>();
        try (CloseableIterable<FileScanTask> tasks = table.newScan().includeColumnStats().planFiles()) {
            tasks.forEach(t -> out.add(t.file()));
        }
        return out;
    }

    @Test
    void aCompactionBetweenTheIndexUpdateAndTheNextUpsertNeitherLosesNorDuplicatesARow() {
        TableIdentifier history = TableIdentifier.of("silver", "items_history");
        try (Lake lake = open()) {
            for (int batch = 0; batch < 12; batch++) {
                commitRandomBatch(lake, 20);
            }
            // The writers' key indexes are up to date with the tables; the compaction moves every row.
            Compaction compaction = new Compaction(lake.catalog(), config());
            for (TableIdentifier id : List.of(SILVER, history)) {
                assertThat(compaction.compact(id, lake.catalog().load(id).orElseThrow(), Maintenance.Mode.APPLY).outcome())
                        .isEqualTo(CompactionOutcome.COMPACTED);
            }
            for (int batch = 0; batch < 6; batch++) {
                commitRandomBatch(lake, 40);
            }
            assertThat(silverRows(lake.catalog())).isEqualTo(expected());
            assertThat(openVersions(lake.catalog())).isEqualTo(expected());
            assertNoEqualityDeletes(lake.catalog(), SILVER, history);
        }
    }

    @Test
    void aCompactionCommittedRightBeforeTheWritersCommitMakesTheWriterRedoItsMicroBatch() {
        TableIdentifier history = TableIdentifier.of("silver", "items_history");
        InterposingCatalog interposing = new InterposingCatalog();
        try (LakeCatalog catalog = LakeCatalog.open(dir, interposing); LakeCatalog other = LakeCatalog.open(dir);
             Lake lake = Lake.open(catalog, new LakeConfig(dir, LakeConfig.RawLayer.DISABLED), "p", t -> TableOptions.DEFAULT)) {
            for (int batch = 0; batch < 12; batch++) {
                commitRandomBatch(lake, 20);
            }
            Compaction compaction = new Compaction(other, config());
            for (TableIdentifier id : List.of(SILVER, history)) {
                // Another process compacts the table after the writer located the rows it replaces
                // and right before its commit: the writer's deletes would name removed files.
                interposing.before(id, () -> assertThat(compaction.compact(id, other.load(id).orElseThrow(), Maintenance.Mode.APPLY).outcome())
                        .isEqualTo(CompactionOutcome.COMPACTED));
                commitRandomBatch(lake, 40);
                assertThat(interposing.fired()).as("compaction of %s before the writer's commit", id).isTrue();
                assertThat(silverRows(lake.catalog())).isEqualTo(expected());
                assertThat(openVersions(lake.catalog())).isEqualTo(expected());
            }
            commitRandomBatch(lake, 40);
            assertThat(silverRows(lake.catalog())).isEqualTo(expected());
            assertThat(openVersions(lake.catalog())).isEqualTo(expected());
            assertNoEqualityDeletes(lake.catalog(), SILVER, history);
        }
    }

    /** The open, not deleted versions of the history, by key: what silver holds. */
    private static Map<Integer, List<Object>> openVersions(LakeCatalog catalog) {
        Map<Integer, List<Object>> out = new TreeMap<>();
        try (CloseableIterable<Record> rows = LiveRows.of(catalog.load(TableIdentifier.of("silver", "items_history")).orElseThrow())) {
            for (Record r : rows) {
                if (r.getField("_valid_to") == null && !(Boolean) r.getField("_is_deleted")) {
                    List<Object> previous = out.put((Integer) r.getField("id"), java.util.Arrays.asList(r.getField("n"), r.getField("body")));
                    assertThat(previous).as("one open version per key").isNull();
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** No snapshot of the tables added an equality delete file. */
    static void assertNoEqualityDeletes(LakeCatalog catalog, TableIdentifier... ids) {
        for (TableIdentifier id : ids) {
            Table table = catalog.load(id).orElseThrow();
            table.refresh();
            for (Snapshot s : table.snapshots()) {
                for (org.apache.iceberg.DeleteFile d : s.addedDeleteFiles(table.io())) {
                    assertThat(d.content()).as("delete file %s of %s at snapshot %d", d.path(), id, s.snapshotId())
                            .isEqualTo(org.apache.iceberg.FileContent.POSITION_DELETES);
                }
            }
        }
    }

    private Lake open() {
        return Lake.open(new LakeConfig(dir, LakeConfig.RawLayer.DISABLED), "p", t -> TableOptions.DEFAULT);
    }

    /** One micro-batch of {@code size} random inserts, updates and deletes of a few hundred keys. */
    private void commitRandomBatch(Lake lake, int size) {
        List<ChangeEvent> events = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            int id = random.nextInt(300);
            SourcePosition p = SourcePosition.ofSequence(lsn, i);
            Row current = source.get(id);
            if (current != null && random.nextInt(4) == 0) {
                events.add(new ChangeEvent(ChangeOperation.DELETE, SCHEMA, current, null, p, 1, DAY, null));
                source.remove(id);
            } else {
                Row after = Row.of(id, random.nextInt(1000), "body " + random.nextInt());
                events.add(new ChangeEvent(current == null ? ChangeOperation.CREATE : ChangeOperation.UPDATE, SCHEMA, null, after, p, 1, DAY, null));
                source.put(id, after);
            }
        }
        bronzeRows += events.size();
        lake.commit(events, events.get(events.size() - 1).position(), new SourceOffset("o" + lsn), Set.of());
        lsn++;
    }

    private Map<Integer, List<Object>> expected() {
        Map<Integer, List<Object>> out = new TreeMap<>();
        source.forEach((id, row) -> out.put(id, java.util.Arrays.asList(row.get(1), row.get(2))));
        return out;
    }

    private static Map<Integer, List<Object>> silverRows(LakeCatalog catalog) {
        Map<Integer, List<Object>> out = new TreeMap<>();
        try (CloseableIterable<Record> rows = LiveRows.of(catalog.load(SILVER).orElseThrow())) {
            for (Record r : rows) {
                List<Object> previous = out.put((Integer) r.getField("id"), java.util.Arrays.asList(r.getField("n"), r.getField("body")));
                assertThat(previous).as("one live row per key").isNull();
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out;
    }

    /** Every bronze row as text, sorted: a checksum that also counts duplicates. */
    private static List<String> bronze(LakeCatalog catalog) {
        return rows(catalog.load(BRONZE).orElseThrow());
    }

    private static TableReport report(List<TableReport> reports, String table) {
        return reports.stream().filter(r -> r.table().equals(table)).findFirst().orElseThrow(() -> new AssertionError("no report for " + table + ": " + reports));
    }

    static List<Snapshot> snapshots(Table table) {
        List<Snapshot> out = new ArrayList<>();
        table.snapshots().forEach(out::add);
        return out;
    }
}
