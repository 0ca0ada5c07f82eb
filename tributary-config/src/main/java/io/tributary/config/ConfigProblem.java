package io.tributary.config;

import static java.util.Objects.requireNonNull;

/** One problem found in a configuration: the YAML path (e.g. {@code source.port}) and what is wrong there. */
public record ConfigProblem(String path, String message) {
    public ConfigProblem {
        requireNonNull(path, "path is null");
        requireNonNull(message, "message is null");
    }

    @Override
    public String toString() {
        return path + ": " + message;
    }
}
