package io.tributary.models;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Set;

/** One gold model: the file {@code models/gold/<name>.sql}, its SELECT, and the gold models it reads. */
public record Model(String name, Path file, String sql, Set<String> dependencies) {
    public Model {
        requireNonNull(name, "name is null");
        requireNonNull(file, "file is null");
        requireNonNull(sql, "sql is null");
        dependencies = Set.copyOf(dependencies);
    }
}
