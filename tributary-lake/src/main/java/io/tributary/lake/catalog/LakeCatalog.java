package io.tributary.lake.catalog;

import io.tributary.spi.CrashPoint;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import io.tributary.config.CatalogConfig;
import io.tributary.config.LakeConfig;
import io.tributary.lake.storage.LocalCopies;
import io.tributary.lake.storage.WarehouseIO;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * The lake's Iceberg catalog: by default a JDBC catalog on an embedded SQLite file
 * ({@code catalog.db}) inside a local warehouse directory; or, as {@code lake.catalog} says, a JDBC
 * catalog in a PostgreSQL database, or an Iceberg REST catalog ({@link CatalogConfig}). Tables are
 * format-version 2 with Parquet/zstd data files, read and written through the warehouse's
 * {@link FileIO} ({@link WarehouseIO}). Creates tables on first use and evolves their schemas by
 * name (Iceberg spec, "Schema Evolution"): new columns are added, existing field ids are kept.
 */
public final class LakeCatalog implements Closeable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LakeCatalog.class);
    public static final String CATALOG_FILE = "catalog.db";
    private final Catalog catalog;
    private final SupportsNamespaces namespaces;
    private final FileIO io;
    /**
     * Where a commit reads and writes its manifests: in the committing thread. Iceberg waits for
     * the tasks it hands to a pool by polling every 10 ms ({@code Tasks.waitFor}): a one-file row
     * delta took 57-72 ms, about 35 of them on the CPU, and 27-36 ms in the committing thread
     * (tables commit side by side anyway). Iceberg's shared worker pool is also shut down by its
     * JVM shutdown hook, which would fail the last commit of a SIGTERM.
     */
    private final java.util.concurrent.ExecutorService manifestTasks = new CallingThread();
    /** Serializes the creation, schema changes and drops of tables, and the fencing compare-and-swap ({@link #appendIfUnchanged}). */
    private final java.util.concurrent.locks.ReentrantLock commitLock = new java.util.concurrent.locks.ReentrantLock();
    private final java.util.concurrent.ConcurrentMap<TableIdentifier, Table> loaded = new java.util.concurrent.ConcurrentHashMap<>();
    private final LakeConfig config;
    private LocalCopies localCopies;

    private LakeCatalog(Catalog catalog, FileIO io, LakeConfig config) {
        this.catalog = catalog;
        this.namespaces = (SupportsNamespaces) catalog;
        this.io = io;
        this.config = config;
    }

    /**
     * The embedded SQLite catalog of the local warehouse {@code warehouse}.
     *
     * @throws TributaryException LAKE_IO_FAILED when the warehouse directory cannot be created or opened
     */
    public static LakeCatalog open(Path warehouse) {
        return open(new LakeConfig(warehouse, LakeConfig.RawLayer.ENABLED));
    }

    /**
     * As {@link #open(Path)}, on an uninitialized {@code catalog} built with {@link ConnectionPerCall}
     * connections: a subclass can wrap its table operations, as a test's fault injection does.
     */
    public static LakeCatalog open(Path warehouse, JdbcCatalog catalog) {
        return open(new LakeConfig(warehouse, LakeConfig.RawLayer.ENABLED), catalog);
    }

    /**
     * The catalog {@code lake.catalog} names, on the warehouse {@code lake.warehouse}.
     *
     * @throws TributaryException LAKE_IO_FAILED when the warehouse or the catalog cannot be reached
     */
    public static LakeCatalog open(LakeConfig lake) {
        CatalogConfig settings = lake.catalog();
        if (settings.type() == CatalogConfig.Type.REST) {
            return openRest(lake);
        }
        return open(lake, new JdbcCatalog(null, settings.isEmbedded() ? ConnectionPerCall::new : null, true));
    }

    /** As {@link #open(LakeConfig)}, on an uninitialized JDBC {@code catalog} (a test's fault injection). */
    public static LakeCatalog open(LakeConfig lake, JdbcCatalog catalog) {
        CatalogConfig settings = lake.catalog();
        Map<String, String> props = new HashMap<>(WarehouseIO.properties(lake));
        props.put("warehouse", lake.warehouse());
        props.put("jdbc.schema-version", "V1");
        if (settings.isEmbedded()) {
            Path warehouse = lake.localWarehouse();
            try {
                Files.createDirectories(warehouse);
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot create warehouse directory " + warehouse + ": " + e.getMessage(), e);
            }
            props.put("uri", "jdbc:sqlite:" + warehouse.resolve(CATALOG_FILE));
            // Tables commit in parallel: SQLite in WAL mode lets readers go on beside the one writer,
            // and a writer waits for the lock instead of failing at once.
            props.put("jdbc.journal_mode", "WAL");
            props.put("jdbc.busy_timeout", "30000");
        } else {
            props.put("uri", settings.uri().orElseThrow());
            settings.user().ifPresent(u -> props.put("jdbc.user", u));
            settings.password().ifPresent(p -> props.put("jdbc.password", p.reveal()));
        }
        catalog.setConf(new Configuration());
        for (int attempt = 1; ; attempt++) {
            try {
                catalog.initialize("tributary", props);
                break;
            } catch (RuntimeException e) {
                // Processes opening a new catalog at the same moment (lake workers starting together) race
                // to create and upgrade its tables: whoever loses sees them half made, and succeeds again.
                // SQLite also refuses a connection while another sets the new file up (SQLITE_BUSY on connect).
                String why = message(e);
                boolean raced = why.contains("SQL schema") || why.contains("already exists") || why.contains("duplicate") || why.contains("SQLITE_BUSY");
                if (!raced || attempt == 5) {
                    throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot open the Iceberg catalog of the lake in " + lake.warehouse() + " ("
                            + settings.describe() + "): " + message(e), e);
                }
                closeQuietly(catalog);
                try {
                    Thread.sleep(200L * attempt);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Interrupted while opening the Iceberg catalog of the lake in "
                            + lake.warehouse(), interrupted);
                }
            }
        }
        return new LakeCatalog(catalog, WarehouseIO.open(lake), lake);
    }

    private static void closeQuietly(JdbcCatalog catalog) {
        try {
            catalog.close();
        } catch (RuntimeException e) {
            LOG.debug("Cannot close a catalog that failed to open", e);
        }
    }

    private static LakeCatalog openRest(LakeConfig lake) {
        CatalogConfig settings = lake.catalog();
        Map<String, String> props = new HashMap<>(WarehouseIO.properties(lake));
        props.put("uri", settings.uri().orElseThrow());
        settings.warehouse().ifPresent(w -> props.put("warehouse", w));
        settings.token().ifPresent(t -> props.put("token", t.reveal()));
        settings.credential().ifPresent(c -> props.put("credential", c.reveal()));
        org.apache.iceberg.rest.RESTCatalog catalog = new org.apache.iceberg.rest.RESTCatalog();
        catalog.setConf(new Configuration());
        try {
            catalog.initialize("tributary", props);
        } catch (RuntimeException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot open the Iceberg " + settings.describe() + ": " + message(e), e);
        }
        return new LakeCatalog(catalog, WarehouseIO.open(lake), lake);
    }

    /** An exception's message with the messages of its causes, without secrets (a driver may echo a URL). */
    private static String message(Throwable e) {
        StringBuilder text = new StringBuilder(String.valueOf(e.getMessage()));
        for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
            if (c.getMessage() != null && !text.toString().contains(c.getMessage())) {
                text.append(": ").append(c.getMessage());
            }
        }
        return text.toString();
    }

    /** The warehouse's location, a local path or an {@code s3://} URI. */
    public String warehouse() {
        return config.warehouse();
    }

    /** The Iceberg catalog itself, for serving it ({@link RestCatalogService}). */
    Catalog iceberg() {
        return catalog;
    }

    /** The settings this catalog was opened with. */
    public LakeConfig config() {
        return config;
    }

    /**
     * Local files of the warehouse's data and delete files for DuckDB: the files themselves in a
     * local warehouse, copies in {@code <state-dir>/file-cache} (at most {@code lake.s3.cache-size})
     * for one on object storage.
     */
    public synchronized LocalCopies localCopies() {
        if (localCopies == null) {
            localCopies = config.isLocal() ? LocalCopies.DIRECT
                    : LocalCopies.cached(io, config.stateDir().resolve("file-cache"), config.s3().cacheSize().bytes(), config.s3());
        }
        return localCopies;
    }

    /** The warehouse's file IO, for files outside tables (the raw layer) and for reading tables' files. */
    public FileIO io() {
        return io;
    }

    /**
     * The table, loaded once and then kept: this catalog's own commits keep the instance current, so
     * a writer does not re-read table metadata for every micro-batch. Open a new catalog to see
     * commits of other processes.
     */
    public Optional<Table> load(TableIdentifier id) {
        Table cached = loaded.get(id);
        if (cached != null) {
            return Optional.of(cached);
        }
        try {
            Table table = catalog.loadTable(id);
            requireInWarehouse(id, table.location());
            loaded.put(id, table);
            return Optional.of(table);
        } catch (NoSuchTableException e) {
            return Optional.empty();
        } catch (org.apache.iceberg.exceptions.NotFoundException e) {
            // The catalog names a metadata file that is not there: most often a lake moved to another folder.
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read table " + id + ": " + e.getMessage()
                    + (config.catalog().isEmbedded() ? ". The catalog in " + config.localWarehouse().resolve(CATALOG_FILE)
                    + " names files by absolute path (Iceberg keeps absolute locations): was the lake moved or copied from another folder? " + MOVING
                    : ". The " + config.catalog().describe() + " names a metadata file that is not in the warehouse: were files deleted or moved?"), e);
        }
    }

    private static final String MOVING = "A lake is used where it was written; to move one, see the README, 'Moving a lake'";

    /**
     * A table of this catalog lives under its warehouse: a lake copied to another folder still names
     * the original's files, and writing through the copy would change the original's tables.
     *
     * @throws TributaryException LAKE_IO_FAILED naming both folders
     */
    private void requireInWarehouse(TableIdentifier id, String location) {
        if (!LocalFiles.isLocal(location) || !config.catalog().isEmbedded()) {
            return;
        }
        Path tableDir = LocalFiles.path(location);
        Path root = config.localWarehouse();
        if (tableDir.startsWith(root)) {
            return;
        }
        try {
            // The same folders under other names (a symbolic link) are the same lake.
            if (Files.exists(tableDir) && tableDir.toRealPath().startsWith(root.toRealPath())) {
                return;
            }
        } catch (java.io.IOException e) {
            // Reported below.
        }
        throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Table " + id + " of the lake in " + root + " lives in " + tableDir
                + ", outside it: the lake was moved or copied from another folder, and its catalog still names the original's files. " + MOVING);
    }

    public List<TableIdentifier> tables(String namespace) {
        Namespace ns = Namespace.of(namespace);
        if (!namespaces.namespaceExists(ns)) {
            return List.of();
        }
        return catalog.listTables(ns).stream().sorted(java.util.Comparator.comparing(TableIdentifier::name)).toList();
    }

    /**
     * Loads the table, creating it with {@code schema} and the spec {@code partitioning} builds, or
     * adding the columns of {@code schema} it lacks.
     */
    public Table ensure(TableIdentifier id, Schema schema, Function<Schema, PartitionSpec> partitioning) {
        Table known = loaded.get(id);
        if (known != null && hasColumnsOf(known, schema)) {
            // Nothing to change: no wait for the commits of other tables.
            return known;
        }
        commitLock.lock();
        try {
            return ensureLocked(id, schema, partitioning, Map.of());
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Loads the table, creating it with {@code schema}, or evolving it to follow a schema change of
     * its source table as {@link SchemaEvolution} describes. Reaches {@link CrashPoint#SCHEMA_EVOLVED}
     * right after a schema update is committed.
     *
     * @throws TributaryException INCOMPATIBLE_SCHEMA_CHANGE when the table cannot follow the change
     */
    public Table ensure(TableIdentifier id, Schema schema, Function<Schema, PartitionSpec> partitioning, SchemaEvolution evolution) {
        Table known = loaded.get(id);
        if (known != null && evolution.plan(known, schema).isEmpty()) {
            // The table already follows: no wait for the commits of other tables (only this table's
            // one writer changes its schema, so the plan cannot change before the writer commits).
            return known;
        }
        commitLock.lock();
        try {
            Optional<Table> existing = load(id);
            if (existing.isEmpty()) {
                return ensureLocked(id, schema, partitioning, evolution.initialProperties(schema));
            }
            Table table = existing.get();
            SchemaEvolution.Plan plan = evolution.plan(table, schema);
            if (!plan.isEmpty()) {
                plan.apply(table, evolution.at());
                table.refresh();
                if (plan.changesSchema()) {
                    LOG.info("Table {} follows the schema change of {} at {}: {}", id, evolution.source(), evolution.at(), plan);
                    CrashPoint.reach(CrashPoint.SCHEMA_EVOLVED);
                }
            }
            return table;
        } finally {
            commitLock.unlock();
        }
    }

    /**
     * Commits a table update. Updates of different tables commit side by side: each writes its
     * manifests and metadata file in its own thread, and only the swap of the metadata location is
     * serialized, by SQLite (one writer at a time, the others wait up to {@code jdbc.busy_timeout};
     * it holds its write lock for one UPDATE). Two updates of one table (a writer and a compaction)
     * race as Iceberg's optimistic concurrency has them: the loser refreshes and retries, or fails
     * validation.
     */
    public void commit(org.apache.iceberg.PendingUpdate<?> update) {
        if (update instanceof org.apache.iceberg.SnapshotUpdate<?> snapshotUpdate) {
            // Manifests are read and written in this thread (manifestTasks).
            snapshotUpdate.scanManifestsWith(manifestTasks);
        }
        update.commit();
    }

    /**
     * Appends an empty snapshot whose summary {@code plan} computes from the current snapshot's
     * summary (empty for a table without snapshots), only if no other commit lands in between: a
     * compare-and-swap of the table's metadata location in the catalog, without the retry on a newer
     * version that Iceberg's own updates make (a fencing check must see the version it replaces).
     * {@code plan} may throw to refuse.
     *
     * @throws org.apache.iceberg.exceptions.CommitFailedException when another commit landed first
     */
    public void appendIfUnchanged(TableIdentifier id, java.util.function.UnaryOperator<Map<String, String>> plan) {
        commitLock.lock();
        try {
            Table table = load(id).orElseThrow(() -> new NoSuchTableException("Table does not exist: %s", id));
            org.apache.iceberg.TableOperations ops = ((org.apache.iceberg.HasTableOperations) table).operations();
            org.apache.iceberg.TableMetadata base = ops.refresh();
            Map<String, String> summary = plan.apply(base.currentSnapshot() == null ? Map.of() : base.currentSnapshot().summary());
            org.apache.iceberg.BaseTransaction transaction = (org.apache.iceberg.BaseTransaction) org.apache.iceberg.Transactions.newTransaction(id.toString(), ops);
            if (transaction.startMetadata() != base) {
                // Another thread of this process refreshed the table meanwhile (a read of its summary):
                // the plan was made on older metadata than the commit would build on.
                throw new org.apache.iceberg.exceptions.CommitFailedException("Table %s changed while its next snapshot was planned", id);
            }
            org.apache.iceberg.AppendFiles append = transaction.newFastAppend();
            summary.forEach(append::set);
            append.commit();
            ops.commit(transaction.startMetadata(), transaction.currentMetadata());
        } finally {
            commitLock.unlock();
        }
    }

    /** The summary of the table's current snapshot as the catalog holds it now (empty without one), re-reading commits of other processes. */
    public Map<String, String> currentSummary(TableIdentifier id) {
        Optional<Table> table = load(id);
        if (table.isEmpty()) {
            return Map.of();
        }
        org.apache.iceberg.TableMetadata current = ((org.apache.iceberg.HasTableOperations) table.get()).operations().refresh();
        return current.currentSnapshot() == null ? Map.of() : current.currentSnapshot().summary();
    }

    private Table ensureLocked(TableIdentifier id, Schema schema, Function<Schema, PartitionSpec> partitioning, Map<String, String> extraProperties) {
        Optional<Table> existing = load(id);
        if (existing.isEmpty()) {
            Namespace ns = id.namespace();
            if (!namespaces.namespaceExists(ns)) {
                try {
                    namespaces.createNamespace(ns);
                } catch (org.apache.iceberg.exceptions.AlreadyExistsException raced) {
                    // another writer created it first
                } catch (RuntimeException raced) {
                    // The JDBC catalog reports a namespace another process created at the same moment as
                    // a failed INSERT (a primary key violation), not as AlreadyExistsException.
                    if (!namespaces.namespaceExists(ns)) {
                        throw raced;
                    }
                }
            }
            Map<String, String> properties = new HashMap<>(Map.of(
                    TableProperties.FORMAT_VERSION, "2",
                    TableProperties.PARQUET_COMPRESSION, "zstd",
                    TableProperties.DEFAULT_FILE_FORMAT, "parquet",
                    TableProperties.METADATA_DELETE_AFTER_COMMIT_ENABLED, "true",
                    TableProperties.METADATA_PREVIOUS_VERSIONS_MAX, "20"));
            if (schema.findField("_position") != null) {
                // Full bounds for the position column, so a filter on it can match whole files.
                properties.put(TableProperties.METRICS_MODE_COLUMN_CONF_PREFIX + "_position", "full");
            }
            properties.putAll(extraProperties);
            try {
                Table created = catalog.buildTable(id, schema).withPartitionSpec(partitioning.apply(schema)).withProperties(properties).create();
                loaded.put(id, created);
                return created;
            } catch (org.apache.iceberg.exceptions.AlreadyExistsException raced) {
                // Another process (a lake worker starting beside this one) created it first.
                existing = Optional.of(catalog.loadTable(id));
                loaded.put(id, existing.get());
            }
        }
        Table table = existing.get();
        if (!hasColumnsOf(table, schema)) {
            table.updateSchema().unionByNameWith(schema).commit();
            table.refresh();
        }
        return table;
    }

    /** Whether {@code table} has a column of every name of {@code schema}. */
    private static boolean hasColumnsOf(Table table, Schema schema) {
        return schema.columns().stream().allMatch(f -> table.schema().findField(f.name()) != null);
    }

    public void dropTable(TableIdentifier id) {
        dropTable(id, true);
    }

    /**
     * Removes the table from the catalog; with {@code purge} its data and metadata files are deleted
     * too, without they stay for orphan-file removal (a table created again at the same location
     * keeps the folder).
     */
    public void dropTable(TableIdentifier id, boolean purge) {
        commitLock.lock();
        try {
            loaded.remove(id);
            catalog.dropTable(id, purge);
        } finally {
            commitLock.unlock();
        }
    }


    /** An executor that runs each task in the thread that submits it. */
    private static final class CallingThread extends java.util.concurrent.AbstractExecutorService {
        private volatile boolean shutdown;

        @Override
        public void execute(Runnable task) {
            task.run();
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, java.util.concurrent.TimeUnit unit) {
            return true;
        }
    }

    @Override
    public void close() {
        manifestTasks.shutdown();
        try {
            if (catalog instanceof Closeable closeable) {
                closeable.close();
            }
        } catch (IOException e) {
            LOG.warn("Cannot close the catalog: {}", e.getMessage());
        } finally {
            io.close();
        }
    }
}
