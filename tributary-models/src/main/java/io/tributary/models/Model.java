package io.tributary.models;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Set;

/**
 * One gold model: the file {@code models/gold/<name>.sql}, its SELECT, and the gold models it reads.
 *
 * @param sql the SELECT of a full build, placeholders replaced for a full build (see {@link ModelTemplate})
 * @param header how the model is materialized, from the comment header of its file
 * @param template the file's text with its placeholders, for incremental builds and change detection
 */
public record Model(String name, Path file, String sql, Set<String> dependencies, ModelHeader header, ModelTemplate template) {
    public Model {
        requireNonNull(name, "name is null");
        requireNonNull(file, "file is null");
        requireNonNull(sql, "sql is null");
        dependencies = Set.copyOf(dependencies);
        requireNonNull(header, "header is null");
        requireNonNull(template, "template is null");
    }

    /** A model rebuilt in full every time, whose file text is {@code sql}. */
    public Model(String name, Path file, String sql, Set<String> dependencies) {
        this(name, file, sql, dependencies, ModelHeader.TABLE, new ModelTemplate(file, sql));
    }

    /** The bronze and silver tables the model reads, as {@code <layer>.<table>}, e.g. {@code silver.orders}. */
    public Set<String> lakeReferences() {
        return ModelGraph.lakeReferences(sql);
    }

    /** The SELECT of an incremental build after {@code last}. */
    public String incrementalSql(LastBuild last) {
        return template.incrementalSql(last);
    }
}
