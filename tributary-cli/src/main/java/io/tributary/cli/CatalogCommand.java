package io.tributary.cli;

import io.tributary.config.PipelineConfig;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.RestCatalogService;
import io.tributary.server.CatalogServer;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code tributary catalog …}: the lake's Iceberg catalog for other engines. */
@Command(name = "catalog", description = "The lake's Iceberg catalog for other engines.", subcommands = CatalogCommand.Serve.class)
final class CatalogCommand {
    /** The environment variable holding the bearer token clients must send. */
    static final String TOKEN_ENV = "TRIBUTARY_CATALOG_TOKEN";

    @Command(name = "serve", description = {"Serve the lake's catalog over the Iceberg REST protocol until SIGINT or SIGTERM, so Spark, Trino, Flink, "
            + "DuckDB and PyIceberg attach with one URL (read-only unless --writable).",
            "A bearer token (environment variable " + TOKEN_ENV + ", or --token-file) is required when bound beyond loopback."})
    static final class Serve implements Callable<Integer> {
        @Mixin
        ConfigOption options;

        @Option(names = "--port", defaultValue = "8181", description = "TCP port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
        int port;

        @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
        String bind;

        @Option(names = "--token-file", paramLabel = "<file>", description = "File holding the bearer token clients must send.")
        Path tokenFile;

        @Option(names = "--writable", description = "Also serve commits (create, update and drop tables), each a compare-and-swap on the catalog behind.")
        boolean writable;

        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PipelineConfig config = options.loadLakeSettings();
            Optional<String> token = token();
            InetAddress address;
            try {
                address = InetAddress.getByName(bind);
            } catch (UnknownHostException e) {
                throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot serve the catalog on --bind " + bind + ": unknown host", e);
            }
            if (!address.isLoopbackAddress() && token.isEmpty()) {
                throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot serve the catalog on " + bind + " without a token: beyond loopback every client "
                        + "must authenticate. Set " + TOKEN_ENV + " or pass --token-file");
            }
            CountDownLatch stopped = new CountDownLatch(1);
            try (LakeCatalog catalog = LakeCatalog.open(config.lake());
                 CatalogServer server = CatalogServer.start(new RestCatalogService(catalog,
                         writable ? RestCatalogService.Access.READ_WRITE : RestCatalogService.Access.READ_ONLY, token), new InetSocketAddress(address, port));
                 StopSignals signals = new StopSignals(stopped::countDown)) {
                PrintWriter out = spec.commandLine().getOut();
                out.println("Serving the Iceberg REST catalog of " + config.lake().warehouse() + " at " + server.uri()
                        + (writable ? " (read-write)" : " (read-only)") + (token.isPresent() ? ", bearer token required" : ""));
                out.println("Spark: --conf spark.sql.catalog.lake=org.apache.iceberg.spark.SparkCatalog --conf spark.sql.catalog.lake.type=rest "
                        + "--conf spark.sql.catalog.lake.uri=" + server.uri());
                out.flush();
                stopped.await();
            }
            return 0;
        }

        private Optional<String> token() {
            if (tokenFile != null) {
                try {
                    String text = Files.readString(tokenFile).strip();
                    if (text.isEmpty()) {
                        throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot read the catalog token: " + tokenFile + " is empty");
                    }
                    return Optional.of(text);
                } catch (IOException e) {
                    throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot read the catalog token from " + tokenFile + ": " + e.getMessage(), e);
                }
            }
            return Optional.ofNullable(System.getenv(TOKEN_ENV)).filter(t -> !t.isBlank());
        }
    }
}
