package io.tributary.models;

import static java.util.Objects.requireNonNull;

import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The text of a model file with its placeholders, which a build replaces by SQL literals (in the
 * spirit of dbt's {@code is_incremental()} macro):
 *
 * <ul>
 * <li>{@code {{ last_position }}}: a VARCHAR literal, the {@code SourcePosition#encoded()} text the
 * table was last built through (fixed width, sorts in source order, compares with the
 * {@code _position} columns of bronze and silver); for a full build {@code ''}, before every position.
 * <li>{@code {{ last_built_at }}}: a TIMESTAMPTZ literal, the latest {@code _commit_ts} in bronze
 * at the last build; for a full build, or when bronze was empty then, {@code -infinity}.
 * <li>{@code {{ is_incremental }}}: {@code true} or {@code false}.
 * </ul>
 *
 * With these a single SELECT serves both builds, e.g.
 * {@code WHERE customer_id IN (SELECT customer_id FROM bronze.orders WHERE _position > {{ last_position }})}.
 * Placeholders are replaced everywhere in the file, comments and string literals included.
 */
public record ModelTemplate(Path file, String text) {
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{\\s*([^{}]*?)\\s*}}");
    private static final List<String> NAMES = List.of("last_position", "last_built_at", "is_incremental");
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSS'+00'").withZone(ZoneOffset.UTC);

    /**
     * @throws TributaryException MODEL_ERROR naming the file and line of an unknown or unclosed placeholder
     */
    public ModelTemplate {
        requireNonNull(file, "file is null");
        requireNonNull(text, "text is null");
        int from = 0;
        for (int open = text.indexOf("{{"); open >= 0; open = text.indexOf("{{", from)) {
            Matcher m = PLACEHOLDER.matcher(text).region(open, text.length());
            if (!m.lookingAt()) {
                throw ModelHeader.error(file, line(text, open), "unclosed placeholder; write {{ " + String.join(" }}, {{ ", NAMES) + " }}");
            }
            if (!NAMES.contains(m.group(1))) {
                throw ModelHeader.error(file, line(text, open), "unknown placeholder {{ " + m.group(1) + " }}; known placeholders are "
                        + String.join(", ", NAMES));
            }
            from = m.end();
        }
    }

    /** The SQL of a full build: the text with placeholders for a full build, without trailing ';'. */
    public String fullSql() {
        return render(Optional.empty());
    }

    /** The SQL of an incremental build after {@code last}. */
    public String incrementalSql(LastBuild last) {
        return render(Optional.of(last));
    }

    /** SHA-256 of the text, hex: a changed model file makes the next build a full one. */
    public String fingerprint() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new TributaryException(ErrorCode.INTERNAL_ERROR, "Cannot fingerprint model " + file + ": " + e.getMessage(), e);
        }
    }

    private String render(Optional<LastBuild> last) {
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String literal = switch (m.group(1)) {
                case "last_position" -> last.map(l -> "'" + l.position().encoded() + "'").orElse("''");
                case "last_built_at" -> "TIMESTAMPTZ '" + last.flatMap(LastBuild::builtAt).map(TIMESTAMP::format).orElse("-infinity") + "'";
                case "is_incremental" -> last.isPresent() ? "true" : "false";
                default -> throw new IllegalStateException("Placeholder checked on load: " + m.group(1));
            };
            m.appendReplacement(out, Matcher.quoteReplacement(literal));
        }
        m.appendTail(out);
        String sql = out.toString().strip();
        while (sql.endsWith(";")) {
            sql = sql.substring(0, sql.length() - 1).strip();
        }
        return sql;
    }

    private static int line(String text, int offset) {
        int line = 1;
        for (int i = 0; i < offset; i++) {
            if (text.charAt(i) == '\n') {
                line++;
            }
        }
        return line;
    }
}
