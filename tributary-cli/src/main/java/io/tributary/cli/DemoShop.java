package io.tributary.cli;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;

/**
 * The demo's online shop: schema, a generated starting data set, and a workload of inserts,
 * updates and deletes. Everything is generated; nothing is read from outside.
 */
final class DemoShop {
    private static final String[] COUNTRIES = {"United Kingdom", "France", "Germany", "Spain", "Netherlands", "Norway", "Portugal", "Italy", "Japan", "Australia"};
    private static final String[] STATUSES = {"placed", "paid", "shipped", "delivered"};

    private final Random random;
    private long nextOrder;

    DemoShop(long seed) {
        this.random = new Random(seed);
    }

    /** Creates the schema and starting data unless the tables exist; returns whether it created them. */
    boolean create(Connection c, int customers, int products, int orders) throws SQLException {
        try (Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT to_regclass('public.orders') IS NOT NULL")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return false;
                }
            }
            s.execute("SELECT setseed(0.42)");
            s.execute("CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, email text, country text NOT NULL, created_at timestamptz NOT NULL)");
            s.execute("CREATE TABLE products (id integer PRIMARY KEY, name text NOT NULL, category text NOT NULL, price numeric(10,2) NOT NULL)");
            s.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL, ordered_at timestamptz NOT NULL)");
            s.execute("CREATE TABLE order_items (order_id bigint NOT NULL, line_no integer NOT NULL, product_id integer NOT NULL, quantity integer NOT NULL, "
                    + "unit_price numeric(10,2) NOT NULL, PRIMARY KEY (order_id, line_no))");
            s.execute("INSERT INTO customers SELECT g, 'Customer ' || g, 'customer' || g || '@example.com', (ARRAY['"
                    + String.join("','", COUNTRIES) + "'])[1 + (g % " + COUNTRIES.length + ")], now() - (g || ' hours')::interval FROM generate_series(1, " + customers + ") g");
            s.execute("INSERT INTO products SELECT g, 'Product ' || g, (ARRAY['home','garden','kitchen','toys','gifts'])[1 + (g % 5)], "
                    + "round((1 + random() * 99)::numeric, 2) FROM generate_series(1, " + products + ") g");
            s.execute("INSERT INTO orders SELECT g, 1 + floor(random() * " + customers + ")::int, (ARRAY['placed','paid','shipped','delivered'])[1 + (g % 4)], "
                    + "now() - ((g % 30) || ' days')::interval - ((g % 24) || ' hours')::interval FROM generate_series(1, " + orders + ") g");
            s.execute("INSERT INTO order_items SELECT o.id, l, 1 + floor(random() * " + products + ")::int, 1 + floor(random() * 5)::int, 0 "
                    + "FROM orders o, generate_series(1, 1 + (o.id % 3)::int) l");
            s.execute("UPDATE order_items i SET unit_price = p.price FROM products p WHERE p.id = i.product_id");
        }
        return true;
    }

    /** One random business change, in its own transaction. */
    void change(Connection c) throws SQLException {
        if (nextOrder == 0) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT coalesce(max(id), 0) + 1 FROM orders")) {
                rs.next();
                nextOrder = rs.getLong(1);
            }
        }
        int dice = random.nextInt(100);
        c.setAutoCommit(false);
        try {
            if (dice < 50) {
                long id = nextOrder++;
                try (PreparedStatement o = c.prepareStatement("INSERT INTO orders VALUES (?, (SELECT id FROM customers ORDER BY random() LIMIT 1), 'placed', now())");
                     PreparedStatement i = c.prepareStatement("INSERT INTO order_items SELECT ?, ?, p.id, ?, p.price FROM products p ORDER BY random() LIMIT 1")) {
                    o.setLong(1, id);
                    o.executeUpdate();
                    int lines = 1 + random.nextInt(4);
                    for (int l = 1; l <= lines; l++) {
                        i.setLong(1, id);
                        i.setInt(2, l);
                        i.setInt(3, 1 + random.nextInt(5));
                        i.executeUpdate();
                    }
                }
            } else if (dice < 80) {
                try (PreparedStatement p = c.prepareStatement("UPDATE orders SET status = ? WHERE id = (SELECT id FROM orders ORDER BY random() LIMIT 1)")) {
                    p.setString(1, STATUSES[random.nextInt(STATUSES.length)]);
                    p.executeUpdate();
                }
            } else if (dice < 88) {
                try (PreparedStatement p = c.prepareStatement("UPDATE products SET price = round(price * ?, 2) WHERE id = (SELECT id FROM products ORDER BY random() LIMIT 1)")) {
                    p.setBigDecimal(1, new java.math.BigDecimal(0.9 + random.nextDouble() * 0.2).setScale(3, java.math.RoundingMode.HALF_UP));
                    p.executeUpdate();
                }
            } else if (dice < 93) {
                try (Statement s = c.createStatement()) {
                    s.execute("UPDATE orders SET status = 'cancelled' WHERE id = (SELECT id FROM orders WHERE status = 'placed' ORDER BY random() LIMIT 1)");
                }
            } else if (dice < 97) {
                try (Statement s = c.createStatement()) {
                    s.execute("WITH victim AS (SELECT id FROM orders ORDER BY random() LIMIT 1), gone AS (DELETE FROM order_items WHERE order_id IN (SELECT id FROM victim)) "
                            + "DELETE FROM orders WHERE id IN (SELECT id FROM victim)");
                }
            } else {
                try (Statement s = c.createStatement()) {
                    s.execute("INSERT INTO customers SELECT max(id) + 1, 'Customer ' || (max(id) + 1), 'customer' || (max(id) + 1) || '@example.com', '"
                            + COUNTRIES[random.nextInt(COUNTRIES.length)] + "', now() FROM customers");
                }
            }
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
