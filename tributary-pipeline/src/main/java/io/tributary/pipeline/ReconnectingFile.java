package io.tributary.pipeline;

import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.Optional;
import java.util.Properties;

/**
 * Tells {@code tributary status}, another process, that a running pipeline is reconnecting to its
 * source: {@code <state-dir>/<pipeline>/reconnecting.properties} exists only while it does, with the
 * pipeline's process id, the attempt, the last error (secrets already masked) and since when.
 */
public final class ReconnectingFile {
    private static final String NAME = "reconnecting.properties";

    private ReconnectingFile() {
    }

    static void write(Path folder, PipelineStatus.Reconnecting reconnecting) {
        Properties p = new Properties();
        p.setProperty("pid", Long.toString(ProcessHandle.current().pid()));
        p.setProperty("attempt", Integer.toString(reconnecting.attempt()));
        p.setProperty("lastError", reconnecting.lastError());
        p.setProperty("since", reconnecting.since().toString());
        try {
            Files.createDirectories(folder);
            Path temp = folder.resolve("." + NAME + ".tmp");
            try (Writer out = Files.newBufferedWriter(temp)) {
                p.store(out, "tributary run: reconnecting to the source");
            }
            Files.move(temp, folder.resolve(NAME), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot write " + folder.resolve(NAME) + ": " + e.getMessage(), e);
        }
    }

    static void clear(Path folder) {
        try {
            Files.deleteIfExists(folder.resolve(NAME));
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot delete " + folder.resolve(NAME) + ": " + e.getMessage(), e);
        }
    }

    /** The reconnect in progress of a live pipeline process of this pipeline, if any. */
    public static Optional<PipelineStatus.Reconnecting> read(Path folder) {
        Path file = folder.resolve(NAME);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file)) {
            p.load(in);
        } catch (IOException e) {
            // Replaced or deleted while read: the pipeline moved on.
            return Optional.empty();
        }
        boolean alive = ProcessHandle.of(Long.parseLong(p.getProperty("pid", "-1"))).map(ProcessHandle::isAlive).orElse(false);
        if (!alive) {
            return Optional.empty();
        }
        return Optional.of(new PipelineStatus.Reconnecting(Integer.parseInt(p.getProperty("attempt", "0")), p.getProperty("lastError", ""),
                Instant.parse(p.getProperty("since", Instant.EPOCH.toString()))));
    }
}
