package io.tributary.lake.commit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.config.LakeConfig;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.layout.Layer;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.ManifestFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.encryption.EncryptionManager;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.LocationProvider;
import org.apache.iceberg.jdbc.JdbcCatalog;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * ARCHITECTURE.md, commit protocol step 5: when the catalog cannot say whether a commit happened
 * ({@link CommitStateUnknownException}), nothing of that commit is deleted, the micro-batch is not
 * acknowledged, and a restart reconciles from the {@code tributary.position} snapshot summary, for
 * both truths: the commit landed, or it did not. (Here rather than in tributary-lake: the tables are
 * read back through DuckDB, as users read them.)
 */
class AmbiguousCommitTest {
    private static final TableId ORDERS = new TableId("public", "orders");
    private static final TableSchema SCHEMA = new TableSchema(ORDERS,
            List.of(Column.required("id", ColumnType.Primitive.INT64, "int8"), Column.nullable("note", ColumnType.Primitive.STRING, "text")),
            List.of("id"));

    @TempDir
    Path warehouse;

    /** What the catalog really did before it answered "unknown". */
    enum Outcome { COMMITTED, NOT_COMMITTED }

    static Stream<Arguments> cases() {
        return Stream.of(Layer.BRONZE, Layer.SILVER).flatMap(layer -> Stream.of(Outcome.values()).map(o -> Arguments.of(layer, o)));
    }

