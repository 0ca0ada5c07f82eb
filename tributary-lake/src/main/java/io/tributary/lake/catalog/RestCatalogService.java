package io.tributary.lake.catalog;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.tributary.config.LakeConfig;
import io.tributary.lake.storage.WarehouseIO;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
 * the lake with one URL. This class speaks the protocol (requests and responses as bytes, no
 * Iceberg type crosses it); an HTTP server ({@code tributary-server}) carries it. Read-only by
 * default: {@code GET /v1/config}, listing and loading namespaces and tables, and their
 * {@code HEAD} existence checks; every other route answers 403 ({@code ForbiddenException}).
 * {@link Access#READ_WRITE} also serves creating namespaces and tables, committing table updates
 * (each a compare-and-swap on the catalog behind, Iceberg's requirements checked by
 * {@link CatalogHandlers#updateTable}: 409 when stale) and dropping tables. With a token, every
 * request must carry {@code Authorization: Bearer <token>} (401 otherwise). Errors answer with
 * the protocol's {@code ErrorResponse} JSON.
 *
 * <p>{@code GET /v1/config} hands clients the warehouse's non-secret storage settings as defaults
 * ({@code s3.endpoint}, {@code s3.path-style-access}, {@code client.region}); credentials stay with
 * each client. Safe for concurrent use.
 */
public final class RestCatalogService {
    private static final Logger LOG = LoggerFactory.getLogger(RestCatalogService.class);
    private static final List<Endpoint> READ = List.of(Endpoint.V1_LIST_NAMESPACES, Endpoint.V1_LOAD_NAMESPACE, Endpoint.V1_NAMESPACE_EXISTS,
            Endpoint.V1_LIST_TABLES, Endpoint.V1_LOAD_TABLE, Endpoint.V1_TABLE_EXISTS);
    private static final List<Endpoint> WRITE = List.of(Endpoint.V1_CREATE_NAMESPACE, Endpoint.V1_CREATE_TABLE, Endpoint.V1_UPDATE_TABLE,
            Endpoint.V1_DELETE_TABLE);

    /** What clients may do. */
    public enum Access { READ_ONLY, READ_WRITE }

    /**
     * One HTTP request: {@code rawPath} and {@code rawQuery} as sent (percent-encoded),
     * {@code authorization} the {@code Authorization} header, {@code body} the request body (empty without one).
     */
    public record Request(String method, String rawPath, Optional<String> rawQuery, Optional<String> authorization, byte[] body) {
    }

    /** One HTTP response: a status and a JSON body, empty for 204 and for {@code HEAD}. */
    public record Response(int status, byte[] body) {
        public boolean hasBody() {
            return body.length > 0;
        }
    }

    private final Catalog catalog;
    private final SupportsNamespaces namespaces;
    private final Access access;
    private final Optional<byte[]> token;
    private final Map<String, String> defaults;
    private final ObjectMapper json = new ObjectMapper();

    /** Serves {@code lake}'s catalog; with {@code token}, only to requests that carry it. */
    public RestCatalogService(LakeCatalog lake, Access access, Optional<String> token) {
        this.catalog = lake.iceberg();
        this.namespaces = (SupportsNamespaces) catalog;
        this.access = access;
        this.token = token.map(t -> t.getBytes(StandardCharsets.UTF_8));
        this.defaults = clientDefaults(lake.config());
        // As Iceberg's own REST client maps its messages (RESTObjectMapper).
        json.setVisibility(com.fasterxml.jackson.annotation.PropertyAccessor.FIELD, com.fasterxml.jackson.annotation.JsonAutoDetect.Visibility.ANY);
        json.setPropertyNamingStrategy(PropertyNamingStrategies.KEBAB_CASE);
        json.configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
        RESTSerializers.registerAll(json);
    }

    /** The warehouse's file IO settings a client may be handed: where the store is, never how to sign in. */
    private static Map<String, String> clientDefaults(LakeConfig lake) {
        Map<String, String> out = new HashMap<>(WarehouseIO.properties(lake));
        out.keySet().retainAll(WarehouseIO.PUBLIC_S3_PROPERTIES);
        return out;
    }

    /** Answers one request; never throws. */
    public Response handle(Request request) {
        String method = request.method();
        if (method.equals("POST") && request.rawPath().replaceAll("/+$", "").equals("/v1/oauth/tokens")) {
            return issueToken(request);
        }
        try {
            if (token.isPresent() && !authorized(request.authorization().orElse(null))) {
                throw new NotAuthorizedException("A bearer token is required: Authorization: Bearer <token>");
            }
            Object response = route(method, request.rawPath(), request);
            return response == null ? new Response(204, new byte[0]) : new Response(200, json.writeValueAsBytes(response));
        } catch (RuntimeException | IOException e) {
            int code = status(e);
            if (code >= 500) {
                LOG.warn("REST catalog request {} {} failed", method, request.rawPath(), e);
            }
            if ("HEAD".equals(method)) {
                return new Response(code, new byte[0]);
            }
            try {
                return new Response(code, json.writeValueAsBytes(ErrorResponse.builder().responseCode(code).withType(e.getClass().getSimpleName())
                        .withMessage(String.valueOf(e.getMessage())).build()));
            } catch (IOException unwritable) {
                return new Response(500, new byte[0]);
            }
        }
    }

    /**
     * The OAuth2 client-credentials exchange of the REST protocol ({@code POST /v1/oauth/tokens},
     * RFC 6749 section 4.4), for clients configured with {@code credential = <client id>:<secret>}:
     * the secret must be the server's token, which is then issued as the bearer token (any client
     * id). Without a token the server is open and issues a placeholder.
     */
    private Response issueToken(Request request) {
        Map<String, String> form = org.apache.iceberg.rest.RESTUtil.decodeFormData(new String(request.body(), StandardCharsets.UTF_8));
        String secret = form.get("client_secret");
        if (!"client_credentials".equals(form.get("grant_type"))) {
            return oauthError(400, "unsupported_grant_type", "Only grant_type=client_credentials is served");
        }
        if (token.isPresent() && (secret == null || !MessageDigest.isEqual(secret.getBytes(StandardCharsets.UTF_8), token.get()))) {
            return oauthError(401, "invalid_client", "The client secret is not this catalog's token");
        }
        try {
            return new Response(200, json.writeValueAsBytes(org.apache.iceberg.rest.responses.OAuthTokenResponse.builder()
                    .withToken(token.map(t -> new String(t, StandardCharsets.UTF_8)).orElse("open-catalog")).withTokenType("bearer")
                    .withIssuedTokenType("urn:ietf:params:oauth:token-type:access_token").build()));
        } catch (IOException e) {
            return new Response(500, new byte[0]);
        }
    }

    private Response oauthError(int status, String error, String description) {
        Map<String, String> body = new java.util.LinkedHashMap<>();
        body.put("error", error);
        body.put("error_description", description);
        try {
            return new Response(status, json.writeValueAsBytes(body));
        } catch (IOException e) {
            return new Response(500, new byte[0]);
        }
    }

    private boolean authorized(String header) {
        if (header == null || !header.startsWith("Bearer ")) {
            return false;
        }
        return MessageDigest.isEqual(header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8), token.get());
    }

    private Object route(String method, String rawPath, Request request) throws IOException {
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
                    String parent = query(request, "parent");
                    return CatalogHandlers.listNamespaces(namespaces, parent == null ? Namespace.empty() : namespace(parent));
                }
                if (method.equals("POST") && write) {
                    return CatalogHandlers.createNamespace(namespaces, read(request, CreateNamespaceRequest.class));
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
                            return CatalogHandlers.createTable(catalog, ns, read(request, CreateTableRequest.class));
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
                                    return CatalogHandlers.updateTable(catalog, id, read(request, UpdateTableRequest.class));
                                }
                                break;
                            case "DELETE":
                                if (write) {
                                    if ("true".equals(query(request, "purgeRequested"))) {
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

    private static String query(Request request, String name) {
        String q = request.rawQuery().orElse(null);
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

    private <T> T read(Request request, Class<T> type) throws IOException {
        try {
            return json.readValue(request.body(), type);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("Malformed " + type.getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
    }

    private static int status(Exception e) {
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
}
