package io.tributary.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.tributary.config.CommitConfig;
import io.tributary.config.LakeConfig;
import io.tributary.config.ModelsConfig;
import io.tributary.config.PipelineConfig;
import io.tributary.config.PostgresSourceConfig;
import io.tributary.config.SslMode;
import io.tributary.config.TableOptions;
import io.tributary.lake.Lake;
import io.tributary.query.QueryEngine;
import io.tributary.spi.ChangeSource;
import io.tributary.spi.TableId;
import io.tributary.testing.TestingPostgres;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every common PostgreSQL type, captured by the initial snapshot and by streaming, must read back
 * from silver with the same text PostgreSQL prints for it (timestamps compared in UTC).
 */
class TypeMappingIT {
    @TempDir
    Path dir;

    private static final String COLUMNS = "id, c_smallint, c_integer, c_bigint, c_numeric, c_numeric_free, c_real, c_double, c_text, c_varchar, c_char, "
            + "c_boolean, c_date, c_time, c_timestamp, c_timestamptz, c_uuid, c_json, c_jsonb, c_bytea, c_int_array, c_text_array, c_mood";

    @Test
    void everyTypeRoundTripsExactly() {
        try (TestingPostgres postgres = new TestingPostgres()) {
            String db = postgres.createDatabase("types");
            postgres.execute(db,
                    "SET TIME ZONE 'UTC'",
                    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
                    "CREATE TABLE t (id int PRIMARY KEY, c_smallint smallint, c_integer integer, c_bigint bigint, c_numeric numeric(20,6), "
                            + "c_numeric_free numeric, c_real real, c_double double precision, c_text text, c_varchar varchar(20), c_char char(4), "
                            + "c_boolean boolean, c_date date, c_time time, c_timestamp timestamp, c_timestamptz timestamptz, c_uuid uuid, "
                            + "c_json json, c_jsonb jsonb, c_bytea bytea, c_int_array int[], c_text_array text[], c_mood mood)",
                    insert(1, "-32768, 2147483647, 9223372036854775807, 12345678901234.123456, 123456789012345678901234567890.000000000000000001, "
                            + "1.5, 3.141592653589793, 'héllo 🌍', 'v', 'ab', true, '2024-02-29', '23:59:59.999999', '2024-03-10 02:30:00.123456', "
                            + "'2024-03-10 02:30:00.654321+05:30', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"a\": [1, 2]}', '{\"b\": null}', "
                            + "'\\xdeadbeef', '{1,NULL,3}', '{\"x\",\"y z\"}', 'happy'"),
                    insert(2, "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL"));
            PipelineConfig config = new PipelineConfig("types",
                    new PostgresSourceConfig(postgres.host(), postgres.port(), db, TestingPostgres.USER, Optional.empty(), SslMode.DISABLE,
                            List.of(new TableId("public", "t")), "tributary_types", "tributary_types", Duration.ofSeconds(1), Duration.ofSeconds(5)),
                    new LakeConfig(dir, LakeConfig.RawLayer.DISABLED), new ModelsConfig(Optional.empty(), Duration.ofSeconds(1)),
                    new CommitConfig(Duration.ofMillis(200), 1000), Map.of());
            run(config);
            postgres.execute(db, insert(3, "1, 2, 3, 0.000001, -0.5, -1.25, 1e300, '', 'x', 'abcd', false, '0001-01-01', '00:00:00', "
                    + "'1999-12-31 23:59:59', '2000-01-01 00:00:00+00', '00000000-0000-0000-0000-000000000000', '[]', '{}', '\\x', '{}', '{}', 'sad'"));
            run(config);

            String pgSql = "SELECT id::text, c_smallint::text, c_integer::text, c_bigint::text, c_numeric::text, c_numeric_free::text, c_real::text, "
                    + "c_double::text, c_text, c_varchar, c_char, c_boolean::text, c_date::text, c_time::text, c_timestamp::text, "
                    + "to_char(c_timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), c_uuid::text, c_json::text, c_jsonb::text, "
                    + "encode(c_bytea, 'hex'), array_to_string(c_int_array, ',', 'NULL'), array_to_string(c_text_array, ',', 'NULL'), c_mood::text FROM t ORDER BY id";
            List<List<String>> expected = postgres.query(db, pgSql);
            try (Lake lake = Lake.open(config.lake(), config.name(), t -> TableOptions.DEFAULT); QueryEngine q = QueryEngine.open(lake.tables())) {
                String lakeSql = "SELECT CAST(id AS VARCHAR), CAST(c_smallint AS VARCHAR), CAST(c_integer AS VARCHAR), CAST(c_bigint AS VARCHAR), "
                        + "CAST(c_numeric AS VARCHAR), c_numeric_free, CAST(c_real AS VARCHAR), CAST(c_double AS VARCHAR), c_text, c_varchar, c_char, "
                        + "CAST(c_boolean AS VARCHAR), CAST(c_date AS VARCHAR), CAST(c_time AS VARCHAR), CAST(c_timestamp AS VARCHAR), "
                        + "strftime(c_timestamptz, '%Y-%m-%d %H:%M:%S.%f'), CAST(c_uuid AS VARCHAR), c_json, c_jsonb, hex(c_bytea), "
                        // DuckDB's array_to_string of an empty list is NULL where PostgreSQL's is ''.
                        + "CASE len(c_int_array) WHEN 0 THEN '' ELSE array_to_string(list_transform(c_int_array, lambda x: coalesce(CAST(x AS VARCHAR), 'NULL')), ',') END, "
                        + "CASE len(c_text_array) WHEN 0 THEN '' ELSE array_to_string(list_transform(c_text_array, lambda x: coalesce(x, 'NULL')), ',') END, "
                        + "c_mood FROM silver.t ORDER BY id";
                List<List<Object>> actual = q.query(lakeSql).rows();
                assertThat(actual).hasSize(3);
                for (int r = 0; r < 3; r++) {
                    for (int c = 0; c < expected.get(r).size(); c++) {
                        Object v = actual.get(r).get(c);
                        String got = v == null ? null : v.toString();
                        String want = expected.get(r).get(c);
                        String column = COLUMNS.split(", ")[c];
                        if (want != null && column.equals("c_bytea")) {
                            got = got.toLowerCase();
                        }
                        if (want != null && (column.equals("c_real") || column.equals("c_double"))) {
                            assertThat(Double.parseDouble(got)).as("row %d %s", r + 1, column).isEqualTo(Double.parseDouble(want));
                        } else if (want != null && column.equals("c_time")) {
                            assertThat(java.time.LocalTime.parse(got)).as("row %d %s", r + 1, column).isEqualTo(java.time.LocalTime.parse(want));
                        } else if (want != null && column.equals("c_timestamp")) {
                            assertThat(java.time.LocalDateTime.parse(got.replace(' ', 'T'))).as("row %d %s", r + 1, column)
                                    .isEqualTo(java.time.LocalDateTime.parse(want.replace(' ', 'T')));
                        } else if (want != null && column.equals("c_jsonb")) {
                            assertThat(got.replace(" ", "")).as("row %d %s", r + 1, column).isEqualTo(want.replace(" ", ""));
                        } else {
                            assertThat(got).as("row %d %s", r + 1, column).isEqualTo(want);
                        }
                    }
                }
            }
        }
    }

    private static String insert(int id, String values) {
        return "INSERT INTO t (" + COLUMNS + ") VALUES (" + id + ", " + values + ")";
    }

    private static void run(PipelineConfig config) {
        try (Pipeline pipeline = Pipeline.open(config)) {
            pipeline.run(ChangeSource.RunMode.CATCH_UP);
            pipeline.lake().close();
        }
    }
}
