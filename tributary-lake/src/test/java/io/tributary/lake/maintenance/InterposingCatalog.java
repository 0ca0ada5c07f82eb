package io.tributary.lake.maintenance;

import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.encryption.EncryptionManager;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.LocationProvider;
import org.apache.iceberg.jdbc.JdbcCatalog;

/**
 * A JDBC catalog whose table operations, once armed for a table, run an action (another process's
 * commit) right before its next metadata swap, after the commit was planned on the older metadata.
 */
final class InterposingCatalog extends JdbcCatalog {
    private final AtomicReference<TableIdentifier> armedFor = new AtomicReference<>();
    private volatile Runnable action;
    private volatile boolean fired;

    InterposingCatalog() {
        super(null, io.tributary.lake.catalog.ConnectionPerCall::new, true);
    }

    void before(TableIdentifier table, Runnable action) {
        this.action = action;
        this.fired = false;
        armedFor.set(table);
    }

    boolean fired() {
        return fired;
    }

    @Override
    protected TableOperations newTableOps(TableIdentifier id) {
        TableOperations delegate = super.newTableOps(id);
        return new TableOperations() {
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
                TableIdentifier armed = armedFor.get();
                if (id.equals(armed) && armedFor.compareAndSet(armed, null)) {
                    action.run();
                    fired = true;
                }
                delegate.commit(base, metadata);
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
        };
    }
}
