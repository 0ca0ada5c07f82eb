package io.tributary.pipeline;

import io.tributary.config.PipelineConfig;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.ChangeSourceFactory;
import io.tributary.spi.SourceLag;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.SourceSession;
import io.tributary.spi.TableId;
import java.util.List;
import java.util.Optional;

/**
 * The pipeline's source, reached only through the {@link ChangeSourceFactory} of its
 * {@code source.type}: the pipeline and the CLI name no source class.
 */
public final class Sources {
    private Sources() {
    }

    /** Opens the source of {@code config} for one session; see {@link ChangeSourceFactory#open}. */
    public static ChangeSource open(PipelineConfig config, SourceSession session) {
        return open(ChangeSourceFactory.forType(config.source().type()), config, session);
    }

    /** See {@link ChangeSourceFactory#lag(Object, Optional, Optional)}. */
    public static SourceLag lag(PipelineConfig config, Optional<SourcePosition> watermark, Optional<SourceOffset> offset) {
        return lag(ChangeSourceFactory.forType(config.source().type()), config, watermark, offset);
    }

    /** See {@link ChangeSourceFactory#requireNotCapturing}. */
    public static void requireNotCapturing(PipelineConfig config) {
        requireNotCapturing(ChangeSourceFactory.forType(config.source().type()), config);
    }

    /** See {@link ChangeSourceFactory#snapshotting}. */
    public static List<TableId> snapshotting(PipelineConfig config, SourceOffset offset) {
        return snapshotting(ChangeSourceFactory.forType(config.source().type()), config, offset);
    }

    private static <S> ChangeSource open(ChangeSourceFactory<S> factory, PipelineConfig config, SourceSession session) {
        return factory.open(factory.settings(config.source()), session);
    }

    private static <S> SourceLag lag(ChangeSourceFactory<S> factory, PipelineConfig config, Optional<SourcePosition> watermark,
                                     Optional<SourceOffset> offset) {
        return factory.lag(factory.settings(config.source()), watermark, offset);
    }

    private static <S> void requireNotCapturing(ChangeSourceFactory<S> factory, PipelineConfig config) {
        factory.requireNotCapturing(factory.settings(config.source()), config.name());
    }

    private static <S> List<TableId> snapshotting(ChangeSourceFactory<S> factory, PipelineConfig config, SourceOffset offset) {
        return factory.snapshotting(factory.settings(config.source()), offset);
    }
}
