package io.tributary.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A YAML mapping being read: remembers its path, records problems instead of throwing, and on
 * {@link #finish()} reports every key nobody asked for, with a "did you mean" suggestion.
 */
final class ConfigNode {
    /** A decimal number as YAML writes one ({@code 0.01}, {@code 1e-3}); not Java's {@code NaN}, {@code 1d} or hexadecimal forms. */
    private static final Pattern NUMBER = Pattern.compile("[+-]?(\\d+\\.?\\d*|\\.\\d+)([eE][+-]?\\d+)?");

    private final String path;
    private final JsonNode node;
    private final List<ConfigProblem> problems;
    private final SecretResolver secrets;
    private final Set<String> seen = new java.util.HashSet<>();

    ConfigNode(String path, JsonNode node, List<ConfigProblem> problems, SecretResolver secrets) {
        this.path = path;
        this.node = node;
        this.problems = problems;
        this.secrets = secrets;
    }

    String path() {
        return path;
    }

    private String child(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    void problem(String key, String message) {
        problems.add(new ConfigProblem(key == null ? (path.isEmpty() ? "(root)" : path) : child(key), message));
    }

    private Optional<JsonNode> raw(String key) {
        seen.add(key);
        JsonNode value = node == null ? null : node.get(key);
        return value == null || value.isNull() ? Optional.empty() : Optional.of(value);
    }

    Optional<String> string(String key) {
        return raw(key).flatMap(v -> {
            if (!v.isValueNode()) {
                problem(key, "expected a text value, found " + describe(v));
                return Optional.empty();
            }
            return secrets.resolvePlain(v.asText(), child(key), problems);
        });
    }

    String requiredString(String key) {
        Optional<String> value = string(key);
        if (value.isEmpty() && node != null && !node.has(key)) {
            problem(key, "is required");
        }
        return value.orElse("");
    }

    Optional<Secret> secret(String key) {
        return raw(key).flatMap(v -> {
            if (!v.isValueNode()) {
                problem(key, "expected a text value, found " + describe(v));
                return Optional.empty();
            }
            return secrets.resolveSecret(v.asText(), child(key), problems);
        });
    }

    /** {@code text}, the value at {@code key} below this mapping, as a secret: it must be a reference. */
    Optional<Secret> secretOf(String key, String text) {
        return secrets.resolveSecret(text, child(key), problems);
    }

    /** {@code text}, the value at {@code key} below this mapping, with its references substituted. */
    Optional<String> plainOf(String key, String text) {
        return secrets.resolvePlain(text, child(key), problems);
    }

    int integer(String key, int defaultValue, int min, int max) {
        Optional<String> text = string(key);
        if (text.isEmpty()) {
            return defaultValue;
        }
        try {
            int value = Integer.parseInt(text.get().trim());
            if (value < min || value > max) {
                problem(key, "must be between " + min + " and " + max + ", found " + value);
                return defaultValue;
            }
            return value;
        } catch (NumberFormatException e) {
            problem(key, "expected a whole number, found '" + text.get() + "'");
            return defaultValue;
        }
    }

    double number(String key, double defaultValue, double min, double max) {
        Optional<String> text = string(key);
        if (text.isEmpty()) {
            return defaultValue;
        }
        String trimmed = text.get().trim();
        if (!NUMBER.matcher(trimmed).matches()) {
            problem(key, "expected a number, found '" + text.get() + "'");
            return defaultValue;
        }
        double value = Double.parseDouble(trimmed);
        if (value < min || value > max) {
            problem(key, "must be between " + min + " and " + max + ", found " + trimmed);
            return defaultValue;
        }
        return value;
    }

    boolean bool(String key, boolean defaultValue) {
        Optional<String> text = string(key);
        if (text.isEmpty()) {
            return defaultValue;
        }
        return switch (text.get().trim().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "yes", "on" -> true;
            case "false", "no", "off" -> false;
            default -> {
                problem(key, "expected true or false, found '" + text.get() + "'");
                yield defaultValue;
            }
        };
    }

    Duration duration(String key, Duration defaultValue) {
        return duration(key).orElse(defaultValue);
    }

    /** The positive duration at {@code key}; empty when absent or not a positive duration (a problem). */
    Optional<Duration> duration(String key) {
        Optional<String> text = string(key);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        Optional<Duration> parsed = Durations.parse(text.get());
        if (parsed.isEmpty() || parsed.get().isZero()) {
            problem(key, "expected a positive duration such as 500ms, 1s, 5m or 1h, found '" + text.get() + "'");
            return Optional.empty();
        }
        return parsed;
    }

    DataSize size(String key, DataSize defaultValue) {
        Optional<String> text = string(key);
        if (text.isEmpty()) {
            return defaultValue;
        }
        Optional<DataSize> parsed = DataSize.parse(text.get());
        if (parsed.isEmpty()) {
            problem(key, "expected a positive size such as 512KB, 64MB or 1GB, found '" + text.get() + "'");
            return defaultValue;
        }
        return parsed.get();
    }

    <E extends Enum<E>> E enumValue(String key, Class<E> type, E defaultValue) {
        Optional<String> text = string(key);
        if (text.isEmpty()) {
            return defaultValue;
        }
        String wanted = text.get().trim().replace('-', '_').toUpperCase(java.util.Locale.ROOT);
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equals(wanted)) {
                return constant;
            }
        }
        List<String> allowed = new ArrayList<>();
        for (E constant : type.getEnumConstants()) {
            allowed.add(constant.name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
        }
        problem(key, "expected one of " + allowed + ", found '" + text.get() + "'");
        return defaultValue;
    }

    List<String> stringList(String key) {
        Optional<JsonNode> value = raw(key);
        if (value.isEmpty()) {
            return List.of();
        }
        if (!value.get().isArray()) {
            problem(key, "expected a list such as [a, b], found " + describe(value.get()));
            return List.of();
        }
        List<String> out = new ArrayList<>();
        int i = 0;
        for (JsonNode element : value.get()) {
            if (!element.isValueNode() || element.isNull()) {
                problems.add(new ConfigProblem(child(key) + "[" + i + "]", "expected a text value, found " + describe(element)));
            } else {
                out.add(element.asText());
            }
            i++;
        }
        return out;
    }

    /** The mapping at {@code key}; empty when absent, or (with a problem) when not a mapping. */
    private Optional<JsonNode> mapping(String key) {
        Optional<JsonNode> value = raw(key);
        if (value.isPresent() && !value.get().isObject()) {
            problem(key, "expected a mapping of names to values, found " + describe(value.get()));
            return Optional.empty();
        }
        return value;
    }

    Map<String, String> stringMap(String key) {
        Optional<JsonNode> value = mapping(key);
        if (value.isEmpty()) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = value.get().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                problems.add(new ConfigProblem(child(key) + "." + e.getKey(), "expected a text value, found " + describe(e.getValue())));
            } else {
                out.put(e.getKey(), e.getValue().asText());
            }
        }
        return out;
    }

    /**
     * As {@link #stringMap}, for values that may hold a comma inside parentheses, such as column
     * types: YAML's flow style ends a plain value at a comma, so {@code {amount: decimal(12,2)}}
     * arrives as {@code amount: "decimal(12"} followed by a key {@code "2)"} without a value; the
     * two are joined back into {@code decimal(12,2)}.
     */
    Map<String, String> parenthesizedMap(String key) {
        Optional<JsonNode> value = mapping(key);
        if (value.isEmpty()) {
            return Map.of();
        }
        Map<String, String> out = new LinkedHashMap<>();
        String open = null;
        for (Iterator<Map.Entry<String, JsonNode>> it = value.get().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (open != null && e.getValue().isNull()) {
                String joined = out.get(open) + "," + e.getKey();
                out.put(open, joined);
                open = unclosed(joined) ? open : null;
                continue;
            }
            open = null;
            if (!e.getValue().isValueNode() || e.getValue().isNull()) {
                problems.add(new ConfigProblem(child(key) + "." + e.getKey(), "expected a text value, found " + describe(e.getValue())));
            } else {
                out.put(e.getKey(), e.getValue().asText());
                open = unclosed(e.getValue().asText()) ? e.getKey() : null;
            }
        }
        return out;
    }

    private static boolean unclosed(String text) {
        return text.chars().filter(c -> c == '(').count() > text.chars().filter(c -> c == ')').count();
    }

    /** A nested mapping; a missing key yields an empty mapping so its defaults apply. */
    ConfigNode object(String key) {
        return object(key, secrets);
    }

    /** A nested mapping whose references are resolved by {@code secrets}. */
    ConfigNode object(String key, SecretResolver secrets) {
        Optional<JsonNode> value = raw(key);
        if (value.isPresent() && !value.get().isObject()) {
            problem(key, "expected a mapping, found " + describe(value.get()));
            return new ConfigNode(child(key), null, problems, secrets);
        }
        return new ConfigNode(child(key), value.orElse(null), problems, secrets);
    }

    boolean isMapping(String key) {
        return node != null && node.has(key) && node.get(key).isObject();
    }

    boolean has(String key) {
        return node != null && node.has(key) && !node.get(key).isNull();
    }

    /** The keys of this mapping, for mappings keyed by user names (e.g. table names). */
    List<String> keys() {
        List<String> keys = new ArrayList<>();
        if (node != null) {
            node.fieldNames().forEachRemaining(keys::add);
        }
        return keys;
    }

    /** Reports every key that was present but never read. */
    void finish() {
        if (node == null) {
            return;
        }
        for (String key : keys()) {
            if (!seen.contains(key)) {
                String suggestion = seen.stream()
                        .min(Comparator.comparingInt(known -> distance(known, key)))
                        .filter(known -> distance(known, key) <= Math.max(2, key.length() / 3))
                        .map(known -> " (did you mean '" + known + "'?)")
                        .orElse("");
                problem(key, "unknown key" + suggestion + "; known keys here: " + seen.stream().sorted().toList());
            }
        }
    }

    private static String describe(JsonNode node) {
        if (node.isObject()) {
            return "a mapping";
        }
        if (node.isArray()) {
            return "a list";
        }
        if (node.isNull()) {
            return "nothing";
        }
        return "'" + node.asText() + "'";
    }

    static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
