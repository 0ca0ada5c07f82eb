package io.tributary.cli;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.pipeline.BackgroundRun;
import io.tributary.pipeline.Pipeline;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.TributaryException;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "demo", description = "Start an embedded PostgreSQL online shop with a live workload and replicate it into ./demo-lake; Ctrl-C stops, running again resumes.")
final class DemoCommand implements Callable<Integer> {
    private static final List<String> MODELS = List.of("revenue_per_day_country", "top_products", "customer_lifetime_value");

    @Option(names = "--dir", defaultValue = "demo-lake", description = "Where the demo keeps its database, lake and models (default: ${DEFAULT-VALUE}).")
    Path dir;

    @Option(names = "--rate", defaultValue = "20", description = "Business transactions per second of the workload (default: ${DEFAULT-VALUE}).")
    int rate;

    @Option(names = "--duration", description = "Stop after this many seconds (default: run until Ctrl-C).")
    Integer duration;

    @Option(names = "--report-every", defaultValue = "5", description = "Seconds between status reports (default: ${DEFAULT-VALUE}).")
    int reportEvery;

    @Option(names = "--debug", description = "Print stack traces with errors.")
    boolean debug;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path root = dir.toAbsolutePath().normalize();
        Files.createDirectories(root);
        writeModels(root.resolve("models/gold"));
        out.println("Starting embedded PostgreSQL in " + root.resolve("postgres") + " ...");
        out.flush();
        try (EmbeddedPostgres pg = EmbeddedPostgres.builder()
                .setDataDirectory(root.resolve("postgres"))
                .setCleanDataDirectory(false)
                .setServerConfig("wal_level", "logical")
                .setServerConfig("max_wal_senders", "4")
                .setServerConfig("max_replication_slots", "4")
                .setPGStartupWait(Duration.ofSeconds(60))
                .start()) {
            writeConfig(root, pg.getPort());
            try (Connection c = pg.getPostgresDatabase().getConnection()) {
                if (new DemoShop(7).create(c, 2_000, 300, 20_000)) {
                    out.println("Created the shop schema and loaded 2,000 customers, 300 products, 20,000 orders");
                }
            }
            PipelineConfig config = new PipelineConfig("demo",
                    new PostgresSourceConfig("127.0.0.1", pg.getPort(), "postgres", "postgres", Optional.empty(), SslMode.DISABLE, List.of(),
                            "tributary_demo", "tributary_demo", Duration.ofSeconds(10), Duration.ofSeconds(10)),
                    new LakeConfig(root.resolve("lake"), LakeConfig.RawLayer.ENABLED, LakeConfig.HistoryLayer.ENABLED, root.resolve(io.tributary.config.ConfigLoader.DEFAULT_STATE_DIR)),
                    new ModelsConfig(Optional.of(root.resolve("models")), Duration.ofSeconds(10)),
                    new CommitConfig(Duration.ofSeconds(1), 100_000), Map.of());
            return replicate(pg, config, out);
        }
    }

    private int replicate(EmbeddedPostgres pg, PipelineConfig config, PrintWriter out) throws Exception {
        CountDownLatch stopWorkload = new CountDownLatch(1);
        Pipeline pipeline = Pipeline.open(config);
        BackgroundRun run = BackgroundRun.start(pipeline, ChangeSource.RunMode.CONTINUOUS);
        Thread workload = new Thread(() -> workload(pg, stopWorkload), "tributary-demo-workload");
        workload.start();
        Instant end = duration == null ? Instant.MAX : Instant.now().plusSeconds(duration);
        // Ctrl-C or SIGTERM: stop the workload and capture; the last batch is committed below.
        java.util.concurrent.atomic.AtomicBoolean signalled = new java.util.concurrent.atomic.AtomicBoolean();
        try (StopSignals signals = new StopSignals(() -> {
            signalled.set(true);
            stopWorkload.countDown();
            pipeline.close();
        })) {
            while (run.isRunning() && Instant.now().isBefore(end)) {
                if (!run.await(Duration.ofSeconds(reportEvery))) {
                    report(config, out);
                }
            }
        }
        stopWorkload.countDown();
        workload.join(10_000);
        // The end of --duration is a stop like a signal's: Debezium's failed close of the replication
        // connection the stop ended is expected there too.
        StopSignals.silenceExpectedCloseErrors();
        try {
            run.stop(Duration.ofSeconds(120));
        } finally {
            pipeline.lake().close();
        }
        if (!signalled.get()) {
            // After Ctrl-C the status printed every few seconds stands: a last one (a scan of every table) would only delay the exit.
            report(config, out);
        }
        out.println("Stopped. Run './tributary demo' again to resume, or query the lake:");
        out.println("  ./tributary sql -c " + dir.resolve("pipeline.yaml") + " \"SELECT * FROM gold.top_products LIMIT 5\"");
        out.flush();
        return 0;
    }

    private void workload(EmbeddedPostgres pg, CountDownLatch stop) {
        DemoShop shop = new DemoShop(System.nanoTime());
        long intervalNanos = 1_000_000_000L / Math.max(1, rate);
        try (Connection c = pg.getPostgresDatabase().getConnection()) {
            long next = System.nanoTime();
            while (stop.getCount() > 0) {
                shop.change(c);
                next += intervalNanos;
                long wait = next - System.nanoTime();
                if (wait > 0 && stop.await(wait, java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    return;
                }
            }
        } catch (SQLException e) {
            if (stop.getCount() > 0) {
                spec.commandLine().getErr().println("warning: the demo workload stopped: " + e.getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void report(PipelineConfig config, PrintWriter out) {
        try (io.tributary.lake.Lake lake = io.tributary.lake.Lake.open(config.lake(), config.name(), config::optionsFor)) {
            List<io.tributary.lake.scan.LakeTable> tables = lake.tables();
            try (QueryEngine q = QueryEngine.open(tables)) {
                StatusCommand.print(StatusCommand.report(config, lake, tables, q), false, out);
                if (tables.stream().anyMatch(t -> t.qualifiedName().equals("gold.revenue_per_day_country"))) {
                    out.println();
                    out.println("gold.revenue_per_day_country, latest days:");
                    ResultPrinter.print(q.query("SELECT day, country, orders, revenue FROM gold.revenue_per_day_country ORDER BY day DESC, revenue DESC LIMIT 5"),
                            ResultPrinter.Format.TABLE, out);
                }
            }
            out.println();
            out.flush();
        } catch (TributaryException e) {
            out.println("(status unavailable: " + e.getMessage() + ")");
        }
    }

    private void writeModels(Path gold) throws IOException {
        Files.createDirectories(gold);
        for (String model : MODELS) {
            Path file = gold.resolve(model + ".sql");
            if (!Files.exists(file)) {
                try (InputStream in = DemoCommand.class.getResourceAsStream("/demo/gold/" + model + ".sql")) {
                    Files.copy(in, file);
                }
            }
        }
    }

    /** Writes the demo's configuration so 'tributary sql' and 'status' can find the demo lake. */
    private static void writeConfig(Path root, int port) throws IOException {
        Files.writeString(root.resolve("pipeline.yaml"), """
                # Written by 'tributary demo' on every start (the embedded PostgreSQL gets a new port each run).
                name: demo
                source:
                  host: 127.0.0.1
                  port: %d
                  database: postgres
                  user: postgres
                  slot: tributary_demo
                  publication: tributary_demo
                lake:
                  warehouse: ./lake
                models: ./models
                """.formatted(port));
    }
}
