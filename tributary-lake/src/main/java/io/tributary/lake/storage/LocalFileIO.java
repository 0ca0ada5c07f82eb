package io.tributary.lake.storage;

import io.tributary.lake.catalog.LocalFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.NotFoundException;
import org.apache.iceberg.io.BulkDeletionFailureException;
import org.apache.iceberg.io.FileInfo;
import org.apache.iceberg.io.InputFile;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.PositionOutputStream;
import org.apache.iceberg.io.SeekableInputStream;
import org.apache.iceberg.io.SupportsBulkOperations;
import org.apache.iceberg.io.SupportsPrefixOperations;

/**
 * Iceberg's {@link org.apache.iceberg.io.FileIO} over the local file system with {@code java.nio}:
 * locations are absolute paths or {@code file:} URIs. A file is written under a hidden temporary
 * name ({@code .<name>.<uuid>.tmp}) in its folder and moved into place when its stream closes, so a
 * reader sees either no file or the whole file, as on object storage; a writer killed midway leaves
 * only the temporary file, which orphan-file removal deletes. Listing and deleting by prefix
 * ({@link SupportsPrefixOperations}) walk the folder a prefix names.
 */
public final class LocalFileIO implements SupportsPrefixOperations, SupportsBulkOperations {
    private Map<String, String> properties = Map.of();

    public LocalFileIO() {
    }

    @Override
    public void initialize(Map<String, String> props) {
        this.properties = Map.copyOf(props);
    }

    @Override
    public Map<String, String> properties() {
        return properties;
    }

    @Override
    public InputFile newInputFile(String location) {
        return new Input(location, LocalFiles.path(location), -1);
    }

    @Override
    public InputFile newInputFile(String location, long length) {
        return new Input(location, LocalFiles.path(location), length);
    }

    @Override
    public OutputFile newOutputFile(String location) {
        return new Output(location, LocalFiles.path(location));
    }

    @Override
    public void deleteFile(String location) {
        try {
            Files.deleteIfExists(LocalFiles.path(location));
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot delete " + location + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void deleteFiles(Iterable<String> locations) throws BulkDeletionFailureException {
        int failed = 0;
        for (String location : locations) {
            try {
                Files.deleteIfExists(LocalFiles.path(location));
            } catch (IOException e) {
                failed++;
            }
        }
        if (failed > 0) {
            throw new BulkDeletionFailureException(failed);
        }
    }

    /**
     * The files under {@code prefix} (a folder, or a folder and the start of file names), as
     * absolute paths with their size and last-modified time; nothing when the folder is absent.
     */
    @Override
    public Iterable<FileInfo> listPrefix(String prefix) {
        Path path = LocalFiles.path(prefix);
        boolean folder = prefix.endsWith("/") || Files.isDirectory(path);
        Path root = folder ? path : path.getParent();
        String start = folder ? null : path.toString();
        List<FileInfo> files = new ArrayList<>();
        if (root == null || !Files.isDirectory(root)) {
            return files;
        }
        try {
            Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile() && (start == null || file.toString().startsWith(start))) {
                        files.add(new FileInfo(file.toString(), attrs.size(), attrs.lastModifiedTime().toMillis()));
                    }
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
                    // Deleted while walking (a concurrent commit's cleanup): not a file any more.
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot list " + root + ": " + e.getMessage(), e);
        }
        return files;
    }

    @Override
    public void deletePrefix(String prefix) {
        for (FileInfo file : listPrefix(prefix)) {
            deleteFile(file.location());
        }
    }

    private record Input(String location, Path path, long knownLength) implements InputFile {
        @Override
        public long getLength() {
            if (knownLength >= 0) {
                return knownLength;
            }
            try {
                return Files.size(path);
            } catch (NoSuchFileException e) {
                throw new NotFoundException(e, "File does not exist: %s", location);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot read the size of " + location + ": " + e.getMessage(), e);
            }
        }

        @Override
        public SeekableInputStream newStream() {
            try {
                return new ChannelInput(FileChannel.open(path, StandardOpenOption.READ));
            } catch (NoSuchFileException e) {
                throw new NotFoundException(e, "File does not exist: %s", location);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot open " + location + ": " + e.getMessage(), e);
            }
        }

