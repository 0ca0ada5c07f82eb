package io.tributary.lake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ColumnType;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.SourcePosition;
import io.tributary.spi.TableId;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Iceberg keeps absolute file locations: a lake moved or copied to another folder is reported as
 * such, naming the paths, with an EXTERNAL error (exit 4), never read or written through its old files.
 */
class MovedLakeTest {
    private static final TableSchema ITEMS = new TableSchema(new TableId("public", "items"),
            List.of(Column.required("id", ColumnType.Primitive.INT64, "bigint")), List.of("id"));

    @TempDir
    Path dir;

    private Path writeLake(Path warehouse) {
        try (Lake lake = TestLakes.open(warehouse)) {
            TestLakes.commit(lake, List.of(new ChangeEvent(ChangeOperation.CREATE, ITEMS, null, Row.of(1L), SourcePosition.ofSequence(100, 0), 1,
                    Instant.parse("2026-12-01T00:00:00Z"), null)));
        }
        return warehouse;
    }

    @Test
    void aMovedLakeNamesTheMissingFile() throws IOException {
        Path original = writeLake(dir.resolve("lake"));
        Path moved = Files.move(original, dir.resolve("elsewhere"));
        try (Lake lake = TestLakes.open(moved)) {
            assertThatThrownBy(lake::tables).isInstanceOfSatisfying(TributaryException.class, e -> {
                assertThat(e.errorCode()).isEqualTo(ErrorCode.LAKE_IO_FAILED);
                assertThat(e.errorCode().kind().exitCode()).isEqualTo(4);
            }).hasMessageContaining(original.toString()).hasMessageContaining("moved or copied").hasMessageContaining("Moving a lake");
        }
    }

    @Test
    void aCopiedLakeDoesNotReadOrWriteTheOriginal() throws IOException {
        Path original = writeLake(dir.resolve("lake"));
        Path copy = dir.resolve("copy");
        try (Stream<Path> files = Files.walk(original)) {
            for (Path p : files.toList()) {
                Path target = copy.resolve(original.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
        try (Lake lake = TestLakes.open(copy)) {
            assertThatThrownBy(lake::tables).isInstanceOfSatisfying(TributaryException.class, e -> assertThat(e.errorCode()).isEqualTo(ErrorCode.LAKE_IO_FAILED))
                    .hasMessageContaining("outside it").hasMessageContaining(copy.toAbsolutePath().normalize().toString())
                    .hasMessageContaining(original.toString());
        }
    }

    @Test
    void aLakeReachedThroughASymbolicLinkIsTheSameLake() throws IOException {
        Path original = writeLake(dir.resolve("lake"));
        Path link = Files.createSymbolicLink(dir.resolve("link"), original);
        try (Lake lake = TestLakes.open(link)) {
            assertThat(lake.tables()).isNotEmpty();
        }
    }
}
