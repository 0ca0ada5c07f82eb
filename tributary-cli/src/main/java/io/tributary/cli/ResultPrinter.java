package io.tributary.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tributary.query.QueryResult;
import io.tributary.spi.ErrorCode;
import io.tributary.spi.TributaryException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** Prints query results as an aligned table, CSV (RFC 4180) or JSON (an array of objects). */
final class ResultPrinter {
    enum Format { TABLE, CSV, JSON }

    private ResultPrinter() {
    }

    /**
     * @throws TributaryException INVALID_CONFIG for a name other than table, csv or json
     */
    static Format format(String name) {
        try {
            return Format.valueOf(name.toUpperCase(java.util.Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new TributaryException(ErrorCode.INVALID_CONFIG, "Cannot print results as '" + name + "': use table, csv or json");
        }
    }

    static void print(QueryResult result, Format format, PrintWriter out) {
        switch (format) {
            case TABLE -> table(result, out);
            case CSV -> csv(result, out);
            case JSON -> json(result, out);
        }
        out.flush();
    }

    static String text(Object v) {
        if (v == null) {
            return "NULL";
        }
        if (v instanceof byte[] b) {
            return "\\x" + java.util.HexFormat.of().formatHex(b);
        }
        return v.toString();
    }

    private static void table(QueryResult r, PrintWriter out) {
        int n = r.columns().size();
        int[] width = new int[n];
        for (int i = 0; i < n; i++) {
            width[i] = r.columns().get(i).length();
        }
        List<String[]> cells = new ArrayList<>();
        for (List<Object> row : r.rows()) {
            String[] c = new String[n];
            for (int i = 0; i < n; i++) {
                c[i] = text(row.get(i));
                width[i] = Math.max(width[i], c[i].length());
            }
            cells.add(c);
        }
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < n; i++) {
            line.append(i == 0 ? "" : " | ").append(pad(r.columns().get(i), width[i], false));
        }
        out.println(line);
        line.setLength(0);
        for (int i = 0; i < n; i++) {
            line.append(i == 0 ? "" : "-+-").append("-".repeat(width[i]));
        }
        out.println(line);
        for (String[] c : cells) {
            line.setLength(0);
            for (int i = 0; i < n; i++) {
                boolean numeric = r.rows().get(0).get(i) instanceof Number;
                line.append(i == 0 ? "" : " | ").append(pad(c[i], width[i], numeric));
            }
            out.println(line);
        }
        out.println("(" + r.rows().size() + (r.rows().size() == 1 ? " row)" : " rows)"));
    }

    private static String pad(String s, int width, boolean right) {
        String fill = " ".repeat(width - s.length());
        return right ? fill + s : s + fill;
    }

    private static void csv(QueryResult r, PrintWriter out) {
        out.println(String.join(",", r.columns().stream().map(ResultPrinter::csvField).toList()));
        for (List<Object> row : r.rows()) {
            List<String> fields = new ArrayList<>();
            for (Object v : row) {
                fields.add(v == null ? "" : csvField(text(v)));
            }
            out.println(String.join(",", fields));
        }
    }

    private static String csvField(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") || s.contains("\r") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    private static void json(QueryResult r, PrintWriter out) {
        ObjectMapper mapper = new ObjectMapper();
        ArrayNode array = mapper.createArrayNode();
        for (List<Object> row : r.rows()) {
            ObjectNode o = array.addObject();
            for (int i = 0; i < r.columns().size(); i++) {
                Object v = row.get(i);
                String name = r.columns().get(i);
                if (v == null) {
                    o.putNull(name);
                } else if (v instanceof Boolean b) {
                    o.put(name, b);
                } else if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
                    o.put(name, ((Number) v).longValue());
                } else if (v instanceof java.math.BigDecimal d) {
                    o.put(name, d);
                } else if (v instanceof java.math.BigInteger bi) {
                    o.put(name, bi);
                } else if (v instanceof Double || v instanceof Float) {
                    o.put(name, ((Number) v).doubleValue());
                } else {
                    o.put(name, text(v));
                }
            }
        }
        out.println(array.toPrettyString());
    }
}
