package io.tributary.config;

import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A size in bytes, written in configuration files as a number and a binary unit: {@code 512KB},
 * {@code 64MB}, {@code 1GB} (1 KB = 1024 bytes), or a plain number of bytes.
 */
public record DataSize(long bytes) {
    private static final Pattern FORM = Pattern.compile("(\\d+)\\s*(b|kb|mb|gb)?");

    public DataSize {
        if (bytes < 1) {
            throw new IllegalArgumentException("A size must be positive, got " + bytes + " bytes");
        }
    }

    public static DataSize ofMegabytes(long megabytes) {
        return new DataSize(megabytes * 1024 * 1024);
    }

    /** The size {@code text} denotes, empty when it is not of the form above or not positive. */
    static Optional<DataSize> parse(String text) {
        Matcher m = FORM.matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            return Optional.empty();
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        long unit = m.group(2) == null ? 1 : switch (m.group(2)) {
            case "kb" -> 1024L;
            case "mb" -> 1024L * 1024;
            case "gb" -> 1024L * 1024 * 1024;
            default -> 1L;
        };
        if (n < 1 || n > Long.MAX_VALUE / unit) {
            return Optional.empty();
        }
        return Optional.of(new DataSize(n * unit));
    }

    @Override
    public String toString() {
        if (bytes % (1024L * 1024) == 0) {
            return bytes / (1024L * 1024) + "MB";
        }
        return bytes % 1024 == 0 ? bytes / 1024 + "KB" : bytes + "B";
    }
}
