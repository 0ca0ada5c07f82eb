package io.tributary.lake.silver;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.types.Types;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The open {@link KeyIndex}es of one writer, one per table, each in the RocksDB folder {@code <state-dir>/<pipeline>/key-index/<table>.rocksdb}:
 * opened (checked against the table, or built again from it) on first use, dropped when they fail
 * or fall behind the table, and then opened again, built from the table.
 */
final class KeyIndexes {
    private static final Logger LOG = LoggerFactory.getLogger(KeyIndexes.class);

    private final Path folder;
    private final KeyIndex.Kind kind;
    private final Map<TableIdentifier, KeyIndex> open = new ConcurrentHashMap<>();
    private final Set<TableIdentifier> unavailable = ConcurrentHashMap.newKeySet();

    KeyIndexes(Path folder, KeyIndex.Kind kind) {
        this.folder = folder;
        this.kind = kind;
    }

    /**
     * The index of a table, opened on first use (and after a schema change); null when it cannot be
     * opened (another process holds it): the caller reads the table then.
     */
    KeyIndex get(TableIdentifier id, Table table, Schema schema, List<Types.NestedField> keyFields) {
        KeyIndex index = open.get(id);
        if (index != null && index.schemaId() != schema.schemaId()) {
            open.remove(id);
            closeQuietly(index);
            index = null;
        }
        if (index == null && !unavailable.contains(id)) {
            removeLegacyFile(id);
            try {
                index = KeyIndex.open(file(id), kind, table, schema, keyFields);
                open.put(id, index);
            } catch (RuntimeException | AssertionError e) {
                LOG.warn("Cannot use the key index of {} ({}); reading the table instead", id, e.getMessage());
                unavailable.add(id);
            }
        }
        return index;
    }

    private Path file(TableIdentifier id) {
        return folder.resolve(id + ".rocksdb");
    }

    /** Removes the H2 MVStore file an earlier release kept as the table's index ({@code <table>.mv.db}). */
    private void removeLegacyFile(TableIdentifier id) {
        Path legacy = folder.resolve(id + ".mv.db");
        try {
            if (java.nio.file.Files.deleteIfExists(legacy)) {
                LOG.info("Removed the key index file {} of an earlier release; the index of {} is built again from the table", legacy, id);
            }
        } catch (java.io.IOException e) {
            LOG.warn("Cannot remove the key index file {} of an earlier release ({})", legacy, e.toString());
        }
    }

    /**
     * Closes a table's index without recording anything more: it no longer follows the table (the
     * table moved on without it, or a commit failed), and the next {@link #get} checks its stamp
     * against the table and builds it again.
     */
    void release(TableIdentifier id) {
        KeyIndex index = open.remove(id);
        if (index != null) {
            closeQuietly(index);
        }
    }

    /**
     * As {@link #release}, and lets the next {@link #get} try to open an index another process
     * held before (a lake worker that took the table over from another worker on this host).
     */
    void handOver(TableIdentifier id) {
        release(id);
        unavailable.remove(id);
    }

    /** Stops using a table's index after it failed, and removes its folder: the next {@link #get} builds it again from the table. */
    void drop(TableIdentifier id, Throwable failure) {
        LOG.warn("The key index of {} failed ({}); it is built again from the table", id, failure.toString());
        KeyIndex index = open.remove(id);
        if (index != null) {
            try {
                index.close();
            } catch (RuntimeException | AssertionError e) {
                LOG.debug("Cannot close the failed index of {}", id, e);
            }
        }
        KeyIndex.delete(file(id));
    }

    void closeAll() {
        open.values().forEach(KeyIndexes::closeQuietly);
        open.clear();
    }

    private static void closeQuietly(KeyIndex index) {
        try {
            index.close();
        } catch (RuntimeException e) {
            LOG.debug("Cannot close a key index", e);
        }
    }
}
