package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code tributary} launcher script rebuilds the jar only when the project's sources changed.
 * Runs the real script in a copy of the project's layout, with stand-ins for {@code mvn} and
 * {@code java} that only record that they ran.
 */
class LauncherScriptTest {
    private static final Instant BUILT = Instant.parse("2026-12-01T10:00:00Z");

    @TempDir
    Path root;

    /** Regression: the first command after {@code ./tributary demo} rebuilt the jar, counting the demo lake's models/*.sql as sources. */
    @Test
    void aLakeUnderTheCheckoutIsNotASourceButAModuleSourceIs() throws Exception {
        Files.copy(Path.of("..", "tributary"), root.resolve("tributary"));
        Files.writeString(root.resolve("pom.xml"), "<project/>");
        Files.createDirectories(root.resolve("tributary-cli/src/main/java"));
        Files.writeString(root.resolve("tributary-cli/pom.xml"), "<project/>");
        Path source = Files.writeString(root.resolve("tributary-cli/src/main/java/Main.java"), "class Main {}");
        Files.createDirectories(root.resolve("tributary-cli/target"));
        Files.writeString(root.resolve("tributary-cli/target/tributary.jar"), "");
        for (Path p : new Path[] {root.resolve("pom.xml"), root.resolve("tributary-cli/pom.xml"), source}) {
            Files.setLastModifiedTime(p, FileTime.from(BUILT.minusSeconds(60)));
        }
        Files.setLastModifiedTime(Files.writeString(root.resolve("tributary-cli/target/.tributary-built"), ""), FileTime.from(BUILT));
        // What ./tributary demo leaves behind after the build: a lake with model files, a catalog and a config.
        Files.createDirectories(root.resolve("demo-lake/models/gold"));
        Files.writeString(root.resolve("demo-lake/models/gold/revenue.sql"), "SELECT 1");
        Files.writeString(root.resolve("demo-lake/pipeline.yaml"), "name: demo");
        Files.writeString(root.resolve("demo-lake/lake-metadata.xml"), "<x/>");
        Path bin = Files.createDirectories(root.resolve("bin"));
        stub(bin.resolve("mvn"), "echo built >> \"" + root.resolve("mvn.calls") + "\"");
        stub(bin.resolve("java"), "echo ran");

        Run afterDemo = launch(bin);
        assertThat(afterDemo.output()).contains("ran").doesNotContain("Building");
        assertThat(root.resolve("mvn.calls")).doesNotExist();

        Files.setLastModifiedTime(source, FileTime.from(Instant.now()));
        Run afterEdit = launch(bin);
        assertThat(afterEdit.output()).contains("Building Tributary", "ran");
        assertThat(root.resolve("mvn.calls")).exists();
    }

    private record Run(int exitCode, String output) {
    }

    private Run launch(Path bin) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder("bash", root.resolve("tributary").toString(), "status", "-c", "demo-lake/pipeline.yaml")
                .redirectErrorStream(true).directory(root.toFile());
        builder.environment().put("PATH", bin + ":" + System.getenv("PATH"));
        Process p = builder.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return new Run(p.exitValue(), output);
    }

    private static void stub(Path file, String body) throws IOException {
        Files.writeString(file, "#!/usr/bin/env bash\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
