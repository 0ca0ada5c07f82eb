package io.tributary.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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

    private static final String FILES_EXAMPLE = """
            source:
              type: files
              path: ./landing                     # or s3://bucket/landing (lake.s3 settings apply)
              schedule: "0 2 * * *"               # or every: 15m; absent: poll every 30 s
              time-zone: Europe/Lisbon
              tables:
                orders:                           # lake name: bronze.orders, silver.orders, …
                  pattern: "orders/*/orders_*.csv"
                  format: csv                     # csv | jsonl | parquet
                  key: [order_id]                 # optional: absent = append-only silver
                  csv: {delimiter: ",", header: true, quote: "\\"", null: "", encoding: UTF-8}
                  types: {amount: decimal(12,2)}  # overrides of the inferred types
                  date-from-path: "orders/{date}/"  # optional: fills _source_date
                  max-reject-ratio: 0.01
            lake: {warehouse: ./lake}
            """;

    @Test
    void aFilesSourceReadsTheIssuesExample() {
        PipelineConfig config = loader.parse(FILES_EXAMPLE, "files.yaml", dir);
        FilesSourceConfig.FileTable orders = new FilesSourceConfig.FileTable("orders", "orders/*/orders_*.csv", FilesSourceConfig.Format.CSV,
                List.of("order_id"), FilesSourceConfig.Csv.DEFAULT, Map.of("amount", "decimal(12,2)"), Optional.of("orders/{date}/"), 0.01);
        assertThat(config.source()).isEqualTo(new FilesSourceConfig(dir.resolve("landing").toString(), Optional.of("0 2 * * *"), Optional.empty(),
                ZoneId.of("Europe/Lisbon"), List.of(orders), ConfigLoader.DEFAULT_HEARTBEAT, ReconnectConfig.DEFAULT));
        FilesSourceConfig files = (FilesSourceConfig) config.source();
        assertThat(files.type()).isEqualTo("files");
        assertThat(files.tables()).containsExactly(new TableId("public", "orders"));
        assertThat(files.describe()).isEqualTo("files under " + dir.resolve("landing"));
        assertThat(files.secret()).isEmpty();
        assertThat(files.fileTables().get(0).csv()).isEqualTo(new FilesSourceConfig.Csv(",", true, "\"", "", "UTF-8", Optional.empty(), Optional.empty()));
        assertThat(config.hasLake()).isTrue();
    }

    @Test
    void aFilesSourceWithoutScheduleOrCsvSettingsPollsEveryThirtySecondsInUtc() {
        FilesSourceConfig files = (FilesSourceConfig) loader.parse("""
                source:
                  type: files
                  path: /srv/landing/
                  tables:
                    events: {pattern: "**/*.jsonl", format: JSONL}
                    customers: {pattern: "customers.parquet", format: parquet, key: [id, region], types: {balance: decimal(18, 4), id: BIGINT}}
                lake: {warehouse: ./lake}
                """, "files.yaml", dir).source();
        assertThat(files.path()).isEqualTo("/srv/landing");
        assertThat(files.schedule()).isEmpty();
        assertThat(files.every()).isEmpty();
        assertThat(files.pollInterval()).isEqualTo(Duration.ofSeconds(30)).isEqualTo(FilesSourceConfig.DEFAULT_POLL);
        assertThat(files.timeZone()).isEqualTo(ZoneOffset.UTC);
        assertThat(files.heartbeatInterval()).isEqualTo(ConfigLoader.DEFAULT_HEARTBEAT);
        assertThat(files.reconnect()).isEqualTo(ReconnectConfig.DEFAULT);
        assertThat(files.rawFiles()).isEqualTo(FilesSourceConfig.RawFiles.REFERENCE);
        assertThat(files.tables()).as("in the file's order").containsExactly(new TableId("public", "events"), new TableId("public", "customers"));
        FilesSourceConfig.FileTable events = files.fileTables().get(0);
        assertThat(events.format()).isEqualTo(FilesSourceConfig.Format.JSONL);
        assertThat(events.key()).isEmpty();
        assertThat(events.csv()).isEqualTo(FilesSourceConfig.Csv.DEFAULT);
        assertThat(events.types()).isEmpty();
        assertThat(events.dateFromPath()).isEmpty();
        assertThat(events.maxRejectRatio()).isZero();
        assertThat(files.fileTables().get(1).key()).containsExactly("id", "region");
        assertThat(files.fileTables().get(1).types()).as("the comma YAML's flow style splits at, joined back")
                .containsExactly(Map.entry("balance", "decimal(18,4)"), Map.entry("id", "bigint"));
    }

    @Test
    void aFilesSourceReadsItsIntervalCsvOptionsAndTypes() {
        FilesSourceConfig files = (FilesSourceConfig) loader.parse("""
                source:
                  type: files
                  path: s3a://landing-bucket/in/
                  raw: copy
                  every: 15m
                  heartbeat: 1m
                  reconnect: {max-elapsed: 1h}
                  tables:
                    sales:
                      pattern: "sales/*.tsv"
                      format: csv
                      csv: {delimiter: \\t, header: no, quote: "'", null: NA, encoding: latin1, date-format: "%d/%m/%Y", timestamp-format: ""}
                      types:
                        amount: " DECIMAL( 38 , 38 ) "
                        sold_at: Timestamp  With Time Zone
                        flag: BOOLEAN
                        price: decimal(10, 2)
                      max-reject-ratio: 1
                lake:
                  warehouse: ./lake
                  s3: {endpoint: 'http://127.0.0.1:9000', path-style-access: true}
                """, "files.yaml", dir).source();
        assertThat(files.path()).as("s3a:// read as s3://, without the trailing slash").isEqualTo("s3://landing-bucket/in");
        assertThat(files.every()).contains(Duration.ofMinutes(15));
        assertThat(files.rawFiles()).isEqualTo(FilesSourceConfig.RawFiles.COPY);
        assertThat(files.pollInterval()).isEqualTo(Duration.ofMinutes(15));
        assertThat(files.heartbeatInterval()).isEqualTo(Duration.ofMinutes(1));
        assertThat(files.reconnect().maxElapsed()).isEqualTo(Duration.ofHours(1));
        FilesSourceConfig.FileTable sales = files.fileTables().get(0);
        assertThat(sales.csv()).isEqualTo(new FilesSourceConfig.Csv("\t", false, "'", "NA", "ISO-8859-1", Optional.of("%d/%m/%Y"), Optional.empty()));
        assertThat(sales.types()).containsExactly(Map.entry("amount", "decimal(38,38)"), Map.entry("sold_at", "timestamp with time zone"),
                Map.entry("flag", "boolean"), Map.entry("price", "decimal(10,2)"));
        assertThat(sales.maxRejectRatio()).isEqualTo(1.0);
    }

    @Test
    void aFilesSourceNamesEachMistakeOfItsOwnSettings() {
        assertThatThrownBy(() -> loader.parse("""
                source:
                  type: files
                  schedule: "0 24 * * *"
                  every: 15m
                  time-zone: Europe/Lisbn
                  poll: 1m
                  tables: {orders: {pattern: "*.csv", format: csv}}
                lake: {warehouse: ./lake}
                """, "files.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).extracting(ConfigProblem::path)
                        .containsExactlyInAnyOrder("source.path", "source.schedule", "source.every", "source.time-zone", "source.poll"))
                .hasMessageContaining("source.path: is required")
                .hasMessageContaining("source.schedule: expected a cron expression").hasMessageContaining("hour: expected values in 0-23, found '24'")
                .hasMessageContaining("give either schedule or every, not both; found schedule '0 24 * * *' and every '15m'")
                .hasMessageContaining("found 'Europe/Lisbn'");
        assertThatThrownBy(() -> loader.parse("""
                source: {type: files, path: 'gs://bucket/in', every: never}
                lake: {warehouse: ./lake}
                """, "files.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).extracting(ConfigProblem::path)
                        .containsExactlyInAnyOrder("source.path", "source.every", "source.tables"))
                .hasMessageContaining("expected a local directory or an s3://bucket/prefix location; found 'gs://bucket/in'")
                .hasMessageContaining("found 'never'")
                .hasMessageContaining("source.tables: is required");
        assertThatThrownBy(() -> loader.parse("source: {type: files, path: ./in, tables: {}}\nlake: {warehouse: ./lake}\n", "files.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).extracting(ConfigProblem::path)
                        .containsExactly("source.tables"))
                .hasMessageContaining("expected at least one table, found none");
    }

    @Test
    void aFilesSourceNamesEachMistakeOfItsTables() {
        assertThatThrownBy(() -> loader.parse("""
                source:
                  type: files
                  path: ./landing
                  tables:
                    Orders: {pattern: "orders/*.csv", format: csv}
                    orders: {patern: "orders/*.csv", format: xlsx}
                    events: {pattern: "../events/*.jsonl", format: jsonl, csv: {header: false}}
                    customers: {pattern: "customers/[a-", format: parquet}
                    items:
                      pattern: "items/{date}/*.json"
                      format: jsonl
                      key: [id, id]
                      types: {price: decimal(40,2), name: varchar2, ratio: decimal(5,6)}
                      date-from-path: "items/{date}/{date}"
                      max-reject-ratio: 1.5
                    refunds: {pattern: "refunds/*.csv", format: csv, max-reject-ratio: lots}
                    empty:
                """, "files.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).extracting(ConfigProblem::path)
                        .containsExactlyInAnyOrder("source.tables.Orders", "source.tables.orders.pattern", "source.tables.orders.patern",
                                "source.tables.orders.format", "source.tables.events.pattern", "source.tables.events.csv",
                                "source.tables.customers.pattern", "source.tables.items.key[1]", "source.tables.items.types.price",
                                "source.tables.items.types.name", "source.tables.items.types.ratio", "source.tables.items.date-from-path",
                                "source.tables.items.max-reject-ratio", "source.tables.refunds.max-reject-ratio", "source.tables.empty", "lake"))
                .hasMessageContaining("source.tables.Orders: expected a lake table name").hasMessageContaining("found 'Orders'")
                .hasMessageContaining("did you mean 'pattern'?")
                .hasMessageContaining("source.tables.orders.format: expected csv, jsonl or parquet; found 'xlsx'")
                .hasMessageContaining("without '..'; found '../events/*.jsonl'")
                .hasMessageContaining("source.tables.events.csv: applies to format csv only; this table's format is jsonl")
                .hasMessageContaining("source.tables.customers.pattern: not a valid glob")
                .hasMessageContaining("decimal(p,s) with 1 <= p <= 38 and 0 <= s <= p").hasMessageContaining("found 'decimal(40,2)'")
                .hasMessageContaining("found 'varchar2'").hasMessageContaining("found 'decimal(5,6)'")
                .hasMessageContaining("with {date} once").hasMessageContaining("found 'items/{date}/{date}'")
                .hasMessageContaining("must be between 0.0 and 1.0, found 1.5").hasMessageContaining("expected a number, found 'lots'")
                .hasMessageContaining("source.tables.empty: expected a mapping with the table's pattern and format; found nothing")
                .hasMessageContaining("lake: is required: a files source lands its tables in the lake");
    }

    @Test
    void aFilesSourceNamesEachMistakeOfItsCsvSettings() {
        assertThatThrownBy(() -> loader.parse("""
                source:
                  type: files
                  path: ./landing
                  tables:
                    orders:
                      pattern: "*.csv"
                      csv: {delimiter: ";;", quote: "", encoding: utf-9, header: maybe, escape: "\\\\"}
                    lines:
                      pattern: "*.txt"
                      format: csv
                      csv: {delimiter: "|", quote: "|"}
                lake: {warehouse: ./lake}
                """, "files.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).extracting(ConfigProblem::path)
                        .containsExactlyInAnyOrder("source.tables.orders.format", "source.tables.orders.csv.delimiter", "source.tables.orders.csv.quote",
                                "source.tables.orders.csv.encoding", "source.tables.orders.csv.header", "source.tables.orders.csv.escape",
                                "source.tables.lines.csv.quote"))
                .hasMessageContaining("source.tables.orders.format: is required: csv, jsonl or parquet")
                .hasMessageContaining("source.tables.orders.csv.delimiter: expected one character (\\t for a tab); found ';;'")
                .hasMessageContaining("source.tables.orders.csv.quote: expected one character; found ''")
                .hasMessageContaining("found 'utf-9'")
                .hasMessageContaining("source.tables.orders.csv.escape: unknown key")
                .hasMessageContaining("source.tables.lines.csv.quote: expected a delimiter and a quote that differ; found '|' for both");
    }

    @Test
    void aFilesSourceLandsInTheLakeAndNeverInAKafkaSink() {
        assertThatThrownBy(() -> loader.parse("""
                source: {type: files, path: ./in, tables: {orders: {pattern: "*.csv", format: csv}}}
                sink: {type: kafka, bootstrap-servers: 'h:9092', topic-prefix: shop}
                """, "files.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).extracting(ConfigProblem::path)
                        .containsExactly("sink"))
                .hasMessageContaining("source.type is files lands the files in the lake: give it a 'lake' section instead of a 'sink'");
        assertThatThrownBy(() -> loader.parse("""
                source: {type: files, path: ./in, tables: {orders: {pattern: "*.csv", format: csv}}}
                lake: {warehouse: ./lake}
                sink: {type: kafka, bootstrap-servers: 'h:9092', topic-prefix: shop}
                """, "files.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).extracting(ConfigProblem::path)
                        .containsExactly("sink"));
        assertThatThrownBy(() -> loader.parse("""
                source: {type: files, path: ./in, tables: {orders: {pattern: "*.csv", format: csv}}}
                lake: {warehouse: ./lake, s3: {region: eu-west-1}}
                """, "files.yaml", dir))
                .isInstanceOf(InvalidConfigException.class).as("lake.s3 serves no local landing folder and no local warehouse")
                .hasMessageContaining("lake.s3").hasMessageContaining("applies to an s3:// warehouse only");
        // Lake commits of a files source are announced on a cluster the section names.
        assertThatThrownBy(() -> loader.parse("""
                source: {type: files, path: ./in, tables: {orders: {pattern: "*.csv", format: csv}}}
                lake: {warehouse: ./lake}
                lake-commits: {topic-prefix: shop}
                """, "files.yaml", dir))
                .isInstanceOf(InvalidConfigException.class).hasMessageContaining("lake-commits.bootstrap-servers: is required");
        assertThatThrownBy(() -> loader.parse("source: {type: file, path: ./in}\nlake: {warehouse: ./lake}\n", "files.yaml", dir))
                .isInstanceOf(InvalidConfigException.class)
                .hasMessageContaining("source.type: expected 'postgres' (or 'postgresql'), 'kafka' or 'files', found 'file'");
    }

    @Test
    void lakeSettingsOfAFilesSourceLoadWithoutItsReferences() {
        String yaml = """
                source:
                  type: files
                  path: ${env:LANDING}
                  tables: {orders: {pattern: "*.csv", format: csv}}
                lake: {warehouse: ./lake}
                """;
        ConfigLoader withoutEnvironment = new ConfigLoader(Map.<String, String>of()::get);
        assertThatThrownBy(() -> withoutEnvironment.parse(yaml, "files.yaml", dir))
                .isInstanceOfSatisfying(InvalidConfigException.class, e -> assertThat(e.problems()).extracting(ConfigProblem::path)
                        .containsExactly("source.path"))
                .hasMessageContaining("environment variable LANDING is not set");
        PipelineConfig lake = withoutEnvironment.parseLakeSettings(yaml, "files.yaml", dir);
        assertThat(lake.source().tables()).containsExactly(new TableId("public", "orders"));
        assertThat(new ConfigLoader(Map.of("LANDING", "/data/in")::get).parse(yaml, "files.yaml", dir).source().describe())
                .isEqualTo("files under /data/in");
    }

    private static PostgresSourceConfig pg(PipelineConfig config) {
        return (PostgresSourceConfig) config.source();
    }
}
