package io.tributary.lake.raw;

import io.tributary.lake.layout.TableNames;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Writes the raw layer: the source's change events unmodified (Debezium JSON envelopes), one per
 * line, gzip-compressed, under {@code raw/<table>/<yyyy-mm-dd>/<first position>_<last position>.ndjson.gz}.
 * Files are written before the lake commit and renamed into place atomically; a replay after a
 * crash rewrites a file with the same events, so each event is identified by its position.
 */
public final class RawWriter {
    /** gzip at the fastest level: the raw layer is written on the commit path of every batch. */
    private static final class FastGzipOutputStream extends GZIPOutputStream {
        FastGzipOutputStream(java.io.OutputStream out) throws IOException {
            super(out, 64 * 1024);
            def.setLevel(java.util.zip.Deflater.BEST_SPEED);
        }
    }

    private final Path root;

    /** One raw file per table and UTC day of commit. */
    private record FileKey(io.tributary.spi.TableId table, long epochDay) {
    }

    public RawWriter(Path warehouse) {
        this.root = warehouse.resolve("raw");
    }

    public void write(List<ChangeEvent> events) {
        Map<FileKey, List<ChangeEvent>> byFile = new LinkedHashMap<>();
        for (ChangeEvent e : events) {
            if (!e.hasRaw()) {
                continue;
            }
            long day = Math.floorDiv(e.commitTimestamp().getEpochSecond(), 86_400L);
            byFile.computeIfAbsent(new FileKey(e.table(), day), d -> new java.util.ArrayList<>()).add(e);
        }
        for (Map.Entry<FileKey, List<ChangeEvent>> entry : byFile.entrySet()) {
            List<ChangeEvent> list = entry.getValue();
            Path dir = root.resolve(TableNames.lakeName(entry.getKey().table())).resolve(LocalDate.ofEpochDay(entry.getKey().epochDay()).toString());
            String name = list.get(0).position().encoded() + "_" + list.get(list.size() - 1).position().encoded() + ".ndjson.gz";
            Path target = dir.resolve(name);
            Path temp = dir.resolve("." + name + ".tmp");
            try {
                Files.createDirectories(dir);
                try (OutputStream out = new BufferedOutputStream(new FastGzipOutputStream(Files.newOutputStream(temp)), 64 * 1024)) {
                    for (ChangeEvent e : list) {
                        e.rawRecord().writeTo(out);
                        out.write('\n');
                    }
                }
                Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot write raw events to " + target + ": " + e.getMessage(), e);
            }
        }
    }
}
