package io.tributary.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import org.junit.jupiter.api.Test;

class CronExpressionTest {
    private static final ZoneId LISBON = ZoneId.of("Europe/Lisbon");

    private static ZonedDateTime utc(String localDateTime) {
        return ZonedDateTime.of(java.time.LocalDateTime.parse(localDateTime), ZoneOffset.UTC);
    }

    @Test
    void everyFifteenMinutesFiresOnTheQuarterStrictlyAfterTheGivenTime() {
        CronExpression cron = CronExpression.parse("*/15 * * * *");
        assertThat(cron.next(utc("2026-01-01T10:07:30"))).isEqualTo(utc("2026-01-01T10:15"));
        assertThat(cron.next(utc("2026-01-01T10:15"))).as("strictly after").isEqualTo(utc("2026-01-01T10:30"));
        assertThat(cron.next(utc("2026-01-01T10:14:59.999"))).isEqualTo(utc("2026-01-01T10:15"));
        assertThat(cron.next(utc("2026-12-31T23:50"))).isEqualTo(utc("2027-01-01T00:00"));
    }

    @Test
    void aDailyTimeCrossesDayMonthAndYearBoundaries() {
        CronExpression cron = CronExpression.parse("0 2 * * *");
        assertThat(cron.next(utc("2026-01-01T01:59"))).isEqualTo(utc("2026-01-01T02:00"));
        assertThat(cron.next(utc("2026-01-01T02:00"))).isEqualTo(utc("2026-01-02T02:00"));
        assertThat(cron.next(utc("2026-01-31T23:30"))).isEqualTo(utc("2026-02-01T02:00"));
        assertThat(cron.next(utc("2026-12-31T02:00"))).isEqualTo(utc("2027-01-01T02:00"));
        assertThat(cron.next(utc("2026-01-01T01:59").withZoneSameInstant(LISBON))).as("in the zone of the time given")
                .isEqualTo(ZonedDateTime.of(2026, 1, 1, 2, 0, 0, 0, LISBON));
    }

    @Test
    void aListOfWeekdaysFiresOnEachOfThem() {
        // 2026-01-01 is a Thursday.
        CronExpression cron = CronExpression.parse("0 9 * * 1,3,5");
        assertThat(cron.next(utc("2026-01-01T12:00"))).isEqualTo(utc("2026-01-02T09:00"));
        assertThat(cron.next(utc("2026-01-02T09:00"))).isEqualTo(utc("2026-01-05T09:00"));
        assertThat(cron.next(utc("2026-01-05T09:00"))).isEqualTo(utc("2026-01-07T09:00"));
        assertThat(CronExpression.parse("30 8 * * 1-5").next(utc("2026-01-02T09:00"))).as("a range skips the weekend").isEqualTo(utc("2026-01-05T08:30"));
    }

    @Test
    void bothDayFieldsRestrictedFireOnEitherAndOneRestrictedDecidesAlone() {
        CronExpression fridayOrThirteenth = CronExpression.parse("0 0 13 * 5");
        assertThat(fridayOrThirteenth.next(utc("2026-01-01T00:00"))).isEqualTo(utc("2026-01-02T00:00"));
        assertThat(fridayOrThirteenth.next(utc("2026-01-09T00:00"))).as("Tuesday the 13th").isEqualTo(utc("2026-01-13T00:00"));
        assertThat(fridayOrThirteenth.next(utc("2026-01-13T00:00"))).isEqualTo(utc("2026-01-16T00:00"));
        assertThat(CronExpression.parse("0 0 13 * *").next(utc("2026-01-01T00:00"))).isEqualTo(utc("2026-01-13T00:00"));
        assertThat(CronExpression.parse("0 0 * * 5").next(utc("2026-01-02T00:00"))).isEqualTo(utc("2026-01-09T00:00"));
        assertThat(CronExpression.parse("0 0 * 2 1").next(utc("2026-01-01T00:00"))).as("Mondays of February")
                .isEqualTo(utc("2026-02-02T00:00"));
        assertThat(CronExpression.parse("0 0 29 2 *").next(utc("2026-01-01T00:00"))).as("the next leap day").isEqualTo(utc("2028-02-29T00:00"));
    }

    @Test
    void sundayIsBothZeroAndSeven() {
        CronExpression seven = CronExpression.parse("0 12 * * 7");
        assertThat(seven.next(utc("2026-01-01T00:00"))).isEqualTo(utc("2026-01-04T12:00"));
        assertThat(CronExpression.parse("0 12 * * 0").next(utc("2026-01-01T00:00"))).isEqualTo(utc("2026-01-04T12:00"));
        CronExpression weekend = CronExpression.parse("0 12 * * 6-7");
        assertThat(weekend.next(utc("2026-01-01T00:00"))).isEqualTo(utc("2026-01-03T12:00"));
        assertThat(weekend.next(utc("2026-01-03T12:00"))).isEqualTo(utc("2026-01-04T12:00"));
        assertThat(weekend.next(utc("2026-01-04T12:00"))).isEqualTo(utc("2026-01-10T12:00"));
    }

