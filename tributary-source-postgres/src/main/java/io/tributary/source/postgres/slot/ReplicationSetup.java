package io.tributary.source.postgres.slot;

import io.tributary.config.PostgresSourceConfig;
import io.tributary.spi.ErrorCode;
import io.tributary.source.postgres.Lsn;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks that a PostgreSQL server can be captured and prepares it: {@code wal_level = logical}
 * (PostgreSQL "Write Ahead Log" settings, section 20.5.1), a role with the REPLICATION attribute,
 * the configured tables exist and identify their rows (a primary key or a replica identity, see
 * {@link ReplicaIdentities}), and the publication exists and covers them
 * (created if absent: PostgreSQL "CREATE PUBLICATION"). The replication slot itself is created by
 * Debezium on first start, so its exported snapshot backs the initial snapshot.
 */
public final class ReplicationSetup {
    private static final Logger LOG = LoggerFactory.getLogger(ReplicationSetup.class);

    private final PostgresConnector connector;
    private final PostgresSourceConfig config;

    public ReplicationSetup(PostgresConnector connector) {
        this.connector = connector;
        this.config = connector.config();
    }

    /**
     * What the checks found: the captured tables with their estimated row counts, the key columns
     * of tables identified by a replica identity index rather than their primary key, and the
     * tables whose deletes carry only their identity columns (not REPLICA IDENTITY FULL).
     */
    public record Prepared(Map<TableId, Long> estimatedRows, Map<TableId, List<String>> identityKeys, Set<TableId> keyOnlyIdentity) {
        public Prepared(Map<TableId, Long> estimatedRows) {
            this(estimatedRows, Map.of(), Set.of());
        }

        public List<TableId> tables() {
            return List.copyOf(estimatedRows.keySet());
        }
    }

    /**
     * @throws TributaryException naming the cause and the fix for each failed check
     */
    public Prepared prepare() {
        try (Connection c = connector.open()) {
            checkWalLevel(c);
            checkRole(c);
            List<TableId> tables = config.tables().isEmpty() ? publishedTables(c) : config.tables();
            if (config.tables().isEmpty() && tables.isEmpty() && !publicationExists(c)) {
                tables = allUserTables(c);
            }
            checkTablesExist(c, tables);
            ReplicaIdentities.Found identities = ReplicaIdentities.check(c, tables, config.database());
            ensurePublication(c, tables);
            Map<TableId, Long> estimates = new LinkedHashMap<>();
            for (TableId t : tables) {
                estimates.put(t, estimate(c, t));
            }
            return new Prepared(estimates, identities.indexKeys(), identities.keyOnly());
        } catch (SQLException e) {
            throw connector.translate(e);
        }
    }

    /** The server's current WAL insert position ({@code pg_current_wal_lsn()}). */
    public Lsn currentWalLsn() {
        try (Connection c = connector.open(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return Lsn.parse(rs.getString(1));
        } catch (SQLException e) {
            throw connector.translate(e);
        }
    }

    /**
     * Drops the pipeline's replication slot if it exists and no connection uses it. Used before an
     * initial snapshot that starts over: Debezium then creates the slot again and reads the snapshot
     * from the slot's exported snapshot (PostgreSQL "Replication Slots and Exported Snapshots"), so
     * the snapshot and the stream meet exactly. On an existing slot, the snapshot would be taken at
     * a later, unrelated moment and overlap the stream.
     *
     * @return whether a slot was dropped
     */
    public boolean dropInactiveSlot() {
        try (Connection c = connector.open();
             PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ? AND NOT active")) {
            ps.setString(1, config.slotName());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw connector.translate(e);
        }
    }

    /** The PID of the server process that streams from the replication slot now, empty when no connection uses it. */
    public java.util.OptionalInt slotActivePid() {
        try (Connection c = connector.open();
             PreparedStatement ps = c.prepareStatement("SELECT active_pid FROM pg_replication_slots WHERE slot_name = ? AND active")) {
            ps.setString(1, config.slotName());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? java.util.OptionalInt.of(rs.getInt(1)) : java.util.OptionalInt.empty();
            }
        } catch (SQLException e) {
            throw connector.translate(e);
        }
    }

