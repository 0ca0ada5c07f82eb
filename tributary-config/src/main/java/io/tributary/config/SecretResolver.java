package io.tributary.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Resolves {@code ${env:NAME}} and {@code ${file:path}} references. Secret-valued keys accept only
 * a reference, never a literal, so a password cannot sit in a configuration file.
 */
final class SecretResolver {
    private static final Pattern REFERENCE = Pattern.compile("\\$\\{(env|file):([^}]+)}");

    private final Function<String, String> environment;
    private final Path baseDirectory;
    private final boolean lookUp;

    SecretResolver(Function<String, String> environment, Path baseDirectory) {
        this(environment, baseDirectory, true);
    }

    private SecretResolver(Function<String, String> environment, Path baseDirectory, boolean lookUp) {
        this.environment = environment;
        this.baseDirectory = baseDirectory;
        this.lookUp = lookUp;
    }

    /**
     * A resolver for settings a command does not use: references are still checked for their form,
     * but never looked up, so an unset variable or a missing file is no problem; a value with a
     * reference reads as absent, and a secret as none.
     */
    SecretResolver unresolving() {
        return new SecretResolver(environment, baseDirectory, false);
    }

    static SecretResolver system(Path baseDirectory) {
        Map<String, String> env = System.getenv();
        return new SecretResolver(env::get, baseDirectory);
    }

    /** Substitutes references inside an ordinary value (e.g. a host name taken from the environment). */
    Optional<String> resolvePlain(String text, String path, List<ConfigProblem> problems) {
        if (!text.contains("${")) {
            return Optional.of(text);
        }
        if (!lookUp) {
            return Optional.empty();
        }
        Matcher m = REFERENCE.matcher(text);
        StringBuilder out = new StringBuilder();
        boolean ok = true;
        while (m.find()) {
            Optional<String> value = lookup(m.group(1), m.group(2), path, problems);
            ok &= value.isPresent();
            m.appendReplacement(out, Matcher.quoteReplacement(value.orElse("")));
        }
        m.appendTail(out);
        return ok ? Optional.of(out.toString()) : Optional.empty();
    }

    Optional<Secret> resolveSecret(String text, String path, List<ConfigProblem> problems) {
        Matcher m = REFERENCE.matcher(text.trim());
        if (!m.matches()) {
            problems.add(new ConfigProblem(path, "secrets must be a reference such as ${env:PGPASSWORD} or ${file:/run/secrets/pg}, not a literal value"));
            return Optional.empty();
        }
        if (!lookUp) {
            return Optional.empty();
        }
        return lookup(m.group(1), m.group(2), path, problems).map(value -> new Secret(value, text.trim()));
    }

    private Optional<String> lookup(String kind, String name, String path, List<ConfigProblem> problems) {
        if (kind.equals("env")) {
            String value = environment.apply(name);
            if (value == null) {
                problems.add(new ConfigProblem(path, "environment variable " + name + " is not set"));
                return Optional.empty();
            }
            return Optional.of(value);
        }
        Path file = baseDirectory.resolve(name);
        try {
            return Optional.of(Files.readString(file).strip());
        } catch (IOException e) {
            problems.add(new ConfigProblem(path, "cannot read secret file " + file + ": " + e.getClass().getSimpleName()));
            return Optional.empty();
        }
    }
}
