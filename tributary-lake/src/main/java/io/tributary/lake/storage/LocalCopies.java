package io.tributary.lake.storage;

import io.tributary.config.S3Config;
import io.tributary.lake.catalog.LocalFiles;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.apache.iceberg.io.FileIO;

/**
 * Local files for the warehouse's data and delete files, for engines that read files by path
 * (DuckDB's {@code read_parquet}). A local warehouse's files are used where they are
 * ({@link #DIRECT}); files on object storage are downloaded through the warehouse's {@link FileIO}
 * into a folder of the state directory and kept there, least recently used first out once the
 * folder holds more than its bound. Data and delete files are never changed once written (Iceberg
 * spec: a location names one immutable file), so a kept copy is always current. A copy used in the
 * last {@link #PINNED} is not evicted, so a query's own files stay while it runs: the bound is
 * exceeded rather than a running query broken. Safe for concurrent use; several processes may
 * share the folder (a copy is written under a temporary name and moved into place).
 *
 * <p>A reader that speaks S3 itself may read an object store's files where they are instead,
 * with {@link #s3Reads()}.
 */
public interface LocalCopies {
    /** How long a copy stays after its last use regardless of the bound. */
    Duration PINNED = Duration.ofMinutes(10);

    /**
     * The local path of the file at {@code location}.
     *
     * @throws TributaryException LAKE_IO_FAILED when it cannot be downloaded
     */
    Path localFile(String location);

    /** Whether every location is its own local file (a local warehouse). */
    boolean isDirect();

    /** For files on object storage, how a reader that speaks S3 itself reaches them; empty for a local warehouse. */
    default Optional<S3Reads> s3Reads() {
        return Optional.empty();
    }

    /** A local warehouse: each location is a path or a {@code file:} URI. */
    LocalCopies DIRECT = new LocalCopies() {
        @Override
        public Path localFile(String location) {
            return LocalFiles.path(location);
        }

        @Override
        public boolean isDirect() {
            return true;
        }
    };

    /**
     * Copies in {@code folder}, at most about {@code maxBytes} of them, downloaded through {@code io}
     * from the object store that {@code s3} describes.
     */
    static LocalCopies cached(FileIO io, Path folder, long maxBytes, S3Config s3) {
        return new Cache(io, folder, maxBytes, new S3Reads(s3));
    }

    /** The bounded folder of copies. */
    final class Cache implements LocalCopies {
        private final FileIO io;
        private final Path folder;
        private final long maxBytes;
        private final S3Reads s3Reads;
        /** Size and last use (epoch ms) of the copies this process knows, by file name. */
        private final Map<String, long[]> copies = new HashMap<>();
        private long total;

        Cache(FileIO io, Path folder, long maxBytes, S3Reads s3Reads) {
            this.io = io;
            this.s3Reads = s3Reads;
            this.folder = folder;
            this.maxBytes = maxBytes;
            try {
                Files.createDirectories(folder);
                try (Stream<Path> files = Files.list(folder)) {
                    for (Path p : files.toList()) {
                        String name = p.getFileName().toString();
                        if (name.startsWith(".")) {
                            Files.deleteIfExists(p); // a download that never finished
                            continue;
                        }
                        long size = Files.size(p);
                        copies.put(name, new long[] {size, Files.getLastModifiedTime(p).toMillis()});
                        total += size;
                    }
                }
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot open the file cache in " + folder + ": " + e.getMessage(), e);
            }
        }

        @Override
        public boolean isDirect() {
            return false;
        }

        @Override
        public Optional<S3Reads> s3Reads() {
            return Optional.of(s3Reads);
        }

        @Override
        public Path localFile(String location) {
            String name = name(location);
            Path target = folder.resolve(name);
            long now = System.currentTimeMillis();
            synchronized (this) {
                long[] known = copies.get(name);
                if (known != null && Files.exists(target)) {
                    known[1] = now;
                    return target;
                }
            }
            Path temp = folder.resolve("." + name + "." + java.util.UUID.randomUUID() + ".tmp");
            long size;
            try (InputStream in = io.newInputFile(location).newStream()) {
                size = Files.copy(in, temp);
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException | RuntimeException e) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // a leftover temporary file is removed when the cache opens next
                }
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot copy " + location + " to the file cache in " + folder + ": " + e.getMessage(), e);
            }
            synchronized (this) {
                long[] old = copies.put(name, new long[] {size, now});
                total += size - (old == null ? 0 : old[0]);
                evict(now);
            }
            return target;
        }

        private void evict(long now) {
            if (total <= maxBytes) {
                return;
            }
            long pinnedSince = now - PINNED.toMillis();
            var oldest = copies.entrySet().stream().filter(e -> e.getValue()[1] < pinnedSince)
                    .sorted(java.util.Comparator.comparingLong(e -> e.getValue()[1])).map(Map.Entry::getKey).toList();
            for (String name : oldest) {
                if (total <= maxBytes) {
                    return;
                }
                try {
                    Files.deleteIfExists(folder.resolve(name));
                } catch (IOException e) {
                    continue;
                }
                total -= copies.remove(name)[0];
            }
        }

        /** A file name per location: a digest of it, with the location's own name for people reading the folder. */
        private static String name(String location) {
            try {
                byte[] digest = MessageDigest.getInstance("SHA-256").digest(location.getBytes(StandardCharsets.UTF_8));
                String base = location.substring(location.lastIndexOf('/') + 1);
                if (base.length() > 80) {
                    base = base.substring(base.length() - 80);
                }
                return HexFormat.of().formatHex(digest, 0, 12) + "-" + base;
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
