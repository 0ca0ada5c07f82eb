package io.tributary.models;

import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The gold models of a {@code models/} folder in dependency order: a model that mentions
 * {@code gold.<other>} is built after {@code <other>}. Names are file names without {@code .sql},
 * lowercase letters, digits and '_'. A file may start with a header declaring how it is
 * materialized ({@link ModelHeader}) and use placeholders ({@link ModelTemplate}).
 */
public final class ModelGraph {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]*");
    private static final Pattern GOLD_REFERENCE = Pattern.compile("(?i)\\bgold\\s*\\.\\s*\"?([a-z][a-z0-9_]*)\"?");
    private static final Pattern LAKE_REFERENCE = Pattern.compile("(?i)\\b(bronze|silver)\\s*\\.\\s*\"?([a-z_][a-z0-9_]*)\"?");
    private static final Pattern COMMENT = Pattern.compile("--[^\\n]*|/\\*.*?\\*/", Pattern.DOTALL);

    private ModelGraph() {
    }

    /**
     * @throws TributaryException MODEL_ERROR for an unreadable file, a bad name, an empty file, a bad header or placeholder
     *     (naming file and line) or a dependency cycle
     */
    public static List<Model> load(Path modelsDirectory) {
        Path gold = modelsDirectory.resolve("gold");
        if (!Files.isDirectory(gold)) {
            return List.of();
        }
        Map<String, Path> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(gold)) {
            list.filter(p -> p.getFileName().toString().endsWith(".sql")).forEach(p -> {
                String name = p.getFileName().toString().replaceFirst("\\.sql$", "");
                if (!NAME.matcher(name).matches()) {
                    throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot load model " + p + ": names must be lowercase letters, digits and '_'");
                }
                files.put(name, p);
            });
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot list models in " + gold + ": " + e.getMessage(), e);
        }
        Map<String, Model> models = new TreeMap<>();
        for (Map.Entry<String, Path> entry : files.entrySet()) {
            String text;
            try {
                text = Files.readString(entry.getValue());
            } catch (IOException e) {
                throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot read model " + entry.getValue() + ": " + e.getMessage(), e);
            }
            ModelHeader header = ModelHeader.parse(entry.getValue(), text);
            ModelTemplate template = new ModelTemplate(entry.getValue(), text);
            String sql = template.fullSql();
            if (sql.isEmpty()) {
                throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot load model " + entry.getValue() + ": the file holds no SELECT");
            }
            Set<String> deps = new HashSet<>();
            Matcher m = GOLD_REFERENCE.matcher(sql);
            while (m.find()) {
                String dep = m.group(1).toLowerCase(java.util.Locale.ROOT);
                if (files.containsKey(dep) && !dep.equals(entry.getKey())) {
                    deps.add(dep);
                }
            }
            models.put(entry.getKey(), new Model(entry.getKey(), entry.getValue(), sql, deps, header, template));
        }
        return order(models);
    }

    /**
     * The bronze and silver tables a model's SQL names ({@code silver.orders}, {@code bronze."orders"}),
     * as {@code <layer>.<table>} in lowercase, comments left out. A name inside a string literal
     * counts too: the result only defers a build until such a table exists.
     */
    public static Set<String> lakeReferences(String sql) {
        Set<String> out = new java.util.TreeSet<>();
        Matcher m = LAKE_REFERENCE.matcher(COMMENT.matcher(sql).replaceAll(" "));
        while (m.find()) {
            out.add(m.group(1).toLowerCase(java.util.Locale.ROOT) + "." + m.group(2).toLowerCase(java.util.Locale.ROOT));
        }
        return out;
    }

    /** The gold models a query names ({@code gold.revenue}), in lowercase, comments left out. */
    public static Set<String> goldReferences(String sql) {
        Set<String> out = new java.util.TreeSet<>();
        Matcher m = GOLD_REFERENCE.matcher(COMMENT.matcher(sql).replaceAll(" "));
        while (m.find()) {
            out.add(m.group(1).toLowerCase(java.util.Locale.ROOT));
        }
        return out;
    }

    static List<Model> order(Map<String, Model> models) {
        List<Model> out = new ArrayList<>();
        Set<String> done = new HashSet<>();
        for (String name : models.keySet()) {
            visit(name, models, done, new LinkedHashSet<>(), out);
        }
        return out;
    }

    private static void visit(String name, Map<String, Model> models, Set<String> done, LinkedHashSet<String> path, List<Model> out) {
        if (done.contains(name)) {
            return;
        }
        if (!path.add(name)) {
            throw new TributaryException(ErrorCode.MODEL_ERROR, "Cannot order gold models: dependency cycle " + String.join(" -> ", path) + " -> " + name);
        }
        for (String dep : new java.util.TreeSet<>(models.get(name).dependencies())) {
            visit(dep, models, done, path, out);
        }
        path.remove(name);
        done.add(name);
        out.add(models.get(name));
    }
}