    @ParameterizedTest
    @MethodSource("cases")
    void unknownCommitStateDeletesNothingAndIsReconciledOnRestart(Layer layer, Outcome outcome) {
        LakeConfig config = new LakeConfig(warehouse, LakeConfig.RawLayer.DISABLED);
        List<ChangeEvent> first = List.of(insert(100, 0, 1, "a"), insert(100, 1, 2, "b"), insert(100, 2, 3, "c"));
        List<ChangeEvent> second = List.of(update(200, 0, 1, "a2"), insert(200, 1, 4, "d"), delete(200, 2, 2, "b"));
        TableIdentifier target = TableIdentifier.of(layer.namespace(), "orders");

        FaultyCatalog faulty = new FaultyCatalog();
        try (Lake lake = Lake.open(LakeCatalog.open(warehouse, faulty), config, "p", t -> TableOptions.DEFAULT)) {
            lake.commit(first, first.get(2).position(), new SourceOffset("offset-1"), Set.of());
            faulty.arm(target, outcome);
            assertThatThrownBy(() -> lake.commit(second, second.get(2).position(), new SourceOffset("offset-2"), Set.of()))
                    .isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.LAKE_COMMIT_FAILED))
                    .hasMessageContaining("Cannot confirm the commit of orders")
                    .hasMessageContaining("Nothing was deleted");
            assertThat(faulty.fired()).as("the fault fired on %s", target).isNotNull();
            assertThat(lake.committedState().orElseThrow().watermark()).as("not acknowledged").isEqualTo(first.get(2).position());
        }
        // Everything the ambiguous commit wrote is still there, whether it landed or not.
        assertThat(faulty.fired().files()).isNotEmpty().allSatisfy(f -> assertThat(Path.of(f)).exists());

        // Restart: a new lake over the same warehouse; the source re-delivers from the watermark.
        try (Lake lake = Lake.open(config, "p", t -> TableOptions.DEFAULT)) {
            SourcePosition resume = lake.committedState().orElseThrow().watermark();
            List<ChangeEvent> redelivered = second.stream().filter(e -> e.position().isAfter(resume)).toList();
            lake.commit(redelivered, second.get(2).position(), new SourceOffset("offset-2"), Set.of());

            try (QueryEngine q = QueryEngine.open(lake.tables())) {
                assertThat(q.query("SELECT _position FROM bronze.orders ORDER BY 1").rows()).as("every event exactly once in bronze")
                        .containsExactlyElementsOf(Stream.concat(first.stream(), second.stream()).map(e -> List.<Object>of(e.position().encoded())).sorted(
                                java.util.Comparator.comparing(l -> (String) l.get(0))).toList());
                assertThat(q.query("SELECT id || '=' || note FROM silver.orders ORDER BY id").rows())
                        .containsExactly(List.of("1=a2"), List.of("3=c"), List.of("4=d"));
            }
            Table bronze = lake.load(Layer.BRONZE, "orders").orElseThrow();
            Table silver = lake.load(Layer.SILVER, "orders").orElseThrow();
            assertThat(lake.committedState().orElseThrow().watermark()).isEqualTo(second.get(2).position());
            assertEveryReferencedFileExists(bronze);
            assertEveryReferencedFileExists(silver);
        }
    }

    /** Every snapshot still reads: its manifest list, manifests, data and delete files all exist. */
    private static void assertEveryReferencedFileExists(Table table) {
        for (Snapshot snapshot : table.snapshots()) {
            assertThat(Path.of(snapshot.manifestListLocation())).exists();
            for (ManifestFile manifest : snapshot.allManifests(table.io())) {
                assertThat(Path.of(manifest.path())).exists();
            }
            try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(snapshot.snapshotId()).planFiles()) {
                for (FileScanTask task : tasks) {
                    assertThat(Path.of(task.file().path().toString())).exists();
                    task.deletes().forEach(d -> assertThat(Path.of(d.path().toString())).exists());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static ChangeEvent insert(long lsn, int index, long id, String note) {
        return new ChangeEvent(ChangeOperation.CREATE, SCHEMA, null, Row.of(id, note), position(lsn, index), 7, Instant.parse("2026-01-02T03:04:05Z"), null);
    }

    private static ChangeEvent update(long lsn, int index, long id, String note) {
        return new ChangeEvent(ChangeOperation.UPDATE, SCHEMA, Row.of(id, null), Row.of(id, note), position(lsn, index), 8, Instant.parse("2026-01-02T03:04:06Z"), null);
    }

    private static ChangeEvent delete(long lsn, int index, long id, String note) {
        return new ChangeEvent(ChangeOperation.DELETE, SCHEMA, Row.of(id, note), null, position(lsn, index), 8, Instant.parse("2026-01-02T03:04:06Z"), null);
    }

    private static SourcePosition position(long lsn, int index) {
        return SourcePosition.ofSequence(lsn, index);
    }

    /** The new snapshot's manifest list, manifests and added files, as the fault saw them. */
    record Fired(List<String> files) {
    }

    /**
     * A JDBC catalog whose table operations, once armed for one table, answer its next commit with
     * {@link CommitStateUnknownException}: after really committing, or without committing.
     */
    static final class FaultyCatalog extends JdbcCatalog {
        private final AtomicReference<TableIdentifier> armedFor = new AtomicReference<>();
        private volatile Outcome outcome;
        private volatile Fired fired;

        FaultyCatalog() {
            super(null, io.tributary.lake.catalog.ConnectionPerCall::new, true);
        }

        void arm(TableIdentifier table, Outcome outcome) {
            this.outcome = outcome;
            armedFor.set(table);
        }

        /** Whether the fault is armed for {@code id}; disarms it then (it fires once). */
        private boolean disarm(TableIdentifier id) {
            TableIdentifier armed = armedFor.get();
            return id.equals(armed) && armedFor.compareAndSet(armed, null);
        }

        Fired fired() {
            return fired;
        }

        @Override
        protected TableOperations newTableOps(TableIdentifier id) {
            return new FaultyOperations(super.newTableOps(id), id);
        }

        private final class FaultyOperations implements TableOperations {
            private final TableOperations delegate;
            private final TableIdentifier id;

            FaultyOperations(TableOperations delegate, TableIdentifier id) {
                this.delegate = delegate;
                this.id = id;
            }

            @Override
            public TableMetadata current() {
                return delegate.current();
            }

            @Override
            public TableMetadata refresh() {
                return delegate.refresh();
            }

            @Override
            public void commit(TableMetadata base, TableMetadata metadata) {
                if (!disarm(id)) {
                    delegate.commit(base, metadata);
                    return;
                }
                fired = new Fired(filesOf(metadata.currentSnapshot()));
                if (outcome == Outcome.COMMITTED) {
                    delegate.commit(base, metadata);
                }
                throw new CommitStateUnknownException(new java.sql.SQLTransientConnectionException("connection reset while committing " + id));
            }

            private List<String> filesOf(Snapshot snapshot) {
                List<String> files = new ArrayList<>();
                files.add(snapshot.manifestListLocation());
                for (ManifestFile m : snapshot.allManifests(io())) {
                    if (m.snapshotId() != null && m.snapshotId() == snapshot.snapshotId()) {
                        files.add(m.path());
                    }
                }
                snapshot.addedDataFiles(io()).forEach((DataFile f) -> files.add(f.path().toString()));
                snapshot.addedDeleteFiles(io()).forEach(f -> files.add(f.path().toString()));
                return files;
            }

            @Override
            public FileIO io() {
                return delegate.io();
            }

            @Override
            public EncryptionManager encryption() {
                return delegate.encryption();
            }

            @Override
            public String metadataFileLocation(String fileName) {
                return delegate.metadataFileLocation(fileName);
            }

            @Override
            public LocationProvider locationProvider() {
                return delegate.locationProvider();
            }

            @Override
            public TableOperations temp(TableMetadata uncommittedMetadata) {
                return delegate.temp(uncommittedMetadata);
            }

            @Override
            public long newSnapshotId() {
                return delegate.newSnapshotId();
            }

            @Override
            public boolean requireStrictCleanup() {
                return delegate.requireStrictCleanup();
            }
        }
    }
}
