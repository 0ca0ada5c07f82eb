package io.tributary.cli;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses an ISO-8601 instant with a zone offset: {@code 2026-11-22T10:15:00Z}, {@code 2026-11-22T11:15:00.5+01:00}. */
final class InstantArgument implements ITypeConverter<Instant> {
    @Override
    public Instant convert(String text) {
        try {
            return OffsetDateTime.parse(text.strip()).toInstant();
        } catch (DateTimeParseException e) {
            throw new TypeConversionException("cannot read '" + text + "' as an instant: use ISO-8601 with a zone offset, "
                    + "e.g. 2026-11-22T10:15:00Z or 2026-11-22T11:15:00+01:00");
        }
    }
}