    /** The replication slot's state, if the slot exists. */
    public Optional<SlotState> slot() {
        try (Connection c = connector.open();
             PreparedStatement ps = c.prepareStatement(
                     "SELECT confirmed_flush_lsn::text, restart_lsn::text, active, wal_status FROM pg_replication_slots WHERE slot_name = ?")) {
            ps.setString(1, config.slotName());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new SlotState(
                        Optional.ofNullable(rs.getString(1)).map(Lsn::parse),
                        Optional.ofNullable(rs.getString(2)).map(Lsn::parse),
                        rs.getBoolean(3),
                        Optional.ofNullable(rs.getString(4)).orElse("unknown")));
            }
        } catch (SQLException e) {
            throw connector.translate(e);
        }
    }

    /**
     * Checks that the replication slot still holds every change after {@code lakeLsn}, the commit
     * LSN of the lake's watermark, before streaming resumes from it. The slot must exist, must not
     * be invalidated ({@code wal_status = 'lost'} or no {@code restart_lsn}: PostgreSQL
     * "pg_replication_slots", section 54.19) and must not be confirmed past the lake: the pipeline
     * acknowledges only what the lake committed, so a slot ahead of it was dropped and created again,
     * or advanced by someone else, and the changes in between are gone.
     *
     * @throws TributaryException SLOT_GAP naming the slot, both positions and the way out
     */
    public void checkSlotContinuity(Lsn lakeLsn, PreviousSession previous) {
        String resnapshot = ". Nothing after " + lakeLsn + " can be captured from it any more: run `tributary resnapshot -c <pipeline.yaml>`, "
                + "then `tributary run`, to take a new initial snapshot that replaces silver (bronze keeps its history)";
        Optional<SlotState> slot = slot();
        if (slot.isEmpty()) {
            throw new TributaryException(ErrorCode.SLOT_GAP, "Cannot resume capture through replication slot " + config.slotName()
                    + ": the slot does not exist, but the lake has committed through " + lakeLsn + " from it" + resnapshot);
        }
        SlotState s = slot.get();
        if (s.walStatus().equals("lost") || s.restartLsn().isEmpty()) {
            throw new TributaryException(ErrorCode.SLOT_GAP, "Cannot resume capture through replication slot " + config.slotName()
                    + ": the slot was invalidated (wal_status " + s.walStatus() + ", restart_lsn " + s.restartLsn().map(Lsn::toString).orElse("null")
                    + "; the lake has committed through " + lakeLsn + "), PostgreSQL removed WAL it still needed, e.g. past max_slot_wal_keep_size"
                    + resnapshot);
        }
        Optional<Lsn> confirmed = s.confirmedFlushLsn();
        if (confirmed.isPresent() && lakeLsn.isBefore(confirmed.get()) && previous == PreviousSession.ENDED_ABRUPTLY) {
            // pgjdbc confirms a keepalive's position on its own once every message it received was
            // acknowledged, and the walsender reports a position in a keepalive only once it has sent
            // every transaction committed before it: a session that died between that and the lake's
            // next watermark leaves the slot ahead with no captured change in between.
            LOG.warn("Replication slot {} is confirmed through {}, ahead of the lake's {}: the previous run ended abruptly after the driver confirmed "
                    + "a keepalive position, past which PostgreSQL had no change of the publication to send. Resuming from the slot. If the slot was "
                    + "dropped and created again while the pipeline was down, stop and run `tributary resnapshot -c <pipeline.yaml>`",
                    config.slotName(), confirmed.get(), lakeLsn);
            return;
        }
        if (confirmed.isPresent() && lakeLsn.isBefore(confirmed.get())) {
            throw new TributaryException(ErrorCode.SLOT_GAP, "Cannot resume capture through replication slot " + config.slotName()
                    + ": the slot is confirmed through " + confirmed.get() + " (restart_lsn " + s.restartLsn().get() + "), ahead of the lake's "
                    + lakeLsn + "; it was dropped and created again or advanced while the pipeline was down" + resnapshot);
        }
    }

    /** How the session that last captured through the slot ended, as the lake saw it. */
    public enum PreviousSession {
        /** Stopped cleanly (its last position is in the lake), or there was none. */
        STOPPED_CLEANLY,
        /** Died or lost its connection: the driver may have confirmed keepalive positions the lake never recorded. */
        ENDED_ABRUPTLY
    }

    /** A replication slot as {@code pg_replication_slots} shows it. */
    public record SlotState(Optional<Lsn> confirmedFlushLsn, Optional<Lsn> restartLsn, boolean active, String walStatus) {
    }

    private void checkWalLevel(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW wal_level")) {
            rs.next();
            String level = rs.getString(1);
            if (!level.equals("logical")) {
                throw new TributaryException(ErrorCode.SOURCE_MISCONFIGURED,
                        "Cannot capture changes from database " + config.database() + ": wal_level is '" + level
                                + "', logical decoding needs 'logical'. Run ALTER SYSTEM SET wal_level = logical; and restart PostgreSQL");
            }
        }
    }

    private void checkRole(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user")) {
            if (rs.next()) {
                boolean replication = rs.getBoolean(1);
                boolean superuser = rs.getBoolean(2);
                if (!replication && !superuser) {
                    throw new TributaryException(ErrorCode.SOURCE_MISCONFIGURED,
                            "Cannot capture changes as user " + config.user() + ": the role lacks the REPLICATION attribute. Run ALTER ROLE "
                                    + config.user() + " WITH REPLICATION; and grant it SELECT on the captured tables");
                }
                if (superuser) {
                    LOG.warn("Capturing as superuser {}: use a role with only REPLICATION and SELECT on the captured tables (see README, 'Least privilege')", config.user());
                }
            }
        }
    }

    private boolean publicationExists(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
            ps.setString(1, config.publicationName());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        }
    }

    private List<TableId> publishedTables(Connection c) throws SQLException {
        List<TableId> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = ? ORDER BY 1, 2")) {
            ps.setString(1, config.publicationName());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new TableId(rs.getString(1), rs.getString(2)));
                }
            }
        }
        return out;
    }

    private static List<TableId> allUserTables(Connection c) throws SQLException {
        List<TableId> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                        + "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                        + "AND n.nspname NOT LIKE 'pg_toast%' ORDER BY 1, 2")) {
            while (rs.next()) {
                out.add(new TableId(rs.getString(1), rs.getString(2)));
            }
        }
        return out;
    }

    private void checkTablesExist(Connection c, List<TableId> tables) throws SQLException {
        List<TableId> existing = allUserTables(c);
        List<TableId> missing = tables.stream().filter(t -> !existing.contains(t)).toList();
        if (!missing.isEmpty()) {
            throw new TributaryException(ErrorCode.TABLE_NOT_FOUND,
                    "Cannot capture " + missing.stream().map(TableId::toString).collect(Collectors.joining(", ")) + " in database " + config.database()
                            + ": no such table. Check source.tables (names are schema.table, case-sensitive)");
        }
        if (tables.isEmpty()) {
            throw new TributaryException(ErrorCode.TABLE_NOT_FOUND,
                    "Cannot capture database " + config.database() + ": there are no tables to capture. Create tables or list them in source.tables");
        }
    }

    private void ensurePublication(Connection c, List<TableId> tables) throws SQLException {
        String tableList = tables.stream().map(ReplicationSetup::quoted).collect(Collectors.joining(", "));
        if (!publicationExists(c)) {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE PUBLICATION " + quoteIdent(config.publicationName()) + " FOR TABLE " + tableList);
                LOG.info("Created publication {} for {} table(s)", config.publicationName(), tables.size());
            } catch (SQLException e) {
                throw new TributaryException(ErrorCode.SOURCE_MISCONFIGURED,
                        "Cannot create publication " + config.publicationName() + ": " + e.getMessage()
                                + ". Have the tables' owner run CREATE PUBLICATION " + config.publicationName() + " FOR TABLE " + tableList, e);
            }
            return;
        }
        List<TableId> published = publishedTables(c);
        List<TableId> missing = tables.stream().filter(t -> !published.contains(t)).toList();
        if (!missing.isEmpty()) {
            String add = missing.stream().map(ReplicationSetup::quoted).collect(Collectors.joining(", "));
            try (Statement s = c.createStatement()) {
                s.execute("ALTER PUBLICATION " + quoteIdent(config.publicationName()) + " ADD TABLE " + add);
                LOG.info("Added {} to publication {}", missing, config.publicationName());
            } catch (SQLException e) {
                throw new TributaryException(ErrorCode.SOURCE_MISCONFIGURED,
                        "Cannot add " + missing + " to publication " + config.publicationName() + ": " + e.getMessage()
                                + ". Have the tables' owner run ALTER PUBLICATION " + config.publicationName() + " ADD TABLE " + add, e);
            }
        }
    }

    private static long estimate(Connection c, TableId t) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                // reltuples is -1 until the table is first analyzed; then estimate from its size.
                "SELECT CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint "
                        + "ELSE (pg_relation_size(c.oid) / GREATEST(8, (SELECT coalesce(sum(avg_width), 64) FROM pg_stats s WHERE s.schemaname = n.nspname AND s.tablename = c.relname) + 28))::bigint END "
                        + "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relname = ?")) {
            ps.setString(1, t.schema());
            ps.setString(2, t.name());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    /**
     * What stands in the way of snapshotting {@code tables} on their own while streaming (an
     * incremental snapshot, which reads a table in chunks by primary key and takes its windows from
     * {@code pg_current_snapshot()}): one reason per table, empty when nothing does.
     */
    public Map<TableId, String> incrementalSnapshotObstacles(List<TableId> tables) {
        Map<TableId, String> obstacles = new LinkedHashMap<>();
        try (Connection c = connector.open()) {
            int version = serverVersion(c);
            try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
                    + "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE i.indisprimary AND n.nspname = ? AND t.relname = ?)")) {
                for (TableId t : tables) {
                    if (version < 130000) {
                        obstacles.put(t, "snapshotting a table while streaming needs PostgreSQL 13 or later (pg_current_snapshot), the server runs " + version);
                        continue;
                    }
                    ps.setString(1, t.schema());
                    ps.setString(2, t.name());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next() || !rs.getBoolean(1)) {
                            obstacles.put(t, "it has no primary key, which snapshotting a table while streaming reads it in chunks by");
                        }
                    }
                }
            }
            return obstacles;
        } catch (SQLException e) {
            throw connector.translate(e);
        }
    }

    private static int serverVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW server_version_num")) {
            rs.next();
            return Integer.parseInt(rs.getString(1).trim());
        }
    }

    /** Whether the table holds no row now. */
    public boolean isEmpty(TableId table) {
        try (Connection c = connector.open(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT NOT EXISTS (SELECT 1 FROM " + quoted(table) + ")")) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException e) {
            throw connector.translate(e);
        }
    }

    static String quoted(TableId t) {
        return quoteIdent(t.schema()) + "." + quoteIdent(t.name());
    }

    static String quoteIdent(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }
}
