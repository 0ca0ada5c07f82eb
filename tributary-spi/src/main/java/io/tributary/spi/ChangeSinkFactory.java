package io.tributary.spi;

import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * Opens the change sinks of one kind, chosen by the pipeline's {@code sink.type}. Factories are
 * found with {@link ServiceLoader} (a {@code META-INF/services/io.tributary.spi.ChangeSinkFactory}
 * entry in the sink's module), so the pipeline and the CLI name no sink class.
 *
 * @param <S> the sink's settings, as the configuration module parses them for this type
 */
public interface ChangeSinkFactory<S> {
    /** The {@code sink.type} this factory serves, e.g. {@code kafka}. */
    String type();

    /** The class of the settings {@link #open} takes. */
    Class<S> settingsType();

    /** A sink for pipeline {@code pipelineName}; opens no connection until {@link ChangeSink#open()}. */
    ChangeSink open(S settings, String pipelineName);

    /**
     * What the sink holds of pipeline {@code pipelineName}, read without taking it over (for
     * {@code status}).
     *
     * @return empty when the sink holds nothing of the pipeline yet
     * @throws TributaryException EXTERNAL codes when the sink cannot be reached
     */
    java.util.Optional<ChangeSink.Committed> committed(S settings, String pipelineName);

    /** {@code settings} as this factory's type. */
    default S settings(Object settings) {
        if (!settingsType().isInstance(settings)) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "sink.type " + type() + " takes " + settingsType().getSimpleName()
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
    static ChangeSinkFactory<?> forType(String type) {
        TreeSet<String> known = new TreeSet<>();
        for (ChangeSinkFactory<?> factory : ServiceLoader.load(ChangeSinkFactory.class, ChangeSinkFactory.class.getClassLoader())) {
            if (factory.type().equals(type)) {
                return factory;
            }
            known.add(factory.type());
        }
        throw new TributaryException(ErrorCode.INVALID_CONFIG, "sink.type: no sink of type '" + type + "' is installed"
                + (known.isEmpty() ? "" : "; installed: " + String.join(", ", known)));
    }
}
