package io.tributary.spi;

import java.util.List;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * Opens and inspects the change sources of one kind, chosen by the pipeline's {@code source.type}.
 * Factories are found with {@link ServiceLoader} (a {@code META-INF/services/io.tributary.spi.ChangeSourceFactory}
 * entry in the source's module), so the pipeline and the CLI name no source class.
 *
 * @param <S> the source's settings, as the configuration module parses them for this type
 */
public interface ChangeSourceFactory<S> {
    /** The {@code source.type} this factory serves, e.g. {@code postgresql}. */
    String type();

    /** The class of the settings {@link #open} takes. */
    Class<S> settingsType();

    /** A source that captures as {@code session} says once {@link ChangeSource#run} is called; opens no connection yet. */
    ChangeSource open(S settings, SourceSession session);

    /**
     * Asks the source where it is, for {@code status}.
     *
     * @param watermark the lake's committed position, empty before the first commit
     * @throws TributaryException with an EXTERNAL code when the source cannot be reached
     */
    SourceLag lag(S settings, Optional<SourcePosition> watermark);

    /**
     * As {@link #lag(Object, Optional)}, for sources whose lag is measured from the lake's committed
     * source offset rather than its position (Kafka: per partition). The default ignores the offset.
     *
     * @param offset the lake's committed source offset, empty before the first commit
     */
    default SourceLag lag(S settings, Optional<SourcePosition> watermark, Optional<SourceOffset> offset) {
        return lag(settings, watermark);
    }

    /**
     * Refuses while a running pipeline captures from the source (for commands that change what the
     * next run does, such as {@code resnapshot}).
     *
     * @throws TributaryException {@link ErrorCode#PIPELINE_FENCED} naming what is in use, or an
     *         EXTERNAL code when the source cannot be reached
     */
    void requireNotCapturing(S settings, String pipelineName);

    /**
     * The tables whose initial snapshot is not complete as of the lake's committed source offset.
     *
     * @throws TributaryException when the offset was not written by this kind of source
     */
    List<TableId> snapshotting(S settings, SourceOffset offset);

    /** {@code settings} as this factory's type. */
    default S settings(Object settings) {
        if (!settingsType().isInstance(settings)) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "source.type " + type() + " takes " + settingsType().getSimpleName()
                    + " settings, got " + (settings == null ? "none" : settings.getClass().getSimpleName()));
        }
        return settingsType().cast(settings);
    }

    /**
     * The factory of {@code type}.
     *
     * @throws TributaryException {@link ErrorCode#INVALID_CONFIG} naming the types available when
     *         no module on the class path serves it
     */
    static ChangeSourceFactory<?> forType(String type) {
        TreeSet<String> known = new TreeSet<>();
        for (ChangeSourceFactory<?> factory : ServiceLoader.load(ChangeSourceFactory.class, ChangeSourceFactory.class.getClassLoader())) {
            if (factory.type().equals(type)) {
                return factory;
            }
            known.add(factory.type());
        }
        throw new TributaryException(ErrorCode.INVALID_CONFIG, "source.type: no source of type '" + type + "' is installed"
                + (known.isEmpty() ? "" : "; installed: " + String.join(", ", known)));
    }
}
