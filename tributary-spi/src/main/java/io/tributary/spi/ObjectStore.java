package io.tributary.spi;

import java.io.InputStream;
import java.util.List;

/**
 * Object storage as the lake reaches it ({@code lake.s3}: S3 or an S3-compatible store), lent to
 * sources that read files from it (a files source with an {@code s3://} landing prefix), so that
 * sources need no storage client of their own.
 */
public interface ObjectStore {
    /** An object: its full location ({@code s3://bucket/key}), size in bytes and last modification, ms since the epoch. */
    record StoredObject(String location, long size, long modifiedMillis) {
    }

    /**
     * Every object whose location starts with {@code prefix}, at any depth.
     *
     * @throws TributaryException {@link ErrorCode#SOURCE_UNREACHABLE} when the store cannot be listed
     */
    List<StoredObject> list(String prefix);

    /**
     * The content of the object at {@code location}.
     *
     * @throws TributaryException {@link ErrorCode#SOURCE_UNREACHABLE} when it cannot be read
     */
    InputStream open(String location);
}
