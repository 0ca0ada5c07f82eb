package io.tributary.source.postgres.slot;

import io.tributary.spi.ErrorCode;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Decides how the rows of each captured table are identified, from its primary key and its replica
 * identity (PostgreSQL "ALTER TABLE ... REPLICA IDENTITY"; {@code pg_class.relreplident}): the
 * primary key (DEFAULT or FULL), the columns of the replica identity index (USING INDEX), or the
 * whole row (FULL without a primary key). A table with neither (DEFAULT without a primary key, or
 * NOTHING) sends no old row with its updates and deletes, so it cannot be captured.
 */
final class ReplicaIdentities {
    private ReplicaIdentities() {
    }

    /**
     * What the check found.
     *
     * @param indexKeys the key columns of every table identified by a replica identity index, in index order
     * @param keyOnly   the tables whose old row images (of deletes and key changes) carry only their
     *                  identity columns: REPLICA IDENTITY DEFAULT or USING INDEX, as opposed to FULL
     */
    record Found(Map<TableId, List<String>> indexKeys, Set<TableId> keyOnly) {
    }

    /**
     * @throws TributaryException NO_PRIMARY_KEY naming every table without a usable identity and the fix
     */
    static Found check(Connection c, List<TableId> tables, String database) throws SQLException {
        Map<TableId, List<String>> indexKeys = new LinkedHashMap<>();
        Set<TableId> keyOnly = new LinkedHashSet<>();
        List<TableId> unusable = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT c.relreplident::text, EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), "
                        + "(SELECT array_agg(a.attname::text ORDER BY k.ord) FROM pg_index i "
                        + "CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
                        + "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                        + "WHERE i.indrelid = c.oid AND i.indisreplident) "
                        + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")) {
            for (TableId t : tables) {
                ps.setString(1, t.schema());
                ps.setString(2, t.name());
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        continue;
                    }
                    String identity = rs.getString(1);
                    boolean primaryKey = rs.getBoolean(2);
                    Array index = rs.getArray(3);
                    switch (identity) {
                        case "n" -> unusable.add(t);
                        case "d" -> {
                            if (!primaryKey) {
                                unusable.add(t);
                            }
                            keyOnly.add(t);
                        }
                        case "i" -> {
                            if (index == null) {
                                unusable.add(t);
                            } else {
                                indexKeys.put(t, List.of((String[]) index.getArray()));
                                keyOnly.add(t);
                            }
                        }
                        default -> {
                            // 'f': the primary key if there is one, else the whole row
                        }
                    }
                }
            }
        }
        if (!unusable.isEmpty()) {
            throw new TributaryException(ErrorCode.NO_PRIMARY_KEY,
                    "Cannot capture " + unusable.stream().map(TableId::toString).collect(Collectors.joining(", ")) + " in database " + database
                            + ": no primary key and no usable replica identity, so updates and deletes cannot name the row they change. "
                            + "Add a primary key, or run "
                            + unusable.stream().map(t -> "ALTER TABLE " + ReplicationSetup.quoted(t) + " REPLICA IDENTITY FULL;").collect(Collectors.joining(" "))
                            + " (or REPLICA IDENTITY USING INDEX on a unique index of NOT NULL columns), or leave the table out of source.tables");
        }
        return new Found(indexKeys, keyOnly);
    }
}
