package io.tributary.testing;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A real S3-compatible server for tests: S3Proxy ({@code org.gaul:s3proxy}, the Maven artifact's
 * {@code jar-with-dependencies}) run as a child JVM on loopback at a free port, storing objects in
 * a folder ({@code jclouds.provider=filesystem}), with AWS signature v2/v4 authentication by a fixed
 * access key. {@link #stop()} and {@link #start()} stop and restart it on the same port and folder,
 * so a test can take the store away in the middle of a commit.
 */
public final class TestingS3 implements AutoCloseable {
    public static final String ACCESS_KEY_ID = "tributary-test";
    public static final String SECRET_ACCESS_KEY = "tributary-test-secret";
    private static final String JAR_RESOURCE = "io/tributary/testing/s3proxy.properties";

    private final Path folder;
    private final int port;
    private Process process;

    private TestingS3(Path folder, int port) {
        this.folder = folder;
        this.port = port;
    }

    /** Starts S3Proxy keeping its buckets in {@code folder}/data, its log in {@code folder}/s3proxy.log. */
    public static TestingS3 start(Path folder) {
        TestingS3 s3 = new TestingS3(folder, Loopback.freePort());
        s3.start();
        return s3;
    }

    /** The endpoint URL, {@code http://127.0.0.1:<port>}: use path-style access. */
    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    /** Creates bucket {@code name} (an empty folder of the store). */
    public void createBucket(String name) {
        try {
            Files.createDirectories(folder.resolve("data").resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The objects under {@code prefix} of {@code bucket}, as keys; for assertions on what was written. */
    public List<String> keys(String bucket, String prefix) {
        Path root = folder.resolve("data").resolve(bucket);
        List<String> out = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return out;
        }
        try (var files = Files.walk(root)) {
            files.filter(Files::isRegularFile).map(p -> root.relativize(p).toString().replace(File.separatorChar, '/'))
                    .filter(k -> k.startsWith(prefix)).sorted().forEach(out::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    /** Starts the server (again, after {@link #stop()}) and waits until it accepts connections. */
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        try {
            Files.createDirectories(folder.resolve("data"));
            Path properties = folder.resolve("s3proxy.properties");
            Files.writeString(properties, String.join("\n",
                    "s3proxy.endpoint=" + endpoint(),
                    "s3proxy.authorization=aws-v2-or-v4",
                    "s3proxy.identity=" + ACCESS_KEY_ID,
                    "s3proxy.credential=" + SECRET_ACCESS_KEY,
                    "jclouds.provider=filesystem",
                    "jclouds.filesystem.basedir=" + folder.resolve("data").toAbsolutePath(), ""));
            List<String> command = List.of(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java", "-Xmx256m",
                    "-jar", jar(), "--properties", properties.toString());
            process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(folder.resolve("s3proxy.log").toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("Cannot start S3Proxy", e);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("S3Proxy exited with " + process.exitValue() + "; see " + folder.resolve("s3proxy.log"));
            }
            if (Loopback.accepts(port)) {
                return;
            }
            Loopback.sleep(100, "S3Proxy");
        }
        throw new IllegalStateException("S3Proxy did not start within 60 s; see " + folder.resolve("s3proxy.log"));
    }

    /** Stops the server abruptly (SIGKILL): requests in flight fail with a reset connection. */
    public synchronized void stop() {
        ChildProcesses.kill(process);
    }

    @Override
    public void close() {
        stop();
    }

    private static String jar() {
        Properties p = new Properties();
        try (InputStream in = TestingS3.class.getClassLoader().getResourceAsStream(JAR_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("No " + JAR_RESOURCE + " on the class path: build tributary-testing with Maven");
            }
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String jar = p.getProperty("jar");
        if (jar == null || !Files.isRegularFile(Path.of(jar))) {
            throw new IllegalStateException("The S3Proxy jar " + jar + " is missing: run 'mvn -pl tributary-testing generate-resources'");
        }
        return jar;
    }
}
