package io.tributary.query;

import io.tributary.lake.catalog.DataFiles;
import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.commit.SnapshotPositions;
import io.tributary.spi.SourcePosition;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.GenericRecord;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.types.Types;

/**
 * Lake tables written by hand for tests: a silver table {@code silver.orders(id, amount, _position,
 * _commit_ts)} and its SCD2 history {@code silver.orders_history} following the history contract
 * (silver's columns, then {@code _valid_from}, {@code _valid_to}, {@code _is_current},
 * {@code _is_deleted}, {@code _op}, {@code _position}, {@code _tx_id}).
 */
public final class HandBuiltTables {
    public static final Schema SILVER = new Schema(List.of(
            Types.NestedField.required(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "amount", Types.StringType.get()),
            Types.NestedField.required(3, "_position", Types.StringType.get()),
            Types.NestedField.required(4, "_commit_ts", Types.TimestampType.withZone())), Set.of(1));
    public static final Schema HISTORY = new Schema(List.of(
            Types.NestedField.optional(1, "id", Types.LongType.get()),
            Types.NestedField.optional(2, "amount", Types.StringType.get()),
            Types.NestedField.optional(4, "_commit_ts", Types.TimestampType.withZone()),
            Types.NestedField.required(5, "_valid_from", Types.TimestampType.withZone()),
            Types.NestedField.optional(6, "_valid_to", Types.TimestampType.withZone()),
            Types.NestedField.required(7, "_is_current", Types.BooleanType.get()),
            Types.NestedField.required(8, "_is_deleted", Types.BooleanType.get()),
            Types.NestedField.required(9, "_op", Types.StringType.get()),
            Types.NestedField.optional(3, "_position", Types.StringType.get()),
            Types.NestedField.required(10, "_tx_id", Types.LongType.get())));

    /** One version of a row; {@code validTo} null while open. */
    public record Version(long id, String amount, Instant validFrom, Instant validTo, boolean deleted, String op, SourcePosition position, long txId) {
    }

    private HandBuiltTables() {
    }

    public static Instant at(String hhmm) {
        return Instant.parse("2026-11-22T" + hhmm + ":00Z");
    }

    public static SourcePosition position(long lsn, long index) {
        return SourcePosition.ofSequence(lsn, index);
    }

    public static Table create(LakeCatalog catalog, String namespace, String name, Schema schema) {
        return catalog.ensure(TableIdentifier.of(namespace, name), schema, s -> PartitionSpec.unpartitioned());
    }

    /** Appends {@code versions} to the history table in one snapshot stamped with {@code stamp}. */
    public static void appendHistory(LakeCatalog catalog, Table history, List<Version> versions, SourcePosition stamp) {
        List<Record> records = new ArrayList<>();
        for (Version v : versions) {
            GenericRecord r = GenericRecord.create(history.schema());
            r.setField("id", v.id());
            r.setField("amount", v.amount());
            r.setField("_commit_ts", utc(v.validFrom()));
            r.setField("_valid_from", utc(v.validFrom()));
            r.setField("_valid_to", v.validTo() == null ? null : utc(v.validTo()));
            r.setField("_is_current", v.validTo() == null && !v.deleted());
            r.setField("_is_deleted", v.deleted());
            r.setField("_op", v.op());
            r.setField("_position", v.position().encoded());
            r.setField("_tx_id", v.txId());
            records.add(r);
        }
        append(catalog, history, records, stamp);
    }

    /** Appends silver rows {@code (id, amount)} committed at {@code commitTs}, stamped with {@code stamp}. */
    public static DataFile appendSilver(LakeCatalog catalog, Table silver, List<Object[]> rows, Instant commitTs, SourcePosition stamp) {
        return append(catalog, silver, silverRecords(silver, rows, commitTs, stamp), stamp);
    }

    public static List<Record> silverRecords(Table silver, List<Object[]> rows, Instant commitTs, SourcePosition stamp) {
        List<Record> records = new ArrayList<>();
        for (Object[] row : rows) {
            GenericRecord r = GenericRecord.create(silver.schema());
            r.setField("id", row[0]);
            r.setField("amount", row[1]);
            r.setField("_position", (stamp == null ? SourcePosition.BEGINNING : stamp).encoded());
            r.setField("_commit_ts", utc(commitTs));
            records.add(r);
        }
        return records;
    }

    /** Appends records; {@code stamp} null makes an unstamped snapshot, as maintenance does. */
    public static DataFile append(LakeCatalog catalog, Table table, List<Record> records, SourcePosition stamp) {
        DataFile file = new DataFiles(table).write(records, null);
        AppendFiles append = table.newAppend().appendFile(file);
        catalog.commit(stamp == null ? append : SnapshotPositions.stamp(append, "test", stamp));
        table.refresh();
        return file;
    }

    public static OffsetDateTime utc(Instant t) {
        return t.atOffset(ZoneOffset.UTC);
    }
}
