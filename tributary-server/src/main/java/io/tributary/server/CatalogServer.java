package io.tributary.server;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tributary.lake.catalog.RestCatalogService;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The lake's Iceberg REST catalog ({@link RestCatalogService}) over HTTP/1.1, on the JDK's HTTP
 * server with four request threads. Plain HTTP: put a TLS-terminating proxy in front of it beyond a
 * trusted network.
 */
public final class CatalogServer implements Closeable {
    private final HttpServer server;
    private final ExecutorService threads;
    private final RestCatalogService service;

    private CatalogServer(HttpServer server, RestCatalogService service) {
        this.server = server;
        this.service = service;
        this.threads = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "tributary-rest-catalog");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.createContext("/", this::handle);
    }

    /**
     * Serves {@code service} on {@code address} (port 0: a free one) until {@link #close()}.
     *
     * @throws TributaryException INVALID_CONFIG when the address cannot be bound (in use, not local)
     */
    public static CatalogServer start(RestCatalogService service, InetSocketAddress address) {
        HttpServer server;
        try {
            server = HttpServer.create(address, 64);
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot serve the catalog on " + address + ": " + e.getMessage(), e);
        }
        CatalogServer catalog = new CatalogServer(server, service);
        server.start();
        return catalog;
    }

    /** The URL clients use as the catalog's {@code uri}, e.g. {@code http://127.0.0.1:8181}. */
    public String uri() {
        InetSocketAddress bound = server.getAddress();
        String host = bound.getAddress().isAnyLocalAddress() ? "127.0.0.1" : bound.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.getPort();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body;
            try (InputStream in = exchange.getRequestBody()) {
                body = in.readAllBytes();
            }
            RestCatalogService.Response response = service.handle(new RestCatalogService.Request(exchange.getRequestMethod(),
                    exchange.getRequestURI().getRawPath(), Optional.ofNullable(exchange.getRequestURI().getRawQuery()),
                    Optional.ofNullable(exchange.getRequestHeaders().getFirst("Authorization")), body));
            if (!response.hasBody()) {
                exchange.sendResponseHeaders(response.status(), -1);
                return;
            }
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(response.status(), response.body().length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(response.body());
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
