package io.tributary.config;

import static java.util.Objects.requireNonNull;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.Month;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.time.zone.ZoneRules;
import java.util.BitSet;
import java.util.List;

/**
 * A five-field cron expression, {@code minute hour day-of-month month day-of-week}, as crontab(5)
 * writes it: each field is {@code *}, a number, a range {@code a-b}, a step {@code *}{@code /n} or
 * {@code a-b/n}, or a comma-separated list of these. The fields range over 0-59, 0-23, 1-31, 1-12
 * and 0-7 (0 and 7 are both Sunday). Names ({@code MON}, {@code JAN}) and the non-standard
 * {@code L}, {@code W}, {@code #} and {@code ?} are not accepted.
 *
 * <p>A day matches as in crontab(5): when both day fields are restricted (written otherwise than
 * {@code *}), a day matching either suffices ({@code 0 0 1 * 1}: the 1st of each month and every
 * Monday); otherwise the restricted one decides.
 *
 * <p>Immutable and thread-safe.
 */
public final class CronExpression {
    private static final String FIELDS = "minute hour day-of-month month day-of-week";

    private final String text;
    private final BitSet minutes;
    private final BitSet hours;
    private final BitSet daysOfMonth;
    private final BitSet months;
    /** Sunday is 0. */
    private final BitSet daysOfWeek;
    private final boolean daysOfMonthRestricted;
    private final boolean daysOfWeekRestricted;

