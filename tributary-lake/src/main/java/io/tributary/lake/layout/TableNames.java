package io.tributary.lake.layout;

import io.tributary.spi.TableId;
import java.util.Locale;

/**
 * Lake naming rules. A source table {@code public.orders} is {@code orders} in every layer; a table
 * of another schema, {@code sales.orders}, is {@code sales_orders}, so names never clash across
 * schemas. Column names become snake_case ({@code CustomerID} becomes {@code customer_id}).
 */
public final class TableNames {
    private TableNames() {
    }

    public static String lakeName(TableId table) {
        String base = table.schema().equals("public") ? table.name() : table.schema() + "_" + table.name();
        return snakeCase(base);
    }

    /** {@code CustomerID} to {@code customer_id}, {@code invoiceNo} to {@code invoice_no}, spaces and dashes to '_'. */
    public static String snakeCase(String name) {
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
