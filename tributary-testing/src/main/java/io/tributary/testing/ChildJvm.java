package io.tributary.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;

/**
 * A main class run in a child JVM on this JVM's class path, its output appended to a log file, so a
 * test can kill it with SIGKILL ({@link #kill()}) the way the OOM killer or a power cut would.
 */
public final class ChildJvm implements AutoCloseable {
    private final Process process;

    private ChildJvm(Process process) {
        this.process = process;
    }

    /**
     * @param jvmArgs options for the child JVM, such as {@code -Dname=value}
     * @param log     file the child's stdout and stderr are appended to
     */
    public static ChildJvm start(String mainClass, List<String> jvmArgs, List<String> args, Path log) {
        return start(mainClass, jvmArgs, args, log, java.util.Map.of());
    }

    /** As {@link #start(String, List, List, Path)}, with {@code environment} added to the child's environment variables. */
    public static ChildJvm start(String mainClass, List<String> jvmArgs, List<String> args, Path log, java.util.Map<String, String> environment) {
        List<String> command = new ArrayList<>();
        command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        command.add("-Xmx1g");
        command.addAll(jvmArgs);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(mainClass);
        command.addAll(args);
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            builder.environment().putAll(environment);
            return new ChildJvm(builder.start());
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start " + mainClass, e);
        }
    }

    /** Sends SIGKILL and waits for the process to be gone. */
    public void kill() {
        process.destroyForcibly();
        waitFor(Duration.ofSeconds(30));
    }

    /** Sends SIGTERM (a clean stop) and waits up to {@code timeout}; the exit code, or empty if the child still runs. */
    public OptionalInt stop(Duration timeout) {
        process.destroy();
        return waitFor(timeout);
    }

    /** The exit code, or empty if the child is still running after {@code timeout}. */
    public OptionalInt waitFor(Duration timeout) {
        try {
            return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS) ? OptionalInt.of(process.exitValue()) : OptionalInt.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OptionalInt.empty();
        }
    }

    /** The child's process id, as a lease or an error message names it. */
    public long pid() {
        return process.pid();
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            kill();
        }
    }
}
