package io.tributary.source.files;

import io.tributary.config.FilesSourceConfig;
import io.tributary.spi.ErrorCode;
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
import java.util.stream.Stream;

/**
 * The landing folder of a files source: lists the files each table's pattern matches (a glob
 * relative to {@code source.path}, '/' separated: {@code *} within one folder, {@code **} across
 * folders), compares them with what the ledger holds, and computes the checksum that tells a
 * re-delivered file with new content from one merely touched.
 */
final class Landing {
    private final Path root;

    Landing(FilesSourceConfig settings) {
        if (settings.path().contains("://")) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "source.path: " + settings.path()
                    + ": a files source reads a local folder in this release (object-storage prefixes are not supported yet)");
        }
        this.root = Path.of(settings.path()).toAbsolutePath().normalize();
    }

    Path root() {
        return root;
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
        if (!Files.isDirectory(root)) {
            throw new TributaryException(ErrorCode.SOURCE_UNREACHABLE, "source.path " + root + " is not a folder (or cannot be read)");
        }
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + pattern);
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

    Path resolve(String relative) {
        return root.resolve(relative);
    }

    /** The SHA-256 of a file's content, as 64 lower-case hexadecimal digits. */
    String sha256(String relative) {
        try (InputStream in = Files.newInputStream(resolve(relative))) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.SOURCE_UNREACHABLE, "Cannot read " + resolve(relative) + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
