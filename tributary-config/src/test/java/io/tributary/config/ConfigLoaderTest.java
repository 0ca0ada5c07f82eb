package io.tributary.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private final ConfigLoader loader = new ConfigLoader(Map.of("PGPASSWORD", "s3cret-canary")::get);

    @Test
    void parsesMinimalConfigWithDefaults() {
        PipelineConfig config = loader.parse("""
                source:
                  type: postgres
                  host: 127.0.0.1
                  database: shop
                  user: replicator
                  password: ${env:PGPASSWORD}
                  tables: [public.customers, orders]
                lake:
                  warehouse: ./lake
                models: ./models
                commit:
                  interval: 1s
                """, "test.yaml", dir);

        assertThat(config.name()).isEqualTo("tributary");
        assertThat(pg(config).port()).isEqualTo(5432);
        assertThat(config.source().tables()).containsExactly(new TableId("public", "customers"), new TableId("public", "orders"));
        assertThat(pg(config).slotName()).isEqualTo("tributary_tributary");
        assertThat(pg(config).password()).get().extracting(Secret::reveal).isEqualTo("s3cret-canary");
        assertThat(pg(config).password().get().toString()).isEqualTo("****");
        assertThat(config.lake().localWarehouse()).isEqualTo(dir.resolve("lake"));
        assertThat(config.lake().history()).isEqualTo(LakeConfig.HistoryLayer.ENABLED);
        assertThat(config.models().directory()).contains(dir.resolve("models"));
        assertThat(config.commit().interval()).isEqualTo(Duration.ofSeconds(1));
        assertThat(config.mask("password=s3cret-canary")).isEqualTo("password=****");
    }

    /** Regression: {@code sql} and {@code history} failed without the source password, which reading the lake never uses. */
    @Test
    void lakeSettingsLoadWithoutTheSourcesSecretsButStillCheckEverything() {
        String yaml = """
                name: shop
                source:
                  host: ${env:PGHOST}
                  port: ${env:PGPORT}
                  database: shop
                  user: replicator
                  password: ${env:PGPASSWORD}
                lake:
                  warehouse: ./lake
                """;
        ConfigLoader withoutEnvironment = new ConfigLoader(Map.<String, String>of()::get);
        assertThatThrownBy(() -> withoutEnvironment.parse(yaml, "test.yaml", dir)).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("source.password").hasMessageContaining("environment variable PGPASSWORD is not set");

        PipelineConfig lake = withoutEnvironment.parseLakeSettings(yaml, "test.yaml", dir);
        assertThat(lake.name()).isEqualTo("shop");
        assertThat(lake.lake().localWarehouse()).isEqualTo(dir.resolve("lake"));
        assertThat(pg(lake).password()).isEmpty();
        assertThat(pg(lake).port()).isEqualTo(5432);

        // The lake's own settings, and every other mistake, are still reported.
        assertThatThrownBy(() -> withoutEnvironment.parseLakeSettings(yaml.replace("warehouse: ./lake", "warehouse: ${env:LAKE}")
                .replace("password: ${env:PGPASSWORD}", "password: literal"), "test.yaml", dir))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("environment variable LAKE is not set")
                .hasMessageContaining("source.password");
    }

    @Test
    void parsesReconnectBackoff() {
        PipelineConfig defaults = loader.parse("source: {host: h, database: d, user: u}\nlake: {warehouse: ./lake}\n", "test.yaml", dir);
        assertThat(defaults.source().reconnect()).isEqualTo(ReconnectConfig.DEFAULT);
        PipelineConfig config = loader.parse("""
                source:
                  host: h
                  database: d
                  user: u
                  reconnect: {max-elapsed: 2m, initial-backoff: 100ms, max-backoff: 1s}
                lake: {warehouse: ./lake}
                """, "test.yaml", dir);
        ReconnectConfig reconnect = config.source().reconnect();
        assertThat(reconnect).isEqualTo(new ReconnectConfig(Duration.ofMinutes(2), Duration.ofMillis(100), Duration.ofSeconds(1)));
        assertThat(reconnect.backoff(1)).isEqualTo(Duration.ofMillis(100));
        assertThat(reconnect.backoff(4)).isEqualTo(Duration.ofMillis(800));
        assertThat(reconnect.backoff(5)).isEqualTo(Duration.ofSeconds(1));
        assertThat(reconnect.backoff(60)).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void keepsProcessStateBesideTheConfigurationOutsideTheWarehouse() {
        PipelineConfig byDefault = loader.parse("source: {host: h, database: d, user: u}\nlake: {warehouse: ./lake}\n", "test.yaml", dir);
        assertThat(byDefault.lake().stateDir()).isEqualTo(dir.resolve(".tributary").normalize());
        assertThat(byDefault.lake().stateOf("shop")).isEqualTo(dir.resolve(".tributary/shop").normalize());
        PipelineConfig chosen = loader.parse("state-dir: ./state\nsource: {host: h, database: d, user: u}\nlake: {warehouse: ./lake}\n", "test.yaml", dir);
        assertThat(chosen.lake().stateDir()).isEqualTo(dir.resolve("state").normalize());
        assertThat(LakeConfig.defaultStateDir(dir.resolve("lake"))).isEqualTo(dir.resolve(".lake.tributary").toAbsolutePath().normalize())
                .matches(p -> !p.startsWith(dir.resolve("lake").toAbsolutePath()), "outside the warehouse");
    }

    @Test
    void choosesTheSourceByItsType() {
        PipelineConfig byDefault = loader.parse("source: {host: h, database: d, user: u}\nlake: {warehouse: ./lake}\n", "test.yaml", dir);
        assertThat(byDefault.source()).isInstanceOf(PostgresSourceConfig.class);
        assertThat(byDefault.source().type()).isEqualTo("postgres");
        PipelineConfig named = loader.parse("source: {type: postgresql, host: h, database: d, user: u}\nlake: {warehouse: ./lake}\n", "test.yaml", dir);
        assertThat(named.source().type()).isEqualTo("postgres");
        assertThatThrownBy(() -> loader.parse("source: {type: oracle, host: h, database: d, user: u}\nlake: {warehouse: ./lake}\n", "bad.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).extracting(ConfigProblem::path).contains("source.type"))
                .hasMessageContaining("found 'oracle'");
    }

    @Test
    void parsesTheHistoryLayerSwitch() {
        PipelineConfig config = loader.parse("source: {host: h, database: d, user: u}\nlake: {warehouse: ./lake, history: disabled}\n", "test.yaml", dir);
        assertThat(config.lake().history()).isEqualTo(LakeConfig.HistoryLayer.DISABLED);
        assertThatThrownBy(() -> loader.parse("source: {host: h, database: d, user: u}\nlake: {warehouse: ./lake, history: sometimes}\n", "bad.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).extracting(ConfigProblem::path).containsExactly("lake.history"))
                .hasMessageContaining("expected enabled or disabled, found 'sometimes'");
    }

    @Test
    void parsesInitialSnapshotSettings() {
        PipelineConfig defaults = loader.parse("source: {host: h, database: d, user: u}\nlake: {warehouse: ./lake}\n", "test.yaml", dir);
        assertThat(pg(defaults).snapshot()).isEqualTo(SnapshotConfig.DEFAULT);
        PipelineConfig config = loader.parse("""
                source:
                  host: h
                  database: d
                  user: u
                  snapshot: {chunk-size: 25000, resumable-above: 0}
                lake: {warehouse: ./lake}
                """, "test.yaml", dir);
        assertThat(pg(config).snapshot()).isEqualTo(new SnapshotConfig(25_000, 0));
        assertThatThrownBy(() -> loader.parse("""
                source:
                  host: h
                  database: d
                  user: u
                  snapshot: {chunk-size: 0, resumable-above: -1, chunksize: 5}
                lake: {warehouse: ./lake}
                """, "bad.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems())
                        .extracting(ConfigProblem::path)
                        .containsExactlyInAnyOrder("source.snapshot.chunk-size", "source.snapshot.resumable-above", "source.snapshot.chunksize"))
                .hasMessageContaining("must be between 1 and 1000000, found 0");
    }

    @Test
    void reportsReconnectProblemsWithTheirPaths() {
        assertThatThrownBy(() -> loader.parse("""
                source:
                  host: h
                  database: d
                  user: u
                  reconnect: {max-elapsed: forever, initial-backoff: 1m, max-backoff: 10s, max-retries: 3}
                lake: {warehouse: ./lake}
                """, "bad.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems())
                        .extracting(ConfigProblem::path)
                        .containsExactlyInAnyOrder("source.reconnect.max-elapsed", "source.reconnect.initial-backoff", "source.reconnect.max-retries"))
                .hasMessageContaining("found 'forever'")
                .hasMessageContaining("must not exceed max-backoff (10000ms); found 60000ms");
    }

    @Test
    void reportsEveryProblemWithItsPath() {
        assertThatThrownBy(() -> loader.parse("""
                source:
                  host: 127.0.0.1
                  port: 99999
                  databse: shop
                  user: replicator
                  password: hunter2
                lake:
                  warehouse: ./lake
                commit:
                  interval: soon
                """, "bad.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems())
                        .extracting(ConfigProblem::path)
                        .containsExactlyInAnyOrder("source.port", "source.database", "source.databse", "source.password", "commit.interval"))
                .hasMessageContaining("did you mean 'database'?")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void readsSecretsFromFiles() throws Exception {
        Files.writeString(dir.resolve("pg.secret"), "from-file\n");
        PipelineConfig config = loader.parse("""
                source: {host: h, database: d, user: u, password: "${file:pg.secret}"}
                lake: {warehouse: w}
                """, "t.yaml", dir);
        assertThat(pg(config).password().get().reveal()).isEqualTo("from-file");
    }

    @Test
    void missingEnvironmentVariableIsAProblem() {
        assertThatThrownBy(() -> loader.parse("""
                source: {host: h, database: d, user: u, password: "${env:NOPE}"}
                lake: {warehouse: w}
                """, "t.yaml", dir))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("source.password: environment variable NOPE is not set");
    }

    @Test
    void parsesTableOptions() {
        PipelineConfig config = loader.parse("""
                source: {host: h, database: d, user: u}
                lake: {warehouse: w}
                tables:
                  public.customers:
                    rename: {FullName: name}
                    cast: {age: long}
                    exclude: [notes]
                    hash: [email]
                    renamed-from: {full_name: name}
                """, "t.yaml", dir);
        TableOptions options = config.optionsFor(new TableId("public", "customers"));
        assertThat(options.renamedFrom()).containsExactly(java.util.Map.entry("full_name", "name"));
        assertThat(options.renames()).containsEntry("FullName", "name");
        assertThat(options.casts()).containsEntry("age", "long");
        assertThat(options.excluded()).containsExactly("notes");
        assertThat(options.hashed()).containsExactly("email");
    }

    @Test
    void rejectsRenamesThatMapNothingOrTheSameColumnTwice() {
        assertThatThrownBy(() -> loader.parse("""
                source: {host: h, database: d, user: u}
                lake: {warehouse: w}
                tables:
                  public.orders:
                    renamed-from: {memo: memo, a: old, b: old}
                """, "t.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems())
                        .extracting(ConfigProblem::path)
                        .containsExactlyInAnyOrder("tables.public.orders.renamed-from.memo", "tables.public.orders.renamed-from.b"))
                .hasMessageContaining("expected the column's previous name in the source, different from 'memo'")
                .hasMessageContaining("column 'old' is already mapped to another new name");
    }

    @Test
    void parsesMaintenanceWithDefaults() {
        PipelineConfig defaults = loader.parse("source: {host: h, database: d, user: u}\nlake: {warehouse: ./lake}\n", "test.yaml", dir);
        assertThat(defaults.maintenance()).isEqualTo(MaintenanceConfig.DEFAULT);
        assertThat(defaults.maintenance().mode()).isEqualTo(MaintenanceConfig.Mode.ENABLED);
        PipelineConfig config = loader.parse("""
                source: {host: h, database: d, user: u}
                lake: {warehouse: ./lake}
                maintenance:
                  enabled: false
                  interval: 10m
                  snapshot-retention: 2h
                  min-snapshots: 3
                  orphan-age: 3d
                  target-file-size: 64MB
                  min-small-files: 5
                  min-delete-files: 2
                """, "test.yaml", dir);
        assertThat(config.maintenance()).isEqualTo(new MaintenanceConfig(MaintenanceConfig.Mode.DISABLED, Duration.ofMinutes(10), Duration.ofHours(2), 3,
                Duration.ofDays(3), new DataSize(64L * 1024 * 1024), 5, 2));
    }

    @Test
    void reportsEveryMaintenanceProblemWithItsPath() {
        assertThatThrownBy(() -> loader.parse("""
                source: {host: h, database: d, user: u}
                lake: {warehouse: ./lake}
                maintenance:
                  interval: soon
                  min-snapshots: 0
                  target-file-size: 12 parsecs
                  orphan-ag: 1d
                """, "test.yaml", dir))
                .isInstanceOf(InvalidConfigException.class)
                .satisfies(e -> assertThat(((InvalidConfigException) e).problems()).extracting(ConfigProblem::path)
                        .containsExactlyInAnyOrder("maintenance.interval", "maintenance.min-snapshots", "maintenance.target-file-size", "maintenance.orphan-ag"))
                .hasMessageContaining("expected a positive size such as 512KB, 64MB or 1GB, found '12 parsecs'")
                .hasMessageContaining("must be between 1 and 1000000, found 0");
    }

    private static final String SOURCE = """
            source: {host: 127.0.0.1, database: shop, user: replicator}
            """;

    @Test
    void objectStorageWarehouseWithAPostgresCatalog() {
        ConfigLoader withKeys = new ConfigLoader(Map.of("AWS_ACCESS_KEY_ID", "AKIA-canary", "AWS_SECRET_ACCESS_KEY", "secret-canary",
                "CATALOG_PASSWORD", "catalog-canary")::get);
        PipelineConfig config = withKeys.parse(SOURCE + """
                lake:
                  warehouse: s3://lake-bucket/shop/
                  s3:
                    endpoint: http://127.0.0.1:9000
                    region: eu-west-1
                    path-style-access: true
                    access-key-id: ${env:AWS_ACCESS_KEY_ID}
                    secret-access-key: ${env:AWS_SECRET_ACCESS_KEY}
                  catalog:
                    type: jdbc
                    uri: jdbc:postgresql://127.0.0.1:5432/lake_catalog
                    user: lake
                    password: ${env:CATALOG_PASSWORD}
                state-dir: ./state
                """, "test.yaml", dir);
        LakeConfig lake = config.lake();
        assertThat(lake.warehouse()).isEqualTo("s3://lake-bucket/shop");
        assertThat(lake.isLocal()).isFalse();
        assertThat(lake.s3().endpoint()).contains("http://127.0.0.1:9000");
        assertThat(lake.s3().region()).contains("eu-west-1");
        assertThat(lake.s3().pathStyleAccess()).isTrue();
        assertThat(lake.s3().accessKeyId()).contains("AKIA-canary");
        assertThat(lake.s3().secretAccessKey().get().reveal()).isEqualTo("secret-canary");
        assertThat(lake.s3().cacheSize()).isEqualTo(S3Config.DEFAULT_CACHE_SIZE);
        assertThat(lake.s3().queryReads()).isEqualTo(S3Config.QueryReads.AUTO);
        assertThat(lake.catalog().type()).isEqualTo(CatalogConfig.Type.JDBC);
        assertThat(lake.catalog().isEmbedded()).isFalse();
        assertThat(lake.catalog().uri()).contains("jdbc:postgresql://127.0.0.1:5432/lake_catalog");
        assertThat(lake.catalog().password().get().reveal()).isEqualTo("catalog-canary");
        assertThat(lake.stateDir()).isEqualTo(dir.resolve("state"));
        assertThatThrownBy(lake::localWarehouse).isInstanceOf(IllegalStateException.class);

        PipelineConfig rest = withKeys.parse(SOURCE + """
                lake:
                  warehouse: s3a://lake-bucket/shop
                  catalog: {type: rest, uri: 'https://catalog.example.com/api/catalog', credential: '${env:CATALOG_PASSWORD}', warehouse: shop}
                """, "test.yaml", dir);
        assertThat(rest.lake().warehouse()).isEqualTo("s3://lake-bucket/shop");
        assertThat(rest.lake().s3()).isEqualTo(S3Config.DEFAULT);
        assertThat(rest.lake().catalog().type()).isEqualTo(CatalogConfig.Type.REST);
        assertThat(rest.lake().catalog().credential().get().reveal()).isEqualTo("catalog-canary");
        assertThat(rest.lake().catalog().warehouse()).contains("shop");
    }

    @Test
    void storageAndCatalogMistakesAreNamed() {
        assertThatThrownBy(() -> loader.parse(SOURCE + "lake: {warehouse: s3://lake-bucket/shop}\n", "test.yaml", dir))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("lake.catalog").hasMessageContaining("is required for an object-storage warehouse");
        assertThatThrownBy(() -> loader.parse(SOURCE + "lake: {warehouse: gs://bucket/shop}\n", "test.yaml", dir))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("lake.warehouse").hasMessageContaining("s3://bucket/prefix");
        assertThatThrownBy(() -> loader.parse(SOURCE + "lake: {warehouse: s3://lake-bucket/shop, catalog: {type: hadoop}}\n", "test.yaml", dir))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("lake.catalog.type").hasMessageContaining("cannot do atomically");
        assertThatThrownBy(() -> loader.parse(SOURCE + "lake: {warehouse: ./lake, s3: {region: us-east-1}}\n", "test.yaml", dir))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("lake.s3").hasMessageContaining("applies to an s3:// warehouse only");
        assertThatThrownBy(() -> loader.parse(SOURCE + """
                lake:
                  warehouse: s3://lake-bucket/shop
                  s3: {access-key-id: AKIA, query-reads: duckdb}
                  catalog: {type: rest}
                """, "test.yaml", dir))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("lake.s3.secret-access-key").hasMessageContaining("lake.catalog.uri")
                .hasMessageContaining("lake.s3.query-reads").hasMessageContaining("expected auto, httpfs or cache, found 'duckdb'");
        PipelineConfig cached = loader.parse(SOURCE + """
                lake:
                  warehouse: s3://lake-bucket/shop
                  s3: {query-reads: cache, cache-size: 10GB}
                  catalog: {type: rest, uri: 'http://127.0.0.1:8181'}
                """, "test.yaml", dir);
        assertThat(cached.lake().s3().queryReads()).isEqualTo(S3Config.QueryReads.CACHE);
        assertThatThrownBy(() -> loader.parse(SOURCE + """
                lake:
                  warehouse: s3://lake-bucket/shop
                  catalog: {type: jdbc, uri: 'jdbc:postgresql://h/db', password: literal}
                """, "test.yaml", dir))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("lake.catalog.password");
        // A local warehouse keeps its embedded catalog, with no new key needed.
        PipelineConfig local = loader.parse(SOURCE + "lake: {warehouse: ./lake}\n", "test.yaml", dir);
        assertThat(local.lake().catalog()).isEqualTo(CatalogConfig.LOCAL_DEFAULT);
        assertThat(local.lake().isLocal()).isTrue();
    }

    @Test
    void aCaptureOnlyPipelineHasASinkAndNoLake() {
        ConfigLoader withKeys = new ConfigLoader(Map.of("KAFKA_JAAS", "org.apache.kafka.common.security.plain.PlainLoginModule required password=\"jaas-canary\";")::get);
        PipelineConfig config = withKeys.parse(SOURCE + """
                sink:
                  type: kafka
                  bootstrap-servers: 127.0.0.1:9092,127.0.0.2:9093
                  topic-prefix: shop
                  format: debezium-json-schemaless
                  partitions: 6
                  properties:
                    security.protocol: SASL_SSL
                    sasl.mechanism: PLAIN
                    sasl.jaas.config: ${env:KAFKA_JAAS}
                """, "capture.yaml", dir);
        assertThat(config.hasLake()).isFalse();
        KafkaSinkConfig sink = config.sink().orElseThrow();
        assertThat(sink.bootstrapServers()).isEqualTo("127.0.0.1:9092,127.0.0.2:9093");
        assertThat(sink.topicPrefix()).isEqualTo("shop");
        assertThat(sink.format()).isEqualTo(KafkaSinkConfig.Format.DEBEZIUM_JSON_SCHEMALESS);
        assertThat(sink.partitions()).isEqualTo(6);
        assertThat(sink.replicationFactor()).isEqualTo((short) -1);
        assertThat(sink.properties().get("security.protocol").reveal()).isEqualTo("SASL_SSL");
        assertThat(sink.properties().get("sasl.jaas.config").reveal()).contains("jaas-canary");
        assertThat(config.mask("sasl.jaas.config = " + sink.properties().get("sasl.jaas.config").reveal())).doesNotContain("jaas-canary");
        assertThat(sink.toString()).doesNotContain("jaas-canary");
        assertThatThrownBy(config::lake).isInstanceOf(TributaryException.class).hasMessageContaining("has no lake section");

        assertThatThrownBy(() -> loader.parse(SOURCE + """
                lake: {warehouse: ./lake}
                sink: {type: kafka, bootstrap-servers: 'h:9092', topic-prefix: shop}
                """, "test.yaml", dir)).isInstanceOf(InvalidConfigException.class).hasMessageContaining("either into the lake or into Kafka");
        assertThatThrownBy(() -> loader.parse(SOURCE + """
                sink: {type: kafkaa, bootstrap-servers: 'h', topic-prefix: 'shop/x', format: avro, properties: {sasl.jaas.config: literal}}
                """, "test.yaml", dir)).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("sink.type").hasMessageContaining("sink.bootstrap-servers").hasMessageContaining("sink.topic-prefix")
                .hasMessageContaining("sink.format").hasMessageContaining("sink.properties.sasl.jaas.config");
        assertThatThrownBy(() -> loader.parse(SOURCE, "test.yaml", dir)).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("lake").hasMessageContaining("or a sink");
    }

    @Test
    void aKafkaSourceLandsTopicsInTheLake() {
        ConfigLoader withKeys = new ConfigLoader(Map.of("KAFKA_JAAS", "PlainLoginModule required password=\"jaas-canary\";")::get);
        PipelineConfig config = withKeys.parse("""
                name: landing
                source:
                  type: kafka
                  bootstrap-servers: 127.0.0.1:9092
                  topic-pattern: "shop\\\\.public\\\\..*"
                  format: debezium-json
                  properties:
                    security.protocol: SASL_PLAINTEXT
                    sasl.jaas.config: ${env:KAFKA_JAAS}
                lake: {warehouse: ./lake}
                """, "lake.yaml", dir);
        KafkaSourceConfig source = (KafkaSourceConfig) config.source();
        assertThat(source.type()).isEqualTo("kafka");
        assertThat(source.topicPattern()).contains("shop\\.public\\..*");
        assertThat(java.util.regex.Pattern.compile(source.topicPattern().get()).matcher("shop.public.orders").matches()).isTrue();
        assertThat(source.topics()).isEmpty();
        assertThat(source.groupId()).as("default group").isEqualTo("tributary-landing");
        assertThat(source.properties().get("sasl.jaas.config").reveal()).contains("jaas-canary");
        assertThat(source.toString()).doesNotContain("jaas-canary");
        assertThat(source.describe()).isEqualTo("Kafka at 127.0.0.1:9092, topics matching shop\\.public\\..*");
        assertThat(config.hasLake()).isTrue();

        PipelineConfig listed = loader.parse("""
                source: {type: kafka, bootstrap-servers: 'h:9092', topics: [shop.public.orders, shop.public.customers], group-id: shop-lake}
                lake: {warehouse: ./lake}
                """, "lake.yaml", dir);
        KafkaSourceConfig topics = (KafkaSourceConfig) listed.source();
        assertThat(topics.topics()).containsExactly("shop.public.orders", "shop.public.customers");
        assertThat(topics.groupId()).isEqualTo("shop-lake");
        assertThat(topics.workers()).as("default").isEqualTo(KafkaSourceConfig.Workers.SINGLE);
        assertThat(topics.sharedByWorkers()).isFalse();
        KafkaSourceConfig workers = (KafkaSourceConfig) loader.parse("""
                source: {type: kafka, bootstrap-servers: 'h:9092', topics: [shop.public.orders], workers: group}
                lake: {warehouse: ./lake}
                """, "lake.yaml", dir).source();
        assertThat(workers.workers()).isEqualTo(KafkaSourceConfig.Workers.GROUP);
        assertThat(workers.sharedByWorkers()).isTrue();
        assertThatThrownBy(() -> loader.parse("""
                source: {type: kafka, bootstrap-servers: 'h:9092', topics: [a], workers: many}
                lake: {warehouse: ./lake}
                """, "lake.yaml", dir)).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("source.workers").hasMessageContaining("expected one of [single, group], found 'many'");

        assertThatThrownBy(() -> loader.parse("""
                source: {type: kafka, bootstrap-servers: 'h', topics: [a], topic-pattern: "(", format: debezium-json-schemaless}
                lake: {warehouse: ./lake}
                """, "lake.yaml", dir)).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("source.bootstrap-servers").hasMessageContaining("source.topic-pattern")
                .hasMessageContaining("either topics or a topic-pattern").hasMessageContaining("needs the schemas embedded");
        assertThatThrownBy(() -> loader.parse("""
                source: {type: kafka, bootstrap-servers: 'h:9092'}
                lake: {warehouse: ./lake}
                """, "lake.yaml", dir)).isInstanceOf(InvalidConfigException.class).hasMessageContaining("give the topics to read, or a topic-pattern");
        assertThatThrownBy(() -> loader.parse("""
                source: {type: kafka, bootstrap-servers: 'h:9092', topics: [a]}
                sink: {type: kafka, bootstrap-servers: 'h:9092', topic-prefix: shop}
                """, "lake.yaml", dir)).isInstanceOf(InvalidConfigException.class).hasMessageContaining("lands the topics in the lake");
        // Lake commits are announced on the Kafka source's cluster unless told otherwise.
        PipelineConfig announcing = withKeys.parse("""
                name: landing
                source:
                  type: kafka
                  bootstrap-servers: 127.0.0.1:9092
                  topics: [shop.public.orders]
                  properties: {sasl.jaas.config: '${env:KAFKA_JAAS}'}
                lake: {warehouse: ./lake}
                lake-commits: {type: kafka, per-layer: true}
                """, "lake.yaml", dir);
        LakeCommitsConfig commits = announcing.lakeCommits().orElseThrow();
        assertThat(commits.bootstrapServers()).isEqualTo("127.0.0.1:9092");
        assertThat(commits.topic("silver")).isEqualTo("landing.lake-commits.silver");
        assertThat(commits.properties().get("sasl.jaas.config").reveal()).contains("jaas-canary");
        assertThat(announcing.mask("x " + commits.properties().get("sasl.jaas.config").reveal())).doesNotContain("jaas-canary");
        assertThat(loader.parse(SOURCE + """
                lake: {warehouse: ./lake}
                lake-commits: {bootstrap-servers: 'k:9092', topic-prefix: shop}
                """, "test.yaml", dir).lakeCommits().orElseThrow().topic("gold")).isEqualTo("shop.lake-commits");
        assertThatThrownBy(() -> loader.parse(SOURCE + """
                lake: {warehouse: ./lake}
                lake-commits: {topic-prefix: 'a b'}
                """, "test.yaml", dir)).isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("lake-commits.bootstrap-servers").hasMessageContaining("lake-commits.topic-prefix");

        assertThatThrownBy(() -> loader.parse("""
                source: {type: mysqlx, host: h}
                lake: {warehouse: ./lake}
                """, "lake.yaml", dir)).isInstanceOf(InvalidConfigException.class).hasMessageContaining("'kafka'");
    }

    private static PostgresSourceConfig pg(PipelineConfig config) {
        return (PostgresSourceConfig) config.source();
    }
}
