package io.tributary.source.files;

import io.tributary.config.FilesSourceConfig;
import io.tributary.config.FilesSourceConfig.FileTable;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ChangeSourceFactory;
import io.tributary.spi.SourceLag;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.SourceSession;
import io.tributary.spi.TableId;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/** {@code source.type: files}: landed CSV, JSON-lines and Parquet files (see {@link FilesChangeSource}). */
public final class FilesChangeSourceFactory implements ChangeSourceFactory<FilesSourceConfig> {
    @Override
    public String type() {
        return FilesSourceConfig.TYPE;
    }

    @Override
    public Class<FilesSourceConfig> settingsType() {
        return FilesSourceConfig.class;
    }

    @Override
    public ChangeSource open(FilesSourceConfig settings, SourceSession session) {
        return new FilesChangeSource(settings, session, Clock.systemUTC());
    }

    @Override
    public SourceLag lag(FilesSourceConfig settings, Optional<SourcePosition> watermark) {
        return lag(settings, watermark, Optional.empty());
    }

    /** The bytes of the files the lake has not ingested yet (new, or changed since their last delivery). */
    @Override
    public SourceLag lag(FilesSourceConfig settings, Optional<SourcePosition> watermark, Optional<SourceOffset> offset) {
        IngestedFiles ledger = IngestedFiles.decode(offset);
        if (settings.path().startsWith("s3://")) {
            // status has no lake storage to list an object-storage prefix with: what the lake holds only.
            long ingested = settings.fileTables().stream().mapToLong(t -> ledger.files(t.name()).size()).sum();
            return new SourceLag(settings.path() + " (" + ingested + " file(s) ingested; waiting files are listed by the run)", 0, SourceLag.Unit.BYTES);
        }
        Landing landing = new Landing(settings, Optional.empty());
        long files = 0;
        long bytes = 0;
        long ingested = 0;
        for (FileTable table : settings.fileTables()) {
            ingested += ledger.files(table.name()).size();
            for (Landing.Listed f : Landing.changed(landing.list(table.pattern()), ledger.files(table.name()))) {
                files++;
                bytes += f.size();
            }
        }
        return new SourceLag(landing.root() + " (" + ingested + " file(s) ingested, " + files + " waiting)", bytes, SourceLag.Unit.BYTES);
    }

    /** Nothing to refuse: the lake's lease keeps a second pipeline of the same lake out. */
    @Override
    public void requireNotCapturing(FilesSourceConfig settings, String pipelineName) {
    }

    /** None: a files source has no initial snapshot. */
    @Override
    public List<TableId> snapshotting(FilesSourceConfig settings, SourceOffset offset) {
        return List.of();
    }
}