    private CronExpression(String text, String[] fields) {
        this.text = text;
        this.minutes = field("minute", fields[0], 0, 59);
        this.hours = field("hour", fields[1], 0, 23);
        this.daysOfMonth = field("day-of-month", fields[2], 1, 31);
        this.months = field("month", fields[3], 1, 12);
        BitSet weekdays = field("day-of-week", fields[4], 0, 7);
        if (weekdays.get(7)) {
            weekdays.clear(7);
            weekdays.set(0);
        }
        this.daysOfWeek = weekdays;
        this.daysOfMonthRestricted = !fields[2].equals("*");
        this.daysOfWeekRestricted = !fields[4].equals("*");
        if (!daysOfWeekRestricted && !anyMonthHasADay()) {
            throw new IllegalArgumentException("day-of-month: expected a day that some month of the expression has, found '" + fields[2]
                    + "' with month '" + fields[3] + "' in '" + text + "'");
        }
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException naming the field that is not of the form above, or out of
     *         its range, or a day of the month no month of the expression has ({@code 0 0 30 2 *})
     */
    public static CronExpression parse(String text) {
        requireNonNull(text, "text is null");
        String trimmed = text.trim();
        String[] fields = trimmed.isEmpty() ? new String[0] : trimmed.split("\\s+");
        if (fields.length != 5) {
            throw new IllegalArgumentException("expected 5 fields (" + FIELDS + "), found " + fields.length + " in '" + text + "'");
        }
        return new CronExpression(String.join(" ", fields), fields);
    }

    /**
     * The first minute strictly after {@code after} whose wall-clock time in {@code after}'s zone
     * matches, in that zone. A matching time that a daylight-saving gap skips fires at the end of
     * the gap, once however many matching minutes the gap swallowed ({@code 30 1 * * *} in
     * Europe/Lisbon on the last Sunday of March: 02:00 WEST). Wall-clock time is walked forward
     * from {@code after}'s, so an hour repeated when the clocks go back is matched once, at its
     * first occurrence after {@code after}.
     */
    public ZonedDateTime next(ZonedDateTime after) {
        requireNonNull(after, "after is null");
        ZoneId zone = after.getZone();
        ZoneRules rules = zone.getRules();
        LocalDateTime t = after.toLocalDateTime().truncatedTo(ChronoUnit.MINUTES).plusMinutes(1);
        // Terminates: the constructor refused day fields no date matches, and every month has each weekday.
        while (true) {
            if (!months.get(t.getMonthValue())) {
                t = t.toLocalDate().withDayOfMonth(1).plusMonths(1).atStartOfDay();
            } else if (!dayMatches(t.toLocalDate())) {
                t = t.toLocalDate().plusDays(1).atStartOfDay();
            } else if (!hours.get(t.getHour())) {
                t = t.truncatedTo(ChronoUnit.HOURS).plusHours(1);
            } else if (!minutes.get(t.getMinute())) {
                t = t.plusMinutes(1);
            } else {
                ZonedDateTime candidate = earliestAfter(t, zone, rules, after);
                if (candidate != null) {
                    return candidate;
                }
                t = t.plusMinutes(1);
            }
        }
    }

    /** {@code local} in {@code zone} at its earliest instant strictly after {@code after}, the end of the gap for a skipped time; null if none. */
    private static ZonedDateTime earliestAfter(LocalDateTime local, ZoneId zone, ZoneRules rules, ZonedDateTime after) {
        List<ZoneOffset> offsets = rules.getValidOffsets(local);
        if (offsets.isEmpty()) {
            ZonedDateTime gapEnd = rules.getTransition(local).getInstant().atZone(zone);
            return gapEnd.isAfter(after) ? gapEnd : null;
        }
        ZonedDateTime best = null;
        for (ZoneOffset offset : offsets) {
            ZonedDateTime candidate = ZonedDateTime.ofLocal(local, zone, offset);
            if (candidate.isAfter(after) && (best == null || candidate.isBefore(best))) {
                best = candidate;
            }
        }
        return best;
    }

    private boolean dayMatches(LocalDate date) {
        boolean dayOfMonth = daysOfMonth.get(date.getDayOfMonth());
        boolean dayOfWeek = daysOfWeek.get(date.getDayOfWeek().getValue() % 7);
        if (daysOfMonthRestricted && daysOfWeekRestricted) {
            return dayOfMonth || dayOfWeek;
        }
        return dayOfMonth && dayOfWeek;
    }

    private boolean anyMonthHasADay() {
        for (int month = months.nextSetBit(1); month >= 0; month = months.nextSetBit(month + 1)) {
            int longest = Month.of(month).maxLength();
            if (daysOfMonth.nextSetBit(1) <= longest) {
                return true;
            }
        }
        return false;
    }

    private BitSet field(String name, String field, int min, int max) {
        BitSet values = new BitSet(max + 1);
        for (String item : field.split(",", -1)) {
            String range = item;
            int step = 1;
            int slash = item.indexOf('/');
            if (slash >= 0) {
                range = item.substring(0, slash);
                String stepDigits = item.substring(slash + 1);
                if (!range.equals("*") && !range.contains("-") || !stepDigits.matches("\\d{1,2}")) {
                    throw problem(name, "a step */n or a-b/n", item);
                }
                step = Integer.parseInt(stepDigits);
                if (step < 1 || step > max) {
                    throw problem(name, "a step between 1 and " + max, item);
                }
            }
            int from;
            int to;
            if (range.equals("*")) {
                from = min;
                to = max;
            } else if (range.contains("-")) {
                int dash = range.indexOf('-');
                from = number(name, range.substring(0, dash), min, max, item);
                to = number(name, range.substring(dash + 1), min, max, item);
                if (from > to) {
                    throw problem(name, "a range a-b with a <= b", item);
                }
            } else {
                from = number(name, range, min, max, item);
                to = from;
            }
            for (int v = from; v <= to; v += step) {
                values.set(v);
            }
        }
        return values;
    }

    private int number(String name, String digits, int min, int max, String item) {
        if (!digits.matches("\\d{1,2}")) {
            throw problem(name, "*, a number, a range a-b or a step */n or a-b/n, in " + min + "-" + max, item);
        }
        int value = Integer.parseInt(digits);
        if (value < min || value > max) {
            throw problem(name, "values in " + min + "-" + max, item);
        }
        return value;
    }

    private IllegalArgumentException problem(String name, String expected, String item) {
        return new IllegalArgumentException(name + ": expected " + expected + ", found '" + item + "' in '" + text + "'");
    }

    /** The expression, its fields separated by one space. */
    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CronExpression cron && cron.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }
}
