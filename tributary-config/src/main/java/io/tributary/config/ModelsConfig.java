package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Gold models: the folder holding {@code gold/*.sql}, and the least time between two rebuilds.
 */
public record ModelsConfig(Optional<Path> directory, Duration interval) {
    public ModelsConfig {
        requireNonNull(directory, "directory is null");
        requireNonNull(interval, "interval is null");
    }
}
