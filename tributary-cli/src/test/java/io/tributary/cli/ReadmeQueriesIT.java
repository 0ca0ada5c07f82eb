package io.tributary.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.testing.TestingPostgres;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every example query of the README and of the documentation under {@code docs/} runs against a
 * lake of the demo's shop (the schema and workload of {@code tributary demo}, with its gold
 * models), so the examples cannot drift from the schema they are written for. Examples are: the
 * SQL of {@code ./tributary sql} command lines, {@code tributary history} commands, code spans
 * that are a SELECT, and fenced {@code sql} blocks (model files; with a code span holding a
 * placeholder, built as gold models). Only {@code docs/benchmarks.md} is left out: its queries
 * are written for the benchmark's pgbench lake.
 */
class ReadmeQueriesIT {
    private static final Pattern SQL_COMMAND = Pattern.compile("\\./tributary sql .*?(--as-of (\\S+) )?\"([^\"]*)\"");
    private static final Pattern HISTORY_COMMAND = Pattern.compile("tributary history (?:-c \\S+ |… )(\\w+)((?: --key [^\\s`]+)+)");
    private static final Pattern SELECT_SPAN = Pattern.compile("`(SELECT [^`]*)`");
    private static final Pattern SQL_BLOCK = Pattern.compile("```sql\\n(.*?)```", Pattern.DOTALL);

    /** Documents whose queries are written for another schema than the demo's. */
    private static final List<String> OTHER_SCHEMAS = List.of("benchmarks.md");

    @TempDir
    Path dir;

    /** Regression: the README's queries used columns the demo's tables do not have (orders.amount, order_items.line). */
    @Test
    void everyExampleQueryOfTheReadmeAndTheDocsRunsAgainstTheDemoSchema() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        List<String[]> sql = new ArrayList<>();
        List<String> models = new ArrayList<>();
        List<String[]> history = new ArrayList<>();
        collectExamples(readme, sql, models, history);
        // The front door keeps examples of each kind, not only the documents it links to.
        assertThat(sql).as("sql examples found in README.md").hasSizeGreaterThanOrEqualTo(3);
        assertThat(models).as("model examples found in README.md").hasSizeGreaterThanOrEqualTo(2);
        assertThat(history).as("history examples found in README.md").hasSizeGreaterThanOrEqualTo(2);

        int readmeSql = sql.size();
        int readmeModels = models.size();
        int readmeHistory = history.size();

        List<Path> docs;
        try (Stream<Path> files = Files.list(Path.of("..", "docs"))) {
            docs = files.filter(p -> p.getFileName().toString().endsWith(".md")).sorted().toList();
        }
        assertThat(docs).extracting(p -> p.getFileName().toString()).contains("history.md", "gold-models.md");
        for (Path doc : docs) {
            if (!OTHER_SCHEMAS.contains(doc.getFileName().toString())) {
                collectExamples(Files.readString(doc), sql, models, history);
            }
        }
        assertThat(sql.size() - readmeSql).as("sql examples found in docs/").isGreaterThanOrEqualTo(1);
        assertThat(models.size() - readmeModels).as("model examples found in docs/").isGreaterThanOrEqualTo(2);
        assertThat(history.size() - readmeHistory).as("history examples found in docs/").isGreaterThanOrEqualTo(1);
        runAgainstTheDemoShop(sql, models, history);
    }

    private static void collectExamples(String text, List<String[]> sql, List<String> models, List<String[]> history) {
        Matcher m = SQL_COMMAND.matcher(text);
        while (m.find()) {
            if (!m.group(3).contains("…")) {
                sql.add(m.group(2) == null ? new String[] {"sql", m.group(3)} : new String[] {"sql", "--as-of", m.group(2), m.group(3)});
            }
        }
        m = SELECT_SPAN.matcher(text);
        while (m.find()) {
            if (m.group(1).contains("{{")) {
                models.add(m.group(1));
            } else {
                sql.add(new String[] {"sql", m.group(1)});
            }
        }
        m = SQL_BLOCK.matcher(text);
        while (m.find()) {
            models.add(m.group(1));
        }
        m = HISTORY_COMMAND.matcher(text);
        while (m.find()) {
            List<String> args = new ArrayList<>(List.of("history", m.group(1)));
            args.addAll(List.of(m.group(2).trim().split(" ")));
            history.add(args.toArray(String[]::new));
        }
    }

    private void runAgainstTheDemoShop(List<String[]> sql, List<String> models, List<String[]> history) throws Exception {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("readme");
            DemoShop shop = new DemoShop(7);
            try (Connection c = postgres.connect(db)) {
                shop.create(c, 50, 20, 300);
            }
            Path gold = Files.createDirectories(dir.resolve("models/gold"));
            for (String model : List.of("revenue_per_day_country", "top_products", "customer_lifetime_value")) {
                try (InputStream in = DemoCommand.class.getResourceAsStream("/demo/gold/" + model + ".sql")) {
                    Files.copy(in, gold.resolve(model + ".sql"));
                }
            }
            for (int i = 0; i < models.size(); i++) {
                Files.writeString(gold.resolve("readme_example_" + i + ".sql"), models.get(i));
            }
            Path config = dir.resolve("pipeline.yaml");
            Files.writeString(config, """
                    name: readme
                    source: {host: 127.0.0.1, port: %d, database: %s, user: postgres, sslmode: disable}
                    lake: {warehouse: ./lake}
                    models: ./models
                    """.formatted(postgres.port(), db));
            CliRun first = CliRun.tributary("run", "-c", config.toString(), "--once");
            assertThat(first.exitCode()).as(first.err()).isZero();
            // Inserts, updates and deletes, so the incremental examples build incrementally over each kind of change.
            try (Connection c = postgres.connect(db)) {
                for (int i = 0; i < 60; i++) {
                    shop.change(c);
                }
            }
            CliRun second = CliRun.tributary("run", "-c", config.toString(), "--once");
            assertThat(second.exitCode()).as(second.err()).isZero();
            for (int i = 0; i < models.size(); i++) {
                CliRun built = CliRun.tributary("sql", "-c", config.toString(), "SELECT count(*) FROM gold.readme_example_" + i);
                assertThat(built.exitCode()).as("model %s built: %s", models.get(i), built.err()).isZero();
            }

            for (String[] example : sql) {
                List<String> args = new ArrayList<>(List.of(example));
                args.addAll(1, List.of("-c", config.toString()));
                CliRun r = CliRun.tributary(args.toArray(String[]::new));
                assertThat(r.exitCode()).as("%s: %s", String.join(" ", example), r.err()).isZero();
            }
            for (String[] example : history) {
                List<String> args = new ArrayList<>(List.of(example));
                args.addAll(1, List.of("-c", config.toString()));
                CliRun r = CliRun.tributary(args.toArray(String[]::new));
                assertThat(r.exitCode()).as("%s: %s", String.join(" ", example), r.err()).isZero();
            }
            postgres.dropInactiveSlots();
            postgres.execute(db, "DROP PUBLICATION tributary_readme");
        }
    }
}
