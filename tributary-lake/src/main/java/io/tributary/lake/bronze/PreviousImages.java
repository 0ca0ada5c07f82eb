package io.tributary.lake.bronze;

import io.tributary.lake.catalog.LakeCatalog;
import io.tributary.lake.catalog.LiveRows;
import io.tributary.lake.layout.TableNames;
import io.tributary.spi.ChangeEvent;
import io.tributary.spi.ChangeOperation;
import io.tributary.spi.Column;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.Row;
import io.tributary.spi.TableSchema;
import io.tributary.spi.TributaryException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.expressions.Expression;
import org.apache.iceberg.expressions.Expressions;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.types.Types;

/**
 * Replaces {@link Row#UNAVAILABLE} values (unchanged TOASTed values the source did not send) with
 * the row's previous value, before any layer is written. The previous image is, in this order: the
 * event's own before image (REPLICA IDENTITY FULL), the last image of the same key earlier in the
 * micro-batch, or the latest version of the key in bronze before the micro-batch. Bronze, not silver,
 * because silver may exclude, hash or rename the column. The new-key half of a key change (a CREATE
 * right after the DELETE of the old key, in the same transaction) takes the old key's image.
 * Not thread-safe; one call per table and micro-batch.
 */
public final class PreviousImages {
    private final LakeCatalog catalog;

    public PreviousImages(LakeCatalog catalog) {
        this.catalog = catalog;
    }

    /**
     * @param events one table's events, ascending by position
     * @return the events with every unavailable value resolved (the same list when none has one)
     * @throws TributaryException CONVERSION_FAILED naming the table, position and column when no
     *                            previous image holds the value
     */
    public List<ChangeEvent> resolve(TableIdentifier bronzeId, List<ChangeEvent> events) {
        if (events.stream().noneMatch(e -> e.after() != null && e.after().hasUnavailable())) {
            return events;
        }
        Map<List<Object>, Row> lake = lookUp(bronzeId, events);
        Map<List<Object>, Row> known = new HashMap<>();
        Set<List<Object>> gone = new HashSet<>();
        boolean truncated = false;
        List<ChangeEvent> out = new ArrayList<>(events.size());
        ChangeEvent previous = null;
        Row previousDeleted = null;
        for (ChangeEvent e : events) {
            ChangeEvent resolved = e;
            switch (e.operation()) {
                case TRUNCATE -> {
                    known.clear();
                    gone.clear();
                    truncated = true;
                }
                case DELETE -> {
                    List<Object> key = e.schema().keyOf(e.before());
                    previousDeleted = merge(e.before(), imageOf(key, known, gone, truncated, lake));
                    known.remove(key);
                    gone.add(key);
                }
                case READ, CREATE, UPDATE -> {
                    List<Object> key = e.schema().keyOf(e.after());
                    if (e.after().hasUnavailable() && !e.schema().hasKey()) {
                        // Keyed by the whole row (REPLICA IDENTITY FULL): only its own before image is the same row.
                        resolved = withAfter(e, fill(e, e.before()));
                    } else if (e.after().hasUnavailable()) {
                        Row from = e.operation() == ChangeOperation.UPDATE
                                ? merge(e.before(), imageOf(key, known, gone, truncated, lake))
                                : movedFrom(previous, e) ? previousDeleted : null;
                        resolved = withAfter(e, fill(e, from));
                    }
                    known.put(key, resolved.after());
                    gone.remove(key);
                }
            }
            out.add(resolved);
            previous = e;
        }
        return out;
    }

    /** Whether {@code e} is the new-key half of a key change whose old-key DELETE is {@code previous}. */
    private static boolean movedFrom(ChangeEvent previous, ChangeEvent e) {
        return previous != null && previous.operation() == ChangeOperation.DELETE && previous.schema().table().equals(e.schema().table())
                && previous.position().commitKey().equals(e.position().commitKey())
                && previous.position().eventIndex() + 1 == e.position().eventIndex();
    }

    private static Row imageOf(List<Object> key, Map<List<Object>, Row> known, Set<List<Object>> gone, boolean truncated, Map<List<Object>, Row> lake) {
        Row row = known.get(key);
        if (row != null || gone.contains(key) || truncated) {
            return row;
        }
        return lake.get(key);
    }

    /** The non-null values of {@code first} (a before image: under REPLICA IDENTITY DEFAULT only its key is set), else those of {@code second}. */
    private static Row merge(Row first, Row second) {
        if (first == null) {
            return second;
        }
        if (second == null) {
            return first;
        }
        Row out = first;
        for (int i = 0; i < first.size() && i < second.size(); i++) {
            if (first.get(i) == null || !first.isAvailable(i)) {
                out = out.with(i, second.get(i));
            }
        }
        return out;
    }

