package io.tributary.cli;

import io.tributary.config.PipelineConfig;
import io.tributary.pipeline.Pipeline;
import io.tributary.spi.ChangeSource;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "run", description = "Replicate the source into the lake until SIGTERM/Ctrl-C (or, with --once, until caught up).")
final class RunCommand implements Callable<Integer> {
    /** How long SIGTERM waits for the commit in progress before the JVM exits anyway. */
    private static final long SHUTDOWN_GRACE_SECONDS = 30;

    @Mixin
    ConfigOption options;

    @Option(names = "--once", description = "Initial snapshot if needed, catch up to the source's current WAL position, commit, exit 0.")
    boolean once;

    @Override
    public Integer call() throws InterruptedException {
        PipelineConfig config = options.load();
        CountDownLatch done = new CountDownLatch(1);
        try (Pipeline pipeline = Pipeline.open(config)) {
            // SIGTERM / Ctrl-C: stop capture, let run() commit what was delivered, then exit.
            Thread hook = new Thread(() -> {
                pipeline.close();
                try {
                    done.await(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "tributary-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            try {
                pipeline.run(once ? ChangeSource.RunMode.CATCH_UP : ChangeSource.RunMode.CONTINUOUS);
                pipeline.lake().close();
            } finally {
                done.countDown();
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException shuttingDown) {
                    // the hook is running: the JVM is stopping
                }
            }
        }
        return 0;
    }
}
