package io.tributary.config;

import static java.util.Objects.requireNonNull;

/**
 * A secret value resolved from an {@code ${env:NAME}} or {@code ${file:path}} reference. Its
 * {@link #toString()} is masked, so it never reaches a log, a status page or an error message.
 */
public final class Secret {
    private static final String MASK = "****";
    private final String value;
    private final String reference;

    public Secret(String value, String reference) {
        this.value = requireNonNull(value, "value is null");
        this.reference = requireNonNull(reference, "reference is null");
    }

    /** The clear value, for handing to a driver; never log it. */
    public String reveal() {
        return value;
    }

    /** Where the value came from, e.g. {@code ${env:PGPASSWORD}}; safe to print. */
    public String reference() {
        return reference;
    }

    /** Replaces every occurrence of the clear value in {@code text} with a mask. */
    public String mask(String text) {
        return value.isEmpty() || text == null ? text : text.replace(value, MASK);
    }

    @Override
    public String toString() {
        return MASK;
    }
}
