package io.tributary.lake.catalog;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.tributary.config.LakeConfig;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.iceberg.catalog.Catalog;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.SupportsNamespaces;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.AlreadyExistsException;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ForbiddenException;
import org.apache.iceberg.exceptions.NoSuchNamespaceException;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.exceptions.NotAuthorizedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.rest.CatalogHandlers;
import org.apache.iceberg.rest.Endpoint;
import org.apache.iceberg.rest.RESTCatalogProperties;
import org.apache.iceberg.rest.RESTSerializers;
import org.apache.iceberg.rest.requests.CreateNamespaceRequest;
import org.apache.iceberg.rest.requests.CreateTableRequest;
import org.apache.iceberg.rest.requests.UpdateTableRequest;
import org.apache.iceberg.rest.responses.ConfigResponse;
import org.apache.iceberg.rest.responses.ErrorResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lake's catalog over the Iceberg REST catalog protocol (Iceberg's {@code rest-catalog-open-api.yaml},
 * routes under {@code /v1} without a prefix), so Spark, Trino, Flink, DuckDB and PyIceberg attach to
 * the lake with one URL. Read-only by default: {@code GET /v1/config}, listing and loading
 * namespaces and tables, and their {@code HEAD} existence checks; every other route answers 403
 * ({@code ForbiddenException}). {@link Access#READ_WRITE} also serves creating namespaces and
 * tables, committing table updates (each a compare-and-swap on the catalog behind, Iceberg's
 * requirements checked by {@link CatalogHandlers#updateTable}) and dropping tables. With a token,
 * every request must carry {@code Authorization: Bearer <token>} (401 otherwise).
 *
 * <p>{@code GET /v1/config} hands clients the warehouse's non-secret storage settings as defaults
 * ({@code s3.endpoint}, {@code s3.path-style-access}, {@code client.region}); credentials stay with
 * each client.
 */
public final class RestCatalogServer implements Closeable {
    private static final Logger LOG = LoggerFactory.getLogger(RestCatalogServer.class);
    private static final List<Endpoint> READ = List.of(Endpoint.V1_LIST_NAMESPACES, Endpoint.V1_LOAD_NAMESPACE, Endpoint.V1_NAMESPACE_EXISTS,
            Endpoint.V1_LIST_TABLES, Endpoint.V1_LOAD_TABLE, Endpoint.V1_TABLE_EXISTS);
    private static final List<Endpoint> WRITE = List.of(Endpoint.V1_CREATE_NAMESPACE, Endpoint.V1_CREATE_TABLE, Endpoint.V1_UPDATE_TABLE,
            Endpoint.V1_DELETE_TABLE);

    /** What clients may do. */
    public enum Access { READ_ONLY, READ_WRITE }

    private final HttpServer server;
    private final ExecutorService threads;
    private final Catalog catalog;
    private final SupportsNamespaces namespaces;
    private final Access access;
    private final Optional<byte[]> token;
    private final Map<String, String> defaults;
    private final ObjectMapper json = new ObjectMapper();

    private RestCatalogServer(HttpServer server, LakeCatalog lake, Access access, Optional<String> token) {
        this.server = server;
        this.catalog = lake.iceberg();
        this.namespaces = (SupportsNamespaces) catalog;
        this.access = access;
        this.token = token.map(t -> t.getBytes(StandardCharsets.UTF_8));
        this.defaults = clientDefaults(lake.config());
        this.threads = Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r, "tributary-rest-catalog");
            t.setDaemon(true);
            return t;
        });
        json.setPropertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE);
        json.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        RESTSerializers.registerAll(json);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
    }

    /**
     * Serves {@code lake} on {@code address} (port 0: a free one) until {@link #close()}.
     *
     * @throws TributaryException INVALID_CONFIG when the address cannot be bound
     */
    public static RestCatalogServer start(LakeCatalog lake, InetSocketAddress address, Access access, Optional<String> token) {
        HttpServer server;
        try {
            server = HttpServer.create(address, 64);
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot serve the catalog on " + address + ": " + e.getMessage(), e);
        }
        RestCatalogServer rest = new RestCatalogServer(server, lake, access, token);
        server.start();
        return rest;
    }

    /** The URL clients use as the catalog's {@code uri}. */
    public String uri() {
        InetSocketAddress bound = server.getAddress();
        String host = bound.getAddress().isAnyLocalAddress() ? "127.0.0.1" : bound.getAddress().getHostAddress();
        return "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.getPort();
    }

    private static Map<String, String> clientDefaults(LakeConfig lake) {
        Map<String, String> out = new HashMap<>();
        if (!lake.isLocal()) {
            lake.s3().endpoint().ifPresent(e -> out.put("s3.endpoint", e));
            if (lake.s3().pathStyleAccess()) {
                out.put("s3.path-style-access", "true");
            }
            lake.s3().region().or(() -> lake.s3().endpoint().map(e -> "us-east-1")).ifPresent(r -> out.put("client.region", r));
        }
        return out;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            String path = exchange.getRequestURI().getRawPath();
            try {
                if (token.isPresent() && !authorized(exchange.getRequestHeaders().getFirst("Authorization"))) {
                    throw new NotAuthorizedException("A bearer token is required: Authorization: Bearer <token>");
                }
                Object response = route(method, path, exchange);
                if (response == null) {
                    exchange.sendResponseHeaders(204, -1);
                } else {
                    send(exchange, 200, response);
                }
            } catch (RuntimeException e) {
                int code = status(e);
                if (code >= 500) {
                    LOG.warn("REST catalog request {} {} failed", method, path, e);
                }
                if ("HEAD".equals(method)) {
                    exchange.sendResponseHeaders(code, -1);
                } else {
                    send(exchange, code, ErrorResponse.builder().responseCode(code).withType(e.getClass().getSimpleName())
                            .withMessage(String.valueOf(e.getMessage())).build());
                }
            }
        }
    }

    private boolean authorized(String header) {
        if (header == null || !header.startsWith("Bearer ")) {
            return false;
        }
        return MessageDigest.isEqual(header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8), token.get());
    }

    private Object route(String method, String rawPath, HttpExchange exchange) throws IOException {
        List<String> s = new ArrayList<>();
        for (String part : rawPath.split("/")) {
            if (!part.isEmpty()) {
                s.add(URLDecoder.decode(part, StandardCharsets.UTF_8));
            }
        }
        if (s.isEmpty() || !s.get(0).equals("v1")) {
            throw new NoSuchTableException("No such route: %s (the REST catalog is served under /v1)", rawPath);
        }
        s = s.subList(1, s.size());
        boolean write = access == Access.READ_WRITE;
        if (s.equals(List.of("config")) && method.equals("GET")) {
            List<Endpoint> endpoints = new ArrayList<>(READ);
            if (write) {
                endpoints.addAll(WRITE);
            }
            return ConfigResponse.builder().withDefaults(defaults).withEndpoints(endpoints).build();
        }
        if (!s.isEmpty() && s.get(0).equals("namespaces")) {
            if (s.size() == 1) {
                if (method.equals("GET")) {
                    String parent = query(exchange, "parent");
                    return CatalogHandlers.listNamespaces(namespaces, parent == null ? Namespace.empty() : namespace(parent));
                }
                if (method.equals("POST") && write) {
                    return CatalogHandlers.createNamespace(namespaces, read(exchange, CreateNamespaceRequest.class));
                }
            } else {
                Namespace ns = namespace(s.get(1));
                if (s.size() == 2) {
                    switch (method) {
                        case "GET":
                            return CatalogHandlers.loadNamespace(namespaces, ns);
                        case "HEAD":
                            CatalogHandlers.namespaceExists(namespaces, ns);
                            return null;
                        default:
                            break;
                    }
                } else if (s.get(2).equals("tables")) {
                    if (s.size() == 3) {
                        if (method.equals("GET")) {
                            return CatalogHandlers.listTables(catalog, ns);
                        }
                        if (method.equals("POST") && write) {
                            return CatalogHandlers.createTable(catalog, ns, read(exchange, CreateTableRequest.class));
                        }
                    } else if (s.size() == 4) {
                        TableIdentifier id = TableIdentifier.of(ns, s.get(3));
                        switch (method) {
                            case "GET":
                                return CatalogHandlers.loadTable(catalog, id, RESTCatalogProperties.SnapshotMode.ALL);
                            case "HEAD":
                                CatalogHandlers.tableExists(catalog, id);
                                return null;
                            case "POST":
                                if (write) {
                                    return CatalogHandlers.updateTable(catalog, id, read(exchange, UpdateTableRequest.class));
                                }
                                break;
                            case "DELETE":
                                if (write) {
                                    if ("true".equals(query(exchange, "purgeRequested"))) {
                                        CatalogHandlers.purgeTable(catalog, id);
                                    } else {
                                        CatalogHandlers.dropTable(catalog, id);
                                    }
                                    return null;
                                }
                                break;
                            default:
                                break;
                        }
                    }
                }
            }
        }
        throw new ForbiddenException("%s %s is not served by this catalog (%s)", method, rawPath,
                write ? "it serves namespaces and tables" : "it is read-only: start it with --writable to allow commits");
    }

    private static Namespace namespace(String encoded) {
        // Levels of a multi-level namespace are separated by the unit separator (REST spec).
        return Namespace.of(encoded.split("\u001f"));
    }

    private static String query(HttpExchange exchange, String name) {
        String q = exchange.getRequestURI().getRawQuery();
        if (q == null) {
            return null;
        }
        for (String pair : q.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8).equals(name)) {
                return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            }
        }
        return null;
    }

    private <T> T read(HttpExchange exchange, Class<T> type) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            return json.readValue(in, type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("Malformed " + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }

    private void send(HttpExchange exchange, int code, Object body) throws IOException {
        byte[] bytes = json.writeValueAsBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(code, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static int status(RuntimeException e) {
        if (e instanceof NoSuchTableException || e instanceof NoSuchNamespaceException) {
            return 404;
        }
        if (e instanceof AlreadyExistsException || e instanceof CommitFailedException) {
            return 409;
        }
        if (e instanceof NotAuthorizedException) {
            return 401;
        }
        if (e instanceof ForbiddenException) {
            return 403;
        }
        if (e instanceof ValidationException || e instanceof IllegalArgumentException) {
            return 400;
        }
        return 500;
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }
}
