package io.tributary.spi;

import java.io.Closeable;
import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeSet;

/**
 * Announces lake commits to another system (Kafka: the {@code lake-commits} topic). Announcements
 * follow the commits they describe and carry the snapshot id, so a consumer that sees one twice
 * (a restart announces every table's current snapshot again) recognises it. Not thread-safe.
 */
public interface LakeCommitPublisher extends Closeable {
    /**
     * Sends {@code commits} and waits until the other system holds them.
     *
     * @throws TributaryException {@link ErrorCode#SINK_FAILED} when they cannot be delivered
     */
    void publish(List<LakeCommit> commits);

    @Override
    void close();

    /** Opens publishers of one {@code lake-commits.type}, found with {@link ServiceLoader}. */
    interface Factory<S> {
        /** The {@code lake-commits.type} served, e.g. {@code kafka}. */
        String type();

        /** The class of the settings {@link #open} takes. */
        Class<S> settingsType();

        /** A publisher for pipeline {@code pipelineName}. */
        LakeCommitPublisher open(S settings, String pipelineName);

        /**
         * A feed of the announcements of pipeline {@code pipelineName} for tables of {@code layers}
         * ({@code bronze}, {@code silver}, {@code gold}), from now on.
         *
         * @throws TributaryException {@link ErrorCode#INVALID_CONFIG} when this type cannot be followed
         */
        default LakeCommitFeed follow(S settings, String pipelineName, java.util.Set<String> layers) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "lake-commits.type " + type() + " announces commits but cannot be followed");
        }

        /**
         * Opens a publisher of {@code settings} through the installed factory of {@code type}.
         *
         * @throws TributaryException {@link ErrorCode#INVALID_CONFIG} when no module serves {@code type}
         */
        static LakeCommitPublisher open(String type, Object settings, String pipelineName) {
            TreeSet<String> known = new TreeSet<>();
            for (Factory<?> factory : ServiceLoader.load(Factory.class, Factory.class.getClassLoader())) {
                if (factory.type().equals(type)) {
                    return openWith(factory, settings, pipelineName);
                }
                known.add(factory.type());
            }
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "lake-commits.type: no publisher of type '" + type + "' is installed"
                    + (known.isEmpty() ? "" : "; installed: " + String.join(", ", known)));
        }

        /**
         * Follows the announcements of {@code settings} through the installed factory of {@code type}.
         *
         * @throws TributaryException {@link ErrorCode#INVALID_CONFIG} when no module serves {@code type}
         */
        static LakeCommitFeed follow(String type, Object settings, String pipelineName, java.util.Set<String> layers) {
            for (Factory<?> factory : ServiceLoader.load(Factory.class, Factory.class.getClassLoader())) {
                if (factory.type().equals(type)) {
                    return followWith(factory, settings, pipelineName, layers);
                }
            }
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "lake-commits.type: no feed of type '" + type + "' is installed");
        }

        private static <S> LakeCommitFeed followWith(Factory<S> factory, Object settings, String pipelineName, java.util.Set<String> layers) {
            return factory.follow(factory.settingsType().cast(settings), pipelineName, layers);
        }

        private static <S> LakeCommitPublisher openWith(Factory<S> factory, Object settings, String pipelineName) {
            return factory.open(factory.settingsType().cast(settings), pipelineName);
        }
    }
}