    private static Row fill(ChangeEvent e, Row from) {
        Row after = e.after();
        for (int i = 0; i < after.size(); i++) {
            if (!after.isAvailable(i)) {
                Object value = from == null || i >= from.size() ? null : from.get(i);
                if (value == null || value == Row.UNAVAILABLE) {
                    Column column = e.schema().columns().get(i);
                    throw new TributaryException(ErrorCode.CONVERSION_FAILED, "Cannot resolve the unchanged TOASTed value of column " + column.name()
                            + " of " + e.schema().table() + " at position " + e.position()
                            + ": the source did not send it and no earlier version of the row is in the micro-batch or in bronze. "
                            + "Set REPLICA IDENTITY FULL on the table so updates carry the previous row, then snapshot the table again");
                }
                after = after.with(i, value);
            }
        }
        return after;
    }

    private static ChangeEvent withAfter(ChangeEvent e, Row after) {
        return new ChangeEvent(e.operation(), e.schema(), e.before(), after, e.position(), e.transactionId(), e.commitTimestamp(), e.rawRecord());
    }

    /**
     * The latest bronze image before the micro-batch of every key whose previous image may be
     * needed: keys of updates with unavailable values, and old keys of key changes.
     */
    private Map<List<Object>, Row> lookUp(TableIdentifier bronzeId, List<ChangeEvent> events) {
        Map<List<Object>, TableSchema> wanted = new HashMap<>();
        ChangeEvent previous = null;
        for (ChangeEvent e : events) {
            if (e.after() != null && e.after().hasUnavailable()) {
                if (e.operation() == ChangeOperation.UPDATE) {
                    wanted.put(e.schema().keyOf(e.after()), e.schema());
                } else if (movedFrom(previous, e)) {
                    wanted.put(previous.schema().keyOf(previous.before()), previous.schema());
                }
            }
            previous = e;
        }
        Optional<Table> loaded = catalog.load(bronzeId);
        if (wanted.isEmpty() || loaded.isEmpty()) {
            return Map.of();
        }
        Table table = loaded.get();
        TableSchema schema = events.get(events.size() - 1).schema();
        List<String> keyNames = schema.keyColumns().stream().map(TableNames::snakeCase).toList();
        if (keyNames.isEmpty() || keyNames.stream().anyMatch(n -> table.schema().findField(n) == null)) {
            return Map.of();
        }
        String before = events.get(0).position().encoded();
        Expression filter = Expressions.lessThan("_position", before);
        if (keyNames.size() == 1 && wanted.size() <= 1000 && wanted.keySet().stream().allMatch(k -> literal(k.get(0)))) {
            filter = Expressions.and(filter, Expressions.in(keyNames.get(0), wanted.keySet().stream().map(k -> k.get(0)).toArray()));
        }
        Map<List<Object>, Record> latest = new HashMap<>();
        try (CloseableIterable<Record> rows = LiveRows.of(table, filter)) {
            for (Record r : rows) {
                List<Object> key = new ArrayList<>(keyNames.size());
                for (String name : keyNames) {
                    key.add(fromIceberg(r.getField(name)));
                }
                if (!wanted.containsKey(key) || ((String) r.getField("_position")).compareTo(before) >= 0) {
                    continue;
                }
                Record seen = latest.get(key);
                if (seen == null || ((String) r.getField("_position")).compareTo((String) seen.getField("_position")) > 0) {
                    latest.put(key, r);
                }
            }
        } catch (IOException e) {
            throw new TributaryException(ErrorCode.LAKE_IO_FAILED, "Cannot read " + bronzeId + " for the previous values of unchanged TOASTed columns: " + e.getMessage(), e);
        }
        Map<List<Object>, Row> out = new HashMap<>();
        latest.forEach((key, r) -> {
            if (!"d".equals(r.getField("_op"))) {
                out.put(key, row(wanted.get(key), table.schema(), r));
            }
        });
        return out;
    }

    /**
     * Whether a key value may filter the read of bronze. Not a UUID: Iceberg (1.12) compares UUID
     * literals as Java's {@code UUID.compareTo} does, signed, while data file bounds are in the
     * spec's unsigned byte order (apache/iceberg#14216), so a file holding keys {@code 00…} and
     * {@code ff…} is wrongly pruned.
     */
    private static boolean literal(Object value) {
        return value instanceof Integer || value instanceof Long || value instanceof String || value instanceof java.math.BigDecimal
                || value instanceof Boolean;
    }

    private static Row row(TableSchema schema, org.apache.iceberg.Schema tableSchema, Record r) {
        Object[] values = new Object[schema.columns().size()];
        for (int i = 0; i < values.length; i++) {
            Types.NestedField field = tableSchema.findField(TableNames.snakeCase(schema.columns().get(i).name()));
            values[i] = field == null ? null : fromIceberg(r.getField(field.name()));
        }
        return Row.of(values);
    }

    /** An Iceberg generic value as a {@link Row} holds it (bytes as arrays; lists element by element). */
    private static Object fromIceberg(Object value) {
        if (value instanceof ByteBuffer b) {
            byte[] out = new byte[b.remaining()];
            b.duplicate().get(out);
            return out;
        }
        if (value instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object element : list) {
                out.add(fromIceberg(element));
            }
            return out;
        }
        return value;
    }
}
