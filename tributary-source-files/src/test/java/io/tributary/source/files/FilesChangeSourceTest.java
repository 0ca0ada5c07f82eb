package io.tributary.source.files;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.FilesSourceConfig;
import io.tributary.config.ReconnectConfig;
import io.tributary.spi.ChangeBatch;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeHandler;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.SourceOffset;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.SourceSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files source on its own, with a handler that records what it is handed (the lake's side is tested in FilesSourceIT). */
class FilesChangeSourceTest {
    @TempDir
    Path dir;

    private static final class Recorder implements ChangeHandler {
        final List<ChangeEvent> events = new ArrayList<>();
        SourceOffset offset;

        @Override
        public Optional<SourcePosition> accept(ChangeBatch batch) {
            events.addAll(batch.events());
            offset = batch.offset();
            return Optional.of(batch.through());
        }

        @Override
        public Optional<SourcePosition> drain() {
            return Optional.empty();
        }
    }

    private FilesSourceConfig settings(Optional<String> schedule, Optional<Duration> every) {
        return new FilesSourceConfig(dir.toString(), schedule, every, ZoneId.of("Europe/Lisbon"), List.of(new FilesSourceConfig.FileTable("t", "*.csv",
                FilesSourceConfig.Format.CSV, List.of(), FilesSourceConfig.Csv.DEFAULT, Map.of(), Optional.empty(), 0.0)), Duration.ofSeconds(30), ReconnectConfig.DEFAULT);
    }

    private static SourceSession session(Optional<SourceOffset> offset) {
        return new SourceSession(offset, SourcePosition.BEGINNING, false, Duration.ofSeconds(30), 1000, false);
    }

    @Test
    void pollsFollowTheScheduleInItsTimeZoneOrTheInterval() {
        Instant now = Instant.parse("2026-03-28T23:30:00Z");
        FilesChangeSource cron = new FilesChangeSource(settings(Optional.of("0 2 * * *"), Optional.empty()), session(Optional.empty()), Clock.systemUTC());
        // 02:00 in Lisbon on 2026-03-29: the clocks go from 01:00 to 02:00 WEST that night, 01:00 UTC.
        assertThat(cron.nextPoll(now)).isEqualTo(Instant.parse("2026-03-29T01:00:00Z"));
        FilesChangeSource every = new FilesChangeSource(settings(Optional.empty(), Optional.of(Duration.ofMinutes(15))), session(Optional.empty()), Clock.systemUTC());
        assertThat(every.nextPoll(now)).isEqualTo(now.plus(Duration.ofMinutes(15)));
    }

    @Test
    void aFileStillBeingWrittenWaitsForTheNextPoll() throws Exception {
        Path growing = dir.resolve("growing.csv");
        Files.writeString(growing, "a,b\n");
        Thread writer = new Thread(() -> {
            try {
                for (int i = 1; i <= 30; i++) {
                    Files.writeString(growing, i + ",x\n", StandardOpenOption.APPEND);
                    // A slow writer: one line every 100 ms, for 3 s in all.
                    Thread.sleep(100);
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        writer.start();
        // The run starts once the writer has appended: the file is growing when it is first listed.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (Files.size(growing) == 4 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertThat(Files.size(growing)).as("the writer appended").isGreaterThan(4);
        Recorder first = new Recorder();
        new FilesChangeSource(settings(Optional.empty(), Optional.empty()), session(Optional.empty()), Clock.systemUTC()).run(first, ChangeSource.RunMode.CATCH_UP);
        boolean stillWriting = writer.isAlive();
        writer.join();
        if (stillWriting) {
            assertThat(first.events).as("a file growing across the settle interval is not read").isEmpty();
        }
        Recorder second = new Recorder();
        new FilesChangeSource(settings(Optional.empty(), Optional.empty()), session(Optional.ofNullable(first.offset)), Clock.systemUTC())
                .run(second, ChangeSource.RunMode.CATCH_UP);
        assertThat(second.events).hasSize(30);
        assertThat(second.events.get(29).after().get(0)).isEqualTo(30L);
        // Ingested once: a third run finds nothing new.
        Recorder third = new Recorder();
        new FilesChangeSource(settings(Optional.empty(), Optional.empty()), session(Optional.of(second.offset)), Clock.systemUTC()).run(third, ChangeSource.RunMode.CATCH_UP);
        assertThat(third.events).isEmpty();
    }
}