    @Test
    void aTimeSkippedBySpringForwardInLisbonFiresOnceAtTheEndOfTheGap() {
        // 2026-03-29, 01:00 WET: Lisbon's clocks go to 02:00 WEST, so 01:30 does not exist that day.
        CronExpression cron = CronExpression.parse("30 1 * * *");
        assertThat(cron.next(ZonedDateTime.of(2026, 3, 27, 12, 0, 0, 0, LISBON))).isEqualTo(ZonedDateTime.of(2026, 3, 28, 1, 30, 0, 0, LISBON));
        ZonedDateTime gapEnd = cron.next(ZonedDateTime.of(2026, 3, 28, 12, 0, 0, 0, LISBON));
        assertThat(gapEnd).isEqualTo(ZonedDateTime.of(2026, 3, 29, 2, 0, 0, 0, LISBON));
        assertThat(gapEnd.getOffset()).isEqualTo(ZoneOffset.ofHours(1));
        assertThat(gapEnd.toInstant()).isEqualTo(utc("2026-03-29T01:00").toInstant());
        assertThat(cron.next(gapEnd)).isEqualTo(ZonedDateTime.of(2026, 3, 30, 1, 30, 0, 0, LISBON));
        CronExpression everyQuarterAtOne = CronExpression.parse("*/15 1 * * *");
        assertThat(everyQuarterAtOne.next(ZonedDateTime.of(2026, 3, 29, 0, 50, 0, 0, LISBON))).as("four skipped times, one run").isEqualTo(gapEnd);
        assertThat(everyQuarterAtOne.next(gapEnd)).isEqualTo(ZonedDateTime.of(2026, 3, 30, 1, 0, 0, 0, LISBON));
    }

    @Test
    void aTimeRepeatedByFallBackInLisbonFiresOnce() {
        // 2026-10-25, 02:00 WEST: Lisbon's clocks go back to 01:00 WET, so 01:30 happens twice.
        CronExpression cron = CronExpression.parse("30 1 * * *");
        ZonedDateTime first = cron.next(ZonedDateTime.of(2026, 10, 25, 0, 0, 0, 0, LISBON));
        assertThat(first.toInstant()).isEqualTo(utc("2026-10-25T00:30").toInstant());
        assertThat(cron.next(first)).isEqualTo(ZonedDateTime.of(2026, 10, 26, 1, 30, 0, 0, LISBON));
        ZonedDateTime duringTheSecondPass = ZonedDateTime.ofInstant(utc("2026-10-25T01:10").toInstant(), LISBON);
        assertThat(cron.next(duringTheSecondPass).toInstant()).as("the repeated 01:30 still ahead").isEqualTo(utc("2026-10-25T01:30").toInstant());
    }

    @Test
    void refusesMalformedExpressionsNamingTheField() {
        assertThatThrownBy(() -> CronExpression.parse("0 2 * *")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected 5 fields (minute hour day-of-month month day-of-week), found 4 in '0 2 * *'");
        assertThatThrownBy(() -> CronExpression.parse("60 * * * *")).hasMessageStartingWith("minute: expected values in 0-59, found '60'");
        assertThatThrownBy(() -> CronExpression.parse("0 24 * * *")).hasMessage("hour: expected values in 0-23, found '24' in '0 24 * * *'");
        assertThatThrownBy(() -> CronExpression.parse("0 0 0 * *")).hasMessageStartingWith("day-of-month: expected values in 1-31, found '0'");
        assertThatThrownBy(() -> CronExpression.parse("0 0 * 13 *")).hasMessageStartingWith("month: expected values in 1-12, found '13'");
        assertThatThrownBy(() -> CronExpression.parse("0 0 * * 8")).hasMessageStartingWith("day-of-week: expected values in 0-7, found '8'");
        assertThatThrownBy(() -> CronExpression.parse("0 0 * * MON")).hasMessageStartingWith("day-of-week: expected *, a number");
        assertThatThrownBy(() -> CronExpression.parse("*/0 * * * *")).hasMessageStartingWith("minute: expected a step between 1 and 59, found '*/0'");
        assertThatThrownBy(() -> CronExpression.parse("5/10 * * * *")).hasMessageStartingWith("minute: expected a step */n or a-b/n, found '5/10'");
        assertThatThrownBy(() -> CronExpression.parse("0 5-1 * * *")).hasMessageStartingWith("hour: expected a range a-b with a <= b, found '5-1'");
        assertThatThrownBy(() -> CronExpression.parse("0 1,,2 * * *")).hasMessageStartingWith("hour: expected *, a number");
        assertThatThrownBy(() -> CronExpression.parse("0 0 30 2 *")).hasMessageStartingWith("day-of-month: expected a day that some month of the expression has");
        assertThat(CronExpression.parse("0 0 30 2 1").next(utc("2026-01-01T00:00"))).as("Mondays of February: the day of week decides")
                .isEqualTo(utc("2026-02-02T00:00"));
        assertThat(CronExpression.parse(" 0-30/10  1,2 1-31/2 * 0 ")).hasToString("0-30/10 1,2 1-31/2 * 0");
    }
}
