package io.tributary.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** What the fixtures that run a server in a child process share: its class path file and its abrupt stop. */
final class ChildProcesses {
    private ChildProcesses() {
    }

    /**
     * The class path a {@code module}'s build wrote to {@code resource} (one line), found on the
     * test's class path.
     *
     * @throws IllegalStateException when the resource is missing (the test module lacks its
     *         dependency on {@code module}) or empty
     */
    static String classPath(String resource, String module) {
        try (InputStream in = ChildProcesses.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("No " + resource + " on the class path: the test module needs a test dependency on "
                        + module + " (all transitive dependencies excluded), built by Maven");
            }
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                String classPath = reader.readLine();
                if (classPath == null || classPath.isBlank()) {
                    throw new IllegalStateException(resource + " is empty");
                }
                return classPath.strip();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Kills {@code process} (SIGKILL) and waits up to 30 s for it to end; nothing when it is null. */
    static void kill(Process process) {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
