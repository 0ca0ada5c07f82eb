package io.tributary.lake.layout;

import io.tributary.config.LakeConfig;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TableId;
import io.tributary.spi.TributaryException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Lake naming rules. A source table {@code public.orders} is {@code orders} in every layer; a table
 * of another schema, {@code sales.orders}, is {@code sales_orders}, so names never clash across
 * schemas. Column names become snake_case ({@code CustomerID} becomes {@code customer_id}).
 */
public final class TableNames {
    /** The suffix of a history table's name: {@code silver.<table>_history}. */
    public static final String HISTORY_SUFFIX = "_history";

    private TableNames() {
    }

    /**
     * Checks that the lake names of {@code tables} do not clash: no two source tables share a lake
     * name and, with the history layer, no source table is named like another's history table
     * ({@code orders_history} beside {@code orders}, as {@code silver.orders_history} holds the
     * history of {@code orders}).
     *
     * @throws TributaryException INVALID_CONFIG naming both source tables and the lake table they both need
     */
    public static void requireDistinct(Collection<TableId> tables, LakeConfig.HistoryLayer history) {
        Map<String, TableId> byName = new HashMap<>();
        for (TableId table : tables) {
            TableId other = byName.putIfAbsent(lakeName(table), table);
            if (other != null && !other.equals(table)) {
                throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot capture both " + other + " and " + table
                        + ": both would be the lake table " + lakeName(table) + ". Capture only one of them");
            }
        }
        if (history == LakeConfig.HistoryLayer.ENABLED) {
            for (TableId table : tables) {
                TableId clash = byName.get(lakeName(table) + HISTORY_SUFFIX);
                if (clash != null) {
                    throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot capture both " + table + " and " + clash + ": silver."
                            + lakeName(clash) + " would be both the silver table of " + clash + " and the history table of " + table
                            + ". Capture only one of them, or set lake.history: disabled");
                }
            }
        }
    }

    public static String lakeName(TableId table) {
        String base = table.schema().equals("public") ? table.name() : table.schema() + "_" + table.name();
        return snakeCase(base);
    }

    /**
     * {@code CustomerID} to {@code customer_id}, {@code invoiceNo} to {@code invoice_no}, spaces and
     * dashes to '_'. Leading underscores go, except for the lineage columns a source adds
     * ({@link io.tributary.spi.Column#LINEAGE_PREFIX}, e.g. {@code _source_file}), which keep theirs
     * like the lake's own {@code _op} and {@code _position}.
     */
    public static String snakeCase(String name) {
        if (name.startsWith(io.tributary.spi.Column.LINEAGE_PREFIX)) {
            return "_" + snakeCase(name.substring(1));
        }
        StringBuilder out = new StringBuilder(name.length() + 4);
        char[] c = name.toCharArray();
        for (int i = 0; i < c.length; i++) {
            char ch = c[i];
            if (Character.isUpperCase(ch)) {
                boolean prevLower = i > 0 && (Character.isLowerCase(c[i - 1]) || Character.isDigit(c[i - 1]));
                boolean nextLower = i + 1 < c.length && Character.isLowerCase(c[i + 1]);
                boolean prevUpper = i > 0 && Character.isUpperCase(c[i - 1]);
                if (i > 0 && (prevLower || (prevUpper && nextLower)) && out.length() > 0 && out.charAt(out.length() - 1) != '_') {
                    out.append('_');
                }
                out.append(Character.toLowerCase(ch));
            } else if (Character.isLetterOrDigit(ch)) {
                out.append(Character.toLowerCase(ch));
            } else if (out.length() > 0 && out.charAt(out.length() - 1) != '_') {
                out.append('_');
            }
        }
        String result = out.toString().toLowerCase(Locale.ROOT);
        return result.isEmpty() ? "_" : result;
    }
}
