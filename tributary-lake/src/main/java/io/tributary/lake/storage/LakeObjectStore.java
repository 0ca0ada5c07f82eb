package io.tributary.lake.storage;

import io.tributary.config.S3Config;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.ObjectStore;
import io.tributary.spi.TributaryException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.CatalogProperties;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.SupportsPrefixOperations;

/**
 * The lake's object storage lent to sources ({@link ObjectStore}): Iceberg's {@code S3FileIO} with
 * the {@code lake.s3} settings and the lake's retrying client, opened on first use (a pipeline
 * whose source reads no object storage never creates it). Listing is S3's ListObjectsV2 under the
 * prefix; the modification time is the object's {@code LastModified}.
 */
public final class LakeObjectStore implements ObjectStore, AutoCloseable {
    private final S3Config s3;
    private FileIO io;

    public LakeObjectStore(S3Config s3) {
        this.s3 = s3;
    }

    private synchronized FileIO io() {
        if (io == null) {
            Map<String, String> props = WarehouseIO.s3Properties(s3);
            io = CatalogUtil.loadFileIO(props.get(CatalogProperties.FILE_IO_IMPL), props, null);
        }
        return io;
    }

    @Override
    public List<StoredObject> list(String prefix) {
        List<StoredObject> out = new ArrayList<>();
        try {
            for (FileInfo f : ((SupportsPrefixOperations) io()).listPrefix(prefix)) {
                out.add(new StoredObject(f.location(), f.size(), f.createdAtMillis()));
            }
        } catch (RuntimeException e) {
            throw new TributaryException(ErrorCode.SOURCE_UNREACHABLE, "Cannot list " + prefix + " (lake.s3 settings): " + e.getMessage(), e);
        }
        return out;
    }

    @Override
    public InputStream open(String location) {
        try {
            return io().newInputFile(location).newStream();
        } catch (RuntimeException e) {
            throw new TributaryException(ErrorCode.SOURCE_UNREACHABLE, "Cannot read " + location + " (lake.s3 settings): " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void close() {
        if (io != null) {
            io.close();
            io = null;
        }
    }
}
