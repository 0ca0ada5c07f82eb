package io.tributary.lake.raw;

import io.tributary.lake.layout.TableNames;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.apache.iceberg.io.FileIO;

/**
 * Writes the raw layer: the source's change events unmodified (Debezium JSON envelopes), one per
 * line, gzip-compressed, under {@code <warehouse>/raw/<table>/<yyyy-mm-dd>/<first position>_<last position>.ndjson.gz};
 * a record's {@linkplain io.tributary.spi.RawRecord#attachment() attachment} (a landed file's copy)
 * beside them, byte for byte.
 * Files are written through the warehouse's {@link FileIO} before the lake commit: an object store
 * makes a finished upload visible at once, a local warehouse moves a finished temporary file into
 * place ({@code LocalFileIO}), so a reader never sees part of a file and no rename is needed on
 * object storage. A replay after a crash writes a file of the same name with the same events again,
 * so each event is identified by its position.
 */
public final class RawWriter {
    /** gzip at the fastest level: the raw layer is written on the commit path of every batch. */
    private static final class FastGzipOutputStream extends GZIPOutputStream {
        FastGzipOutputStream(java.io.OutputStream out) throws IOException {
            super(out, 64 * 1024);
            def.setLevel(java.util.zip.Deflater.BEST_SPEED);
        }
    }

    private final FileIO io;
    private final String root;

    /** One raw file per table and UTC day of commit. */
    private record FileKey(io.tributary.spi.TableId table, long epochDay) {
    }

    /** @param warehouse the warehouse's location, a local path or an {@code s3://} URI */
    public RawWriter(FileIO io, String warehouse) {
        this.io = io;
        this.root = warehouse.replaceAll("/+$", "") + "/raw";
    }

    /** A source file kept as it came ({@link io.tributary.spi.RawRecord#attachment()}), beside the day's event files. */
    private void writeAttachment(ChangeEvent e, long day, io.tributary.spi.RawRecord.Attachment attachment) {
        String target = root + "/" + TableNames.lakeName(e.table()) + "/" + LocalDate.ofEpochDay(day) + "/" + attachment.name();
        try (OutputStream out = io.newOutputFile(target).createOrOverwrite()) {
            attachment.content().writeTo(out);
        } catch (IOException | RuntimeException ex) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot write the raw copy " + target + ": " + ex.getMessage(), ex);
        }
    }

    public void write(List<ChangeEvent> events) {
        Map<FileKey, List<ChangeEvent>> byFile = new LinkedHashMap<>();
        for (ChangeEvent e : events) {
            if (!e.hasRaw()) {
                continue;
            }
            long day = Math.floorDiv(e.commitTimestamp().getEpochSecond(), 86_400L);
            if (e.rawRecord().attachment().isPresent()) {
                writeAttachment(e, day, e.rawRecord().attachment().get());
            }
            byFile.computeIfAbsent(new FileKey(e.table(), day), d -> new java.util.ArrayList<>()).add(e);
        }
        for (Map.Entry<FileKey, List<ChangeEvent>> entry : byFile.entrySet()) {
            List<ChangeEvent> list = entry.getValue();
            String name = list.get(0).position().encoded() + "_" + list.get(list.size() - 1).position().encoded() + ".ndjson.gz";
            String target = root + "/" + TableNames.lakeName(entry.getKey().table()) + "/" + LocalDate.ofEpochDay(entry.getKey().epochDay()) + "/" + name;
            try (OutputStream out = new BufferedOutputStream(new FastGzipOutputStream(io.newOutputFile(target).createOrOverwrite()), 64 * 1024)) {
                for (ChangeEvent e : list) {
                    e.rawRecord().writeTo(out);
                    out.write('\n');
                }
            } catch (IOException | RuntimeException e) {
                throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot write raw events to " + target + ": " + e.getMessage(), e);
            }
        }
    }
}
