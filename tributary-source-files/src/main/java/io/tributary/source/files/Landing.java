package io.tributary.source.files;

import io.tributary.config.FilesSourceConfig;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.ObjectStore;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The landing folder (or object-storage prefix, read through the lake's {@link ObjectStore}) of a
 * files source: lists the files each table's pattern matches (a glob relative to
 * {@code source.path}, '/' separated: {@code *} within one folder, {@code **} across folders; or,
 * after {@code regex:}, a regular expression over the relative path),
 * compares them with what the ledger holds, hands out local copies to read, and computes the
 * checksum that tells a re-delivered file with new content from one merely touched.
 */
final class Landing {
    private static final String S3 = "s3://";
    /** A local folder's root; null for an object-storage prefix. */
    private final Path root;
    /** An object-storage prefix ({@code s3://bucket/prefix}, no trailing '/'); null for a local folder. */
    private final String prefix;
    private final ObjectStore store;

    /**
     * @throws TributaryException {@link ErrorCode#INVALID_CONFIG} for a prefix of a scheme other
     *         than {@code s3://}, or an object-storage prefix where no object storage is lent
     */
    Landing(FilesSourceConfig settings, Optional<ObjectStore> store) {
        String path = settings.path();
        if (path.startsWith(S3)) {
            this.prefix = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
            this.root = null;
            this.store = store.orElseThrow(() -> new TributaryException(ErrorCode.INVALID_CONFIG, "source.path " + path
                    + ": an object-storage landing prefix is read through the lake's storage settings (lake.s3), and this command has no lake"));
        } else if (path.contains("://")) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "source.path: " + path + ": expected a local folder or s3://bucket/prefix");
        } else {
            this.root = Path.of(path).toAbsolutePath().normalize();
            this.prefix = null;
            this.store = null;
        }
    }

    /** The folder or prefix, for messages. */
    String root() {
        return root != null ? root.toString() : prefix;
    }

    /** A file of the landing folder: its path relative to the root ('/' separated), size and modification time (ms). */
    record Listed(String path, long size, long modifiedMillis) {
    }

    /**
     * The files under the root that {@code pattern} matches, by relative path.
     *
     * @throws TributaryException {@link ErrorCode#SOURCE_UNREACHABLE} when the folder cannot be read
     */
    List<Listed> list(String pattern) {
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher(pattern.startsWith(FilesSourceConfig.REGEX_PREFIX) ? pattern : "glob:" + pattern);
        if (root == null) {
            List<Listed> out = new ArrayList<>();
            for (ObjectStore.StoredObject o : store.list(prefix + "/")) {
                String relative = o.location().substring(prefix.length() + 1);
                if (!relative.isEmpty() && !relative.endsWith("/") && matcher.matches(Path.of(relative))) {
                    out.add(new Listed(relative, o.size(), o.modifiedMillis()));
                }
            }
            out.sort(Comparator.comparing(Listed::path));
            return out;
        }
        if (!Files.isDirectory(root)) {
            throw new TributaryException(ErrorCode.SOURCE_UNREACHABLE, "source.path " + root + " is not a folder (or cannot be read)");
        }
        List<Listed> out = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            walk.forEach(p -> {
                Path relative = root.relativize(p);
                if (!matcher.matches(relative)) {
                    return;
                }
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
                    if (a.isRegularFile()) {
                        out.add(new Listed(relative.toString().replace(java.io.File.separatorChar, '/'), a.size(), a.lastModifiedTime().toMillis()));
                    }
                } catch (IOException e) {
                    // Removed between the listing and the look: the next poll sees the folder as it is then.
                }
            });
        } catch (IOException | UncheckedIOException e) {
            throw new TributaryException(ErrorCode.SOURCE_UNREACHABLE, "Cannot list source.path " + root + ": " + e.getMessage(), e);
        }
        out.sort(Comparator.comparing(Listed::path));
        return out;
    }

    /** The files of a listing that are new or changed (size or modification time) against the ledger's {@code ingested}. */
    static List<Listed> changed(List<Listed> listed, Map<String, IngestedFiles.Ingested> ingested) {
        List<Listed> out = new ArrayList<>();
        for (Listed f : listed) {
            IngestedFiles.Ingested before = ingested.get(f.path());
            if (before == null || before.size() != f.size() || before.modifiedMillis() != f.modifiedMillis()) {
                out.add(f);
            }
        }
        return out;
    }

    /** Where a file is, for messages: its local path or its object's location. */
    String describe(String relative) {
        return root != null ? root.resolve(relative).toString() : prefix + "/" + relative;
    }

    /**
     * A local copy of a listed file to read: the file itself in a local folder, else a download of
     * the object into a temporary folder (same file name, so its compression is recognized),
     * removed when the copy is closed.
     */
    Local fetch(Listed file) {
        if (root != null) {
            return new Local(root.resolve(file.path()), null);
        }
        try {
            Path folder = Files.createTempDirectory("tributary-landing");
            Path copy = folder.resolve(Path.of(file.path()).getFileName().toString());
            try (InputStream in = store.open(prefix + "/" + file.path())) {
                Files.copy(in, copy);
            }
            return new Local(copy, folder);
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.SOURCE_UNREACHABLE, "Cannot copy " + describe(file.path()) + " to a temporary folder: " + e.getMessage(), e);
        }
    }

    /**
     * Reads a listed file's current content (for the raw layer's copy).
     *
     * @throws java.io.IOException when it cannot be read
     */
    InputStream open(Listed file) throws IOException {
        return root != null ? Files.newInputStream(root.resolve(file.path())) : store.open(prefix + "/" + file.path());
    }

    /** A landed file on local disk; {@code temporary}: the folder of a download, removed on close. */
    record Local(Path path, Path temporary) implements AutoCloseable {
        @Override
        public void close() {
            if (temporary != null) {
                try (Stream<Path> files = Files.walk(temporary)) {
                    files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                } catch (IOException e) {
                    // A temporary copy left behind: the operating system's temporary folder is cleaned by it.
                }
            }
        }
    }

    /** The SHA-256 of a file's content, as 64 lower-case hexadecimal digits. */
    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.SOURCE_UNREACHABLE, "Cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
