package io.tributary.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Parses a pipeline YAML file into a validated {@link PipelineConfig}. Every problem is reported at
 * once, each with its YAML path; unknown keys are errors. Relative paths ({@code lake.warehouse},
 * {@code models}, a files source's {@code source.path}) are resolved against the configuration
 * file's directory. Every default lives here.
 */
public final class ConfigLoader {
    public static final String DEFAULT_NAME = "tributary";
    public static final int DEFAULT_PORT = 5432;
    public static final Duration DEFAULT_COMMIT_INTERVAL = Duration.ofSeconds(1);
    public static final int DEFAULT_COMMIT_MAX_EVENTS = 100_000;
    /** {@code state-dir} when absent: beside the configuration file. */
    public static final String DEFAULT_STATE_DIR = ".tributary";
    public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_MODELS_INTERVAL = Duration.ofSeconds(30);
    /** {@code source.time-zone} of a files source when absent: the zone its schedule is read in. */
    public static final ZoneId DEFAULT_TIME_ZONE = ZoneOffset.UTC;
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,40}");
    private static final Pattern TARGET_TYPE = Pattern.compile("string|int|long|double|date|timestamp|boolean|decimal\\(\\d+,\\s*\\d+\\)");

    private final Function<String, String> environment;

    public ConfigLoader() {
        this(System::getenv);
    }

    /** For tests: a loader reading environment variables from the given function. */
    public ConfigLoader(Function<String, String> environment) {
        this.environment = environment;
    }

    /**
     * @throws InvalidConfigException listing every problem
     * @throws TributaryException INVALID_CONFIG when the file cannot be read or is not YAML
     */
    public PipelineConfig load(Path file) {
        return load(file, SourceReferences.RESOLVE);
    }

    /**
     * Loads a configuration to read the lake with ({@code sql}, {@code history}, the lake part of
     * {@code status}): everything is validated as by {@link #load}, but the {@code ${env:…}} and
     * {@code ${file:…}} references under {@code source} are not looked up, so reading the lake needs
     * no source password. In the result, a source value given by a reference is absent (its
     * default, or empty) and the source has no password.
     *
     * @throws InvalidConfigException listing every problem
     * @throws TributaryException INVALID_CONFIG when the file cannot be read or is not YAML
     */
    public PipelineConfig loadLakeSettings(Path file) {
        return load(file, SourceReferences.LEAVE);
    }

    /** Whether the references of the source's settings are looked up. */
    private enum SourceReferences { RESOLVE, LEAVE }

    private PipelineConfig load(Path file, SourceReferences sourceReferences) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot load configuration " + file + ": file does not exist");
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot load configuration " + file + ": " + e.getMessage(), e);
        }
        Path base = file.toAbsolutePath().getParent();
        return parse(text, file.toString(), base, sourceReferences);
    }

    /** Parses YAML text; relative paths resolve against {@code baseDirectory}. */
    public PipelineConfig parse(String yaml, String sourceName, Path baseDirectory) {
        return parse(yaml, sourceName, baseDirectory, SourceReferences.RESOLVE);
    }

    /** As {@link #parse}, leaving the source's references unresolved (see {@link #loadLakeSettings}). */
    public PipelineConfig parseLakeSettings(String yaml, String sourceName, Path baseDirectory) {
        return parse(yaml, sourceName, baseDirectory, SourceReferences.LEAVE);
    }

    private PipelineConfig parse(String yaml, String sourceName, Path baseDirectory, SourceReferences sourceReferences) {
        JsonNode root;
        try {
            root = new ObjectMapper(new YAMLFactory()).readTree(yaml);
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot load configuration " + sourceName + ": not valid YAML" + where + ": " + e.getOriginalMessage());
        }
        List<ConfigProblem> problems = new ArrayList<>();
        if (root == null || !root.isObject()) {
            problems.add(new ConfigProblem("(root)", "expected a mapping with at least 'source' and 'lake'"));
            throw new InvalidConfigException(sourceName, problems);
        }
        SecretResolver secrets = new SecretResolver(environment, baseDirectory);
        ConfigNode top = new ConfigNode("", root, problems, secrets);

        String name = top.string("name").orElse(DEFAULT_NAME);
        if (!NAME.matcher(name).matches()) {
            top.problem("name", "must be lowercase letters, digits and '_', starting with a letter, at most 41 characters; found '" + name + "'");
            name = DEFAULT_NAME;
        }
        if (!top.has("source")) {
            top.problem("source", "is required");
        }
        SourceConfig source = source(sourceReferences == SourceReferences.RESOLVE ? top.object("source")
                : top.object("source", secrets.unresolving()), name, baseDirectory);
        Optional<KafkaSinkConfig> sink = top.has("sink") ? Optional.of(sink(top.object("sink"))) : Optional.empty();
        if (!top.has("lake") && sink.isEmpty()) {
            top.problem("lake", source instanceof FilesSourceConfig ? "is required: a files source lands its tables in the lake"
                    : "is required (or a sink: capture to Kafka only)");
        }
        if (sink.isPresent() && source instanceof KafkaSourceConfig) {
            top.problem("sink", "a pipeline whose source.type is kafka lands the topics in the lake: give it a 'lake' section instead of a 'sink'");
        }
        if (sink.isPresent() && source instanceof FilesSourceConfig) {
            top.problem("sink", "a pipeline whose source.type is files lands the files in the lake: give it a 'lake' section instead of a 'sink'");
        }
        if (top.has("lake") && sink.isPresent() && !(source instanceof FilesSourceConfig)) {
            top.problem("sink", "a pipeline captures either into the lake or into Kafka: remove 'lake' for capture to Kafka only, and land the "
                    + "topics with a second pipeline whose source.type is kafka");
        }
        Path stateDir = baseDirectory.resolve(top.string("state-dir").filter(d -> !d.isBlank()).orElse(DEFAULT_STATE_DIR)).normalize();
        LakeConfig lake = sink.isPresent() && !top.has("lake") ? null : lake(top.object("lake"), baseDirectory, stateDir, source);
        ModelsConfig models = models(top, baseDirectory);
        CommitConfig commit = commit(top.object("commit"));
        Map<TableId, TableOptions> tableOptions = tableOptions(top.object("tables"));
        MaintenanceConfig maintenance = maintenance(top.object("maintenance"));
        Optional<LakeCommitsConfig> lakeCommits = top.has("lake-commits") ? Optional.of(lakeCommits(top.object("lake-commits"), source, name)) : Optional.empty();
        if (lakeCommits.isPresent() && sink.isPresent()) {
            top.problem("lake-commits", "a capture-only pipeline (sink) commits nothing to a lake: announce lake commits from the pipeline that writes the lake");
        }
        top.finish();

        if (!problems.isEmpty()) {
            throw new InvalidConfigException(sourceName, problems);
        }
        return new PipelineConfig(name, source, sink.isPresent() ? null : lake, models, commit, tableOptions, maintenance, sink, lakeCommits);
    }

    /** Kafka topics: legal characters of a topic name. */
    private static final Pattern TOPIC_PREFIX = Pattern.compile("[A-Za-z0-9._-]{1,200}");
    /** Kafka client settings that hold secrets: references only. */
    private static final Pattern SECRET_PROPERTY = Pattern.compile("(?i).*(password|jaas|secret|token|credential).*");

    private static KafkaSinkConfig sink(ConfigNode node) {
        String type = node.string("type").orElse("");
        if (!type.equals(KafkaSinkConfig.TYPE)) {
            node.problem("type", type.isEmpty() ? "is required: kafka" : "expected kafka, found '" + type + "'");
        }
        String servers = bootstrapServers(node);
        String prefix = node.requiredString("topic-prefix");
        if (!prefix.isEmpty() && !TOPIC_PREFIX.matcher(prefix).matches()) {
            node.problem("topic-prefix", "expected letters, digits, '.', '_' and '-' (a Kafka topic name), at most 200; found '" + prefix + "'");
        }
        String formatText = node.string("format").orElse("debezium-json").trim().toLowerCase(java.util.Locale.ROOT);
        KafkaSinkConfig.Format format = switch (formatText) {
            case "debezium-json" -> KafkaSinkConfig.Format.DEBEZIUM_JSON;
            case "debezium-json-schemaless" -> KafkaSinkConfig.Format.DEBEZIUM_JSON_SCHEMALESS;
            default -> {
                node.problem("format", "expected debezium-json or debezium-json-schemaless, found '" + formatText + "'");
                yield KafkaSinkConfig.Format.DEBEZIUM_JSON;
            }
        };
        int partitions = node.integer("partitions", 1, 1, 10_000);
        int replication = node.integer("replication-factor", -1, -1, 32);
        if (replication == 0) {
            node.problem("replication-factor", "must be -1 (the broker's default) or at least 1");
        }
        Map<String, Secret> properties = kafkaProperties(node);
        node.finish();
        return new KafkaSinkConfig(servers, prefix, format, partitions, (short) (replication == 0 ? -1 : replication), properties);
    }

    private static LakeCommitsConfig lakeCommits(ConfigNode node, SourceConfig source, String pipelineName) {
        String type = node.string("type").orElse(LakeCommitsConfig.TYPE);
        if (!type.equals(LakeCommitsConfig.TYPE)) {
            node.problem("type", "expected kafka, found '" + type + "'");
        }
        String servers;
        if (node.has("bootstrap-servers") || !(source instanceof KafkaSourceConfig)) {
            servers = bootstrapServers(node);
        } else {
            servers = ((KafkaSourceConfig) source).bootstrapServers();
        }
        String prefix = node.string("topic-prefix").filter(p -> !p.isBlank()).orElse(pipelineName);
        if (!TOPIC_PREFIX.matcher(prefix).matches()) {
            node.problem("topic-prefix", "expected letters, digits, '.', '_' and '-' (a Kafka topic name), at most 200; found '" + prefix + "'");
        }
        boolean perLayer = node.bool("per-layer", false);
        Map<String, Secret> properties = node.has("properties") || !(source instanceof KafkaSourceConfig kafka) ? kafkaProperties(node) : kafka.properties();
        node.finish();
        return new LakeCommitsConfig(servers, prefix, perLayer, properties);
    }

    /** The {@code source} section, by its {@code type}: one record type per kind of source. */
    private static SourceConfig source(ConfigNode node, String pipelineName, Path base) {
        String type = node.string("type").orElse(PostgresSourceConfig.TYPE);
        if (type.equals(KafkaSourceConfig.TYPE)) {
            return kafkaSource(node, pipelineName);
        }
        if (type.equals(FilesSourceConfig.TYPE)) {
            return FilesSourceParser.parse(node, base);
        }
        if (!type.equals(PostgresSourceConfig.TYPE) && !type.equals("postgresql")) {
            node.problem("type", "expected 'postgres' (or 'postgresql'), 'kafka' or 'files', found '" + type + "'");
        }
        return postgres(node, pipelineName);
    }

    /** Kafka client settings ({@code properties}): secret-like keys only as references. */
    private static Map<String, Secret> kafkaProperties(ConfigNode node) {
        Map<String, Secret> properties = new java.util.LinkedHashMap<>();
        node.stringMap("properties").forEach((key, value) -> {
            if (SECRET_PROPERTY.matcher(key).matches()) {
                node.secretOf("properties." + key, value).ifPresent(secret -> properties.put(key, secret));
            } else {
                node.plainOf("properties." + key, value).ifPresent(plain -> properties.put(key, new Secret(plain, plain)));
            }
        });
        return properties;
    }

    private static String bootstrapServers(ConfigNode node) {
        String servers = node.requiredString("bootstrap-servers");
        if (!servers.isEmpty() && !servers.matches("[^,\\s]+:\\d{1,5}(,[^,\\s]+:\\d{1,5})*")) {
            node.problem("bootstrap-servers", "expected host:port[,host:port…]; found '" + servers + "'");
        }
        return servers;
    }

    private static KafkaSourceConfig kafkaSource(ConfigNode node, String pipelineName) {
        String servers = bootstrapServers(node);
        List<String> topics = node.stringList("topics");
        for (int i = 0; i < topics.size(); i++) {
            if (!TOPIC_PREFIX.matcher(topics.get(i)).matches()) {
                node.problem("topics[" + i + "]", "expected a Kafka topic name (letters, digits, '.', '_' and '-'); found '" + topics.get(i) + "'");
            }
        }
        Optional<String> pattern = node.string("topic-pattern").filter(p -> !p.isBlank());
        if (pattern.isPresent()) {
            try {
                Pattern.compile(pattern.get());
            } catch (java.util.regex.PatternSyntaxException e) {
                node.problem("topic-pattern", "not a valid regular expression: " + e.getDescription() + " at index " + e.getIndex());
            }
        }
        if (topics.isEmpty() == pattern.isEmpty()) {
            node.problem("topics", topics.isEmpty() ? "give the topics to read, or a topic-pattern" : "give either topics or a topic-pattern, not both");
        }
        String formatText = node.string("format").orElse("debezium-json").trim().toLowerCase(java.util.Locale.ROOT);
        if (!formatText.equals("debezium-json")) {
            node.problem("format", formatText.equals("debezium-json-schemaless")
                    ? "a Kafka source needs the schemas embedded in the records (debezium-json, Kafka Connect's JsonConverter with schemas.enable=true): "
                    + "without them the column types are unknown"
                    : "expected debezium-json, found '" + formatText + "'");
        }
        String groupId = node.string("group-id").filter(g -> !g.isBlank()).orElse("tributary-" + pipelineName);
        Map<String, Secret> properties = kafkaProperties(node);
        Duration heartbeat = node.duration("heartbeat", DEFAULT_HEARTBEAT);
        ReconnectConfig reconnect = reconnect(node.object("reconnect"));
        KafkaSourceConfig.Workers workers = node.enumValue("workers", KafkaSourceConfig.Workers.class, KafkaSourceConfig.Workers.SINGLE);
        node.finish();
        boolean valid = topics.isEmpty() != pattern.isEmpty();
        return new KafkaSourceConfig(servers, valid ? topics : List.of("-"), valid ? pattern : Optional.empty(), KafkaSinkConfig.Format.DEBEZIUM_JSON,
                groupId, properties, heartbeat, reconnect, workers);
    }

    private static PostgresSourceConfig postgres(ConfigNode node, String pipelineName) {
        String host = node.requiredString("host");
        int port = node.integer("port", DEFAULT_PORT, 1, 65535);
        String database = node.requiredString("database");
        String user = node.requiredString("user");
        Optional<Secret> password = node.secret("password");
        SslMode sslMode = node.enumValue("sslmode", SslMode.class, SslMode.PREFER);
        List<TableId> tables = new ArrayList<>();
        List<String> names = node.stringList("tables");
        for (int i = 0; i < names.size(); i++) {
            try {
                tables.add(TableId.parse(names.get(i)));
            } catch (IllegalArgumentException e) {
                node.problem("tables[" + i + "]", e.getMessage());
            }
        }
        String slot = node.string("slot").orElse("tributary_" + pipelineName);
        if (!slot.matches("[a-z0-9_]{1,63}")) {
            node.problem("slot", "replication slot names may contain only lowercase letters, digits and '_' (at most 63); found '" + slot + "'");
        }
        String publication = node.string("publication").orElse("tributary_" + pipelineName);
        Duration heartbeat = node.duration("heartbeat", DEFAULT_HEARTBEAT);
        Duration connectTimeout = node.duration("connect-timeout", DEFAULT_CONNECT_TIMEOUT);
        ReconnectConfig reconnect = reconnect(node.object("reconnect"));
        SnapshotConfig snapshot = snapshot(node.object("snapshot"));
        node.finish();
        return new PostgresSourceConfig(host, port, database, user, password, sslMode, tables, slot, publication, heartbeat, connectTimeout, reconnect, snapshot);
    }

    private static SnapshotConfig snapshot(ConfigNode node) {
        int chunkSize = node.integer("chunk-size", SnapshotConfig.DEFAULT.chunkSize(), 1, 1_000_000);
        long resumableAbove = node.integer("resumable-above", (int) SnapshotConfig.DEFAULT.resumableAbove(), 0, Integer.MAX_VALUE);
        node.finish();
        return new SnapshotConfig(chunkSize, resumableAbove);
    }

    static ReconnectConfig reconnect(ConfigNode node) {
        Duration maxElapsed = node.duration("max-elapsed", ReconnectConfig.DEFAULT.maxElapsed());
        Duration initial = node.duration("initial-backoff", ReconnectConfig.DEFAULT.initialBackoff());
        Duration max = node.duration("max-backoff", ReconnectConfig.DEFAULT.maxBackoff());
        node.finish();
        if (initial.compareTo(max) > 0) {
            node.problem("initial-backoff", "must not exceed max-backoff (" + max.toMillis() + "ms); found " + initial.toMillis() + "ms");
            return ReconnectConfig.DEFAULT;
        }
        return new ReconnectConfig(maxElapsed, initial, max);
    }

    /** The {@code lake} section; {@code lake.s3} serves an s3:// warehouse, or the s3:// landing folder of a files {@code source}. */
    private static LakeConfig lake(ConfigNode node, Path base, Path stateDir, SourceConfig source) {
        String warehouse = node.requiredString("warehouse");
        boolean objectStorage = LakeConfig.isObjectStorage(warehouse);
        if (!objectStorage && warehouse.matches("[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
            node.problem("warehouse", "expected a local directory or an s3://bucket/prefix location (any S3-compatible store: MinIO, Ceph, R2, "
                    + "Google Cloud Storage through its S3 endpoint); found '" + warehouse + "'");
            objectStorage = true;
        } else if (objectStorage && !warehouse.matches("s3a?://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?")) {
            node.problem("warehouse", "expected s3://<bucket>/<prefix> with a valid bucket name (lowercase letters, digits, '.', '-'); found '" + warehouse + "'");
        }
        if (objectStorage && warehouse.startsWith("s3a://")) {
            warehouse = "s3://" + warehouse.substring("s3a://".length());
        }
        boolean hasS3 = node.has("s3");
        S3Config s3 = s3(node.object("s3"));
        boolean landingOnS3 = source instanceof FilesSourceConfig files && LakeConfig.isObjectStorage(files.path());
        if (hasS3 && !objectStorage && !landingOnS3) {
            node.problem("s3", "applies to an s3:// warehouse only; lake.warehouse is the local directory '" + warehouse + "'");
        }
        boolean hasCatalog = node.has("catalog");
        CatalogConfig catalog = hasCatalog ? catalog(node.object("catalog"), base) : CatalogConfig.LOCAL_DEFAULT;
        if (!hasCatalog && objectStorage) {
            node.problem("catalog", "is required for an object-storage warehouse: the embedded SQLite catalog lives on local disk, where other "
                    + "processes cannot share it. Use type: jdbc with a PostgreSQL uri, or type: rest");
        }
        boolean raw = node.bool("raw", true);
        LakeConfig.HistoryLayer history = history(node);
        node.finish();
        String location = objectStorage ? warehouse : base.resolve(warehouse.isEmpty() ? "." : warehouse).normalize().toString();
        return new LakeConfig(location, s3, catalog, raw ? LakeConfig.RawLayer.ENABLED : LakeConfig.RawLayer.DISABLED, history, stateDir);
    }

    private static S3Config s3(ConfigNode node) {
        Optional<String> endpoint = node.string("endpoint");
        endpoint.filter(e -> !e.matches("https?://[^/\\s]+/?")).ifPresent(e -> node.problem("endpoint", "expected http(s)://host[:port]; found '" + e + "'"));
        Optional<String> region = node.string("region");
        boolean pathStyle = node.bool("path-style-access", false);
        Optional<String> keyId = node.string("access-key-id");
        Optional<Secret> secretKey = node.secret("secret-access-key");
        if (keyId.isPresent() != secretKey.isPresent()) {
            node.problem(keyId.isPresent() ? "secret-access-key" : "access-key-id", "is required with "
                    + (keyId.isPresent() ? "access-key-id" : "secret-access-key") + " (leave both out for the default AWS credential chain)");
        }
        DataSize cache = node.size("cache-size", S3Config.DEFAULT_CACHE_SIZE);
        String readsText = node.string("query-reads").orElse("auto").trim().toLowerCase(java.util.Locale.ROOT);
        S3Config.QueryReads reads = switch (readsText) {
            case "auto" -> S3Config.QueryReads.AUTO;
            case "httpfs" -> S3Config.QueryReads.HTTPFS;
            case "cache" -> S3Config.QueryReads.CACHE;
            default -> {
                node.problem("query-reads", "expected auto, httpfs or cache, found '" + readsText + "'");
                yield S3Config.QueryReads.AUTO;
            }
        };
        node.finish();
        return new S3Config(endpoint.map(e -> e.endsWith("/") ? e.substring(0, e.length() - 1) : e), region, pathStyle, keyId, secretKey, cache,
                reads);
    }

    private static CatalogConfig catalog(ConfigNode node, Path base) {
        String typeText = node.string("type").orElse("jdbc").trim().toLowerCase(java.util.Locale.ROOT);
        CatalogConfig.Type type = switch (typeText) {
            case "jdbc" -> CatalogConfig.Type.JDBC;
            case "rest" -> CatalogConfig.Type.REST;
            case "hadoop", "file", "filesystem" -> {
                node.problem("type", "a Hadoop (file-system) catalog is refused: it commits by renaming a metadata file, which object storage "
                        + "cannot do atomically, so two writers could both win a commit and the lake's lease and fencing would not hold. "
                        + "Use jdbc (SQLite or PostgreSQL) or rest");
                yield CatalogConfig.Type.JDBC;
            }
            default -> {
                node.problem("type", "expected jdbc or rest, found '" + typeText + "'");
                yield CatalogConfig.Type.JDBC;
            }
        };
        Optional<String> uri = node.string("uri");
        Optional<String> user = node.string("user");
        Optional<Secret> password = node.secret("password");
        Optional<Secret> token = node.secret("token");
        Optional<Secret> credential = node.secret("credential");
        Optional<String> warehouse = node.string("warehouse");
        node.finish();
        if (type == CatalogConfig.Type.JDBC) {
            uri.filter(u -> !u.startsWith("jdbc:")).ifPresent(u -> node.problem("uri", "expected a JDBC URL such as jdbc:postgresql://host:5432/lake_catalog; found '" + u + "'"));
            uri.filter(u -> u.startsWith("jdbc:sqlite:")).ifPresent(u -> node.problem("uri", "leave uri out for the embedded SQLite catalog in the warehouse; "
                    + "a shared catalog is a PostgreSQL database (jdbc:postgresql://…)"));
            if (token.isPresent() || credential.isPresent()) {
                node.problem(token.isPresent() ? "token" : "credential", "applies to a rest catalog only");
            }
            if (uri.isEmpty() && (user.isPresent() || password.isPresent())) {
                node.problem("uri", "is required with user and password: the JDBC URL of the catalog database");
            }
            warehouse.ifPresent(w -> node.problem("warehouse", "applies to a rest catalog only; the warehouse is lake.warehouse"));
        } else {
            if (uri.isEmpty()) {
                node.problem("uri", "is required for a rest catalog, e.g. http://127.0.0.1:8181");
            }
            uri.filter(u -> !u.matches("https?://.+")).ifPresent(u -> node.problem("uri", "expected the REST catalog's http(s):// URL; found '" + u + "'"));
            if (token.isPresent() && credential.isPresent()) {
                node.problem("credential", "give either token or credential, not both");
            }
            if (user.isPresent() || password.isPresent()) {
                node.problem(user.isPresent() ? "user" : "password", "applies to a jdbc catalog only; a rest catalog takes token or credential");
            }
        }
        return new CatalogConfig(type, uri, user, password, token, credential, warehouse);
    }

    private static LakeConfig.HistoryLayer history(ConfigNode node) {
        Optional<String> text = node.string("history");
        if (text.isEmpty()) {
            return LakeConfig.HistoryLayer.ENABLED;
        }
        return switch (text.get().trim().toLowerCase(java.util.Locale.ROOT)) {
            case "enabled", "true", "yes", "on" -> LakeConfig.HistoryLayer.ENABLED;
            case "disabled", "false", "no", "off" -> LakeConfig.HistoryLayer.DISABLED;
            default -> {
                node.problem("history", "expected enabled or disabled, found '" + text.get() + "'");
                yield LakeConfig.HistoryLayer.ENABLED;
            }
        };
    }

    private static ModelsConfig models(ConfigNode top, Path base) {
        // 'models' is either a path or a mapping {path, interval}.
        if (top.isMapping("models")) {
            ConfigNode node = top.object("models");
            Optional<String> path = node.string("path");
            Duration interval = node.duration("interval", DEFAULT_MODELS_INTERVAL);
            node.finish();
            return new ModelsConfig(path.map(p -> base.resolve(p).normalize()), interval);
        }
        Optional<String> path = top.string("models");
        return new ModelsConfig(path.map(p -> base.resolve(p).normalize()), DEFAULT_MODELS_INTERVAL);
    }

    private static CommitConfig commit(ConfigNode node) {
        Duration interval = node.duration("interval", DEFAULT_COMMIT_INTERVAL);
        int maxEvents = node.integer("max-events", DEFAULT_COMMIT_MAX_EVENTS, 1, 50_000_000);
        node.finish();
        return new CommitConfig(interval, maxEvents);
    }

    private static MaintenanceConfig maintenance(ConfigNode node) {
        MaintenanceConfig d = MaintenanceConfig.DEFAULT;
        boolean enabled = node.bool("enabled", d.mode() == MaintenanceConfig.Mode.ENABLED);
        Duration interval = node.duration("interval", d.interval());
        Duration retention = node.duration("snapshot-retention", d.snapshotRetention());
        int minSnapshots = node.integer("min-snapshots", d.minSnapshots(), 1, 1_000_000);
        Duration orphanAge = node.duration("orphan-age", d.orphanAge());
        DataSize target = node.size("target-file-size", d.targetFileSize());
        int minSmallFiles = node.integer("min-small-files", d.minSmallFiles(), 2, 1_000_000);
        int minDeleteFiles = node.integer("min-delete-files", d.minDeleteFiles(), 1, 1_000_000);
        node.finish();
        return new MaintenanceConfig(enabled ? MaintenanceConfig.Mode.ENABLED : MaintenanceConfig.Mode.DISABLED, interval, retention,
                minSnapshots, orphanAge, target, minSmallFiles, minDeleteFiles);
    }

    private static Map<TableId, TableOptions> tableOptions(ConfigNode node) {
        Map<TableId, TableOptions> out = new LinkedHashMap<>();
        for (String key : node.keys()) {
            ConfigNode table = node.object(key);
            TableId id;
            try {
                id = TableId.parse(key);
            } catch (IllegalArgumentException e) {
                node.problem(key, e.getMessage());
                continue;
            }
            Map<String, String> renames = table.stringMap("rename");
            Map<String, String> casts = table.stringMap("cast");
            casts.forEach((column, type) -> {
                if (!TARGET_TYPE.matcher(type.trim().toLowerCase(java.util.Locale.ROOT)).matches()) {
                    table.problem("cast." + column, "expected one of string, int, long, double, boolean, date, timestamp, decimal(p,s); found '" + type + "'");
                }
            });
            List<String> excluded = table.stringList("exclude");
            List<String> hashed = table.stringList("hash");
            Map<String, String> renamedFrom = table.stringMap("renamed-from");
            java.util.Set<String> oldNames = new java.util.HashSet<>();
            renamedFrom.forEach((now, before) -> {
                if (before.isBlank() || before.equals(now)) {
                    table.problem("renamed-from." + now, "expected the column's previous name in the source, different from '" + now + "'; found '" + before + "'");
                } else if (!oldNames.add(before)) {
                    table.problem("renamed-from." + now, "column '" + before + "' is already mapped to another new name; each old name may appear once");
                }
            });
            table.finish();
            out.put(id, new TableOptions(renames, casts, excluded, hashed, renamedFrom));
        }
        return out;
    }
}
