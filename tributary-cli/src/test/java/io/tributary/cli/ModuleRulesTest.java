package io.tributary.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module rules of the architecture ("Rules of the house"), checked on the compiled main classes
 * of every module (the CLI's class path holds them all), so a forbidden dependency fails
 * {@code mvn verify}. The benchmark harness and the test fixtures may use anything.
 */
class ModuleRulesTest {
    private static final String SPI = "io.tributary.spi..";
    private static final String CONFIG = "io.tributary.config..";
    private static final String SOURCES = "io.tributary.source..";
    private static final String KAFKA = "io.tributary.kafka..";
    private static final String LAKE = "io.tributary.lake..";
    private static final String QUERY = "io.tributary.query..";
    private static final String MODELS = "io.tributary.models..";
    private static final String PIPELINE = "io.tributary.pipeline..";
    private static final String SERVER = "io.tributary.server..";
    private static final String CLI = "io.tributary.cli..";

    private static JavaClasses product;

    @BeforeAll
    static void importProduct() {
        product = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                // Test jars (another module's test classes this module's tests reuse).
                .withImportOption(location -> !location.contains("-tests.jar"))
                .importPackages("io.tributary.spi", "io.tributary.config", "io.tributary.source", "io.tributary.kafka", "io.tributary.lake", "io.tributary.query",
                        "io.tributary.models", "io.tributary.pipeline", "io.tributary.server", "io.tributary.cli");
    }

    @Test
    void theRulesSeeEveryModuleAndItsDependencies() {
        // Guards the rules below against passing on an empty or partial import.
        for (String type : List.of("io.tributary.spi.ChangeSource", "io.tributary.config.ConfigLoader", "io.tributary.source.postgres.PostgresChangeSource",
                "io.tributary.kafka.KafkaChangeSinkFactory", "io.tributary.lake.Lake", "io.tributary.query.QueryEngine", "io.tributary.models.GoldBuilder", "io.tributary.pipeline.Pipeline",
                "io.tributary.server.CatalogServer", "io.tributary.cli.Main")) {
            assertThat(product.contain(type)).as(type).isTrue();
        }
        assertThat(noClasses().that().resideInAPackage(LAKE).should().dependOnClassesThat().resideInAPackage("org.apache.iceberg..")
                .evaluate(product).hasViolation()).as("the lake's use of Iceberg is seen").isTrue();
        assertThat(noClasses().that().resideInAPackage(SOURCES).should().dependOnClassesThat().resideInAPackage("io.debezium..")
                .evaluate(product).hasViolation()).as("the PostgreSQL source's use of Debezium is seen").isTrue();
    }

    @Test
    void theSpiNeedsNothingButTheJdk() {
        check(classes().that().resideInAPackage(SPI).should().onlyDependOnClassesThat().resideInAnyPackage(SPI, "java.."));
    }

    @Test
    void configurationNeedsOnlyTheSpiAndJackson() {
        check(classes().that().resideInAPackage(CONFIG).should().onlyDependOnClassesThat()
                .resideInAnyPackage(SPI, CONFIG, "java..", "com.fasterxml.jackson.."));
    }

    @Test
    void icebergAndItsStorageLibrariesStayInsideTheLake() {
        check(noClasses().that().resideOutsideOfPackage(LAKE).should().dependOnClassesThat()
                .resideInAnyPackage("org.apache.iceberg..", "org.apache.hadoop..", "org.apache.parquet..", "org.apache.avro..", "org.rocksdb..",
                        "software.amazon.awssdk.."));
    }

    @Test
    void debeziumAndKafkaConnectStayInsideTheSources() {
        check(noClasses().that().resideOutsideOfPackage(SOURCES).should().dependOnClassesThat()
                .resideInAnyPackage("io.debezium..", "org.apache.kafka.connect.."));
    }

    @Test
    void kafkaClientsStayInsideTheKafkaModuleAndTheSources() {
        check(noClasses().that().resideOutsideOfPackages(KAFKA, SOURCES).should().dependOnClassesThat().resideInAPackage("org.apache.kafka.."));
    }

    @Test
    void theKafkaModuleNeedsOnlyTheSpiAndConfiguration() {
        check(noClasses().that().resideInAPackage(KAFKA).should().dependOnClassesThat()
                .resideInAnyPackage(SOURCES, LAKE, QUERY, MODELS, PIPELINE, SERVER, CLI));
        check(noClasses().that().resideOutsideOfPackage(KAFKA).should().dependOnClassesThat().resideInAPackage(KAFKA));
    }

    /** DuckDB answers queries, and its CSV, JSON and Parquet readers read the files a files source lands. */
    @Test
    void duckDbStaysInsideQueriesAndTheFilesSource() {
        check(noClasses().that().resideOutsideOfPackages(QUERY, "io.tributary.source.files..").should().dependOnClassesThat().resideInAPackage("org.duckdb.."));
    }

    @Test
    void sourcesAndTheLakeNeverImportEachOther() {
        check(noClasses().that().resideInAPackage(SOURCES).should().dependOnClassesThat()
                .resideInAnyPackage(KAFKA, LAKE, QUERY, MODELS, PIPELINE, SERVER, CLI));
        check(noClasses().that().resideInAPackage(LAKE).should().dependOnClassesThat()
                .resideInAnyPackage(SOURCES, KAFKA, QUERY, MODELS, PIPELINE, SERVER, CLI));
    }

    @Test
    void thePipelineAndTheCliReachSourcesOnlyThroughTheSpi() {
        check(noClasses().that().resideInAnyPackage(PIPELINE, CLI).should().dependOnClassesThat().resideInAPackage(SOURCES));
    }

    @Test
    void layersAboveTheLakeDependDownwardsOnly() {
        check(noClasses().that().resideInAPackage(QUERY).should().dependOnClassesThat().resideInAnyPackage(MODELS, PIPELINE, SERVER, CLI));
        check(noClasses().that().resideInAPackage(MODELS).should().dependOnClassesThat().resideInAnyPackage(PIPELINE, SERVER, CLI));
        check(noClasses().that().resideInAPackage(PIPELINE).should().dependOnClassesThat().resideInAnyPackage(SERVER, CLI));
        check(noClasses().that().resideInAPackage(SERVER).should().dependOnClassesThat().resideInAnyPackage(SOURCES, CLI));
    }

    private static void check(ArchRule rule) {
        rule.check(product);
    }
}