        @Override
        public boolean exists() {
            return Files.exists(path);
        }
    }

    private record Output(String location, Path path) implements OutputFile {
        @Override
        public PositionOutputStream create() {
            if (Files.exists(path)) {
                throw new AlreadyExistsException("File already exists: %s", location);
            }
            return open(false);
        }

        @Override
        public PositionOutputStream createOrOverwrite() {
            return open(true);
        }

        private PositionOutputStream open(boolean overwrite) {
            try {
                Path parent = path.getParent();
                Files.createDirectories(parent);
                Path temp = parent.resolve("." + path.getFileName() + "." + UUID.randomUUID() + ".tmp");
                return new ChannelOutput(FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), temp, path, overwrite, location);
            } catch (IOException e) {
                throw new UncheckedIOException("Cannot create " + location + ": " + e.getMessage(), e);
            }
        }

        @Override
        public InputFile toInputFile() {
            return new Input(location, path, -1);
        }
    }

    /** A file read through a channel, with a read buffer: Parquet and Avro readers read small pieces. */
    private static final class ChannelInput extends SeekableInputStream {
        private final FileChannel channel;
        private final ByteBuffer buffer = ByteBuffer.allocate(64 * 1024).flip();
        /** The file position of the buffer's first byte. */
        private long bufferStart;

        ChannelInput(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public long getPos() {
            return bufferStart + buffer.position();
        }

        @Override
        public void seek(long newPos) throws IOException {
            if (newPos >= bufferStart && newPos <= bufferStart + buffer.limit()) {
                buffer.position((int) (newPos - bufferStart));
                return;
            }
            channel.position(newPos);
            bufferStart = newPos;
            buffer.clear().flip();
        }

        private boolean fill() throws IOException {
            bufferStart += buffer.limit();
            buffer.clear();
            int n = channel.read(buffer);
            buffer.flip();
            return n > 0;
        }

        @Override
        public int read() throws IOException {
            if (!buffer.hasRemaining() && !fill()) {
                return -1;
            }
            return buffer.get() & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (!buffer.hasRemaining()) {
                if (len >= buffer.capacity()) {
                    // A large read goes straight to the file.
                    long pos = getPos();
                    int n = channel.read(ByteBuffer.wrap(b, off, len), pos);
                    if (n > 0) {
                        channel.position(pos + n);
                        bufferStart = pos + n;
                        buffer.clear().flip();
                    }
                    return n;
                }
                if (!fill()) {
                    return -1;
                }
            }
            int n = Math.min(len, buffer.remaining());
            buffer.get(b, off, n);
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long size = channel.size();
            long target = Math.min(size, getPos() + Math.max(0, n));
            long skipped = target - getPos();
            seek(target);
            return skipped;
        }

        @Override
        public int available() {
            return buffer.remaining();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** Writes a temporary file and moves it into place on close. */
    private static final class ChannelOutput extends PositionOutputStream {
        private final FileChannel channel;
        private final java.io.OutputStream out;
        private final Path temp;
        private final Path target;
        private final boolean overwrite;
        private final String location;
        private long pos;
        private boolean closed;

        ChannelOutput(FileChannel channel, Path temp, Path target, boolean overwrite, String location) {
            this.channel = channel;
            this.out = new java.io.BufferedOutputStream(java.nio.channels.Channels.newOutputStream(channel), 64 * 1024);
            this.temp = temp;
            this.target = target;
            this.overwrite = overwrite;
            this.location = location;
        }

        @Override
        public long getPos() {
            return pos;
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            pos++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            pos += len;
        }

        @Override
        public void flush() throws IOException {
            out.flush();
        }

        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            try {
                out.close();
                if (!overwrite && Files.exists(target)) {
                    throw new AlreadyExistsException("File already exists: %s", location);
                }
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                } catch (FileAlreadyExistsException e) {
                    if (!overwrite) {
                        throw new AlreadyExistsException("File already exists: %s", location);
                    }
                    Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
                }
            } finally {
                Files.deleteIfExists(temp);
                if (channel.isOpen()) {
                    channel.close();
                }
            }
        }
    }
}
