-- What each customer has spent, and when they first and last ordered.
SELECT c.id AS customer_id,
       c.name,
       c.country,
       count(DISTINCT o.id) AS orders,
       coalesce(sum(i.quantity * i.unit_price), 0) AS lifetime_value,
       min(o.ordered_at) AS first_order,
       max(o.ordered_at) AS last_order
FROM silver.customers c
LEFT JOIN silver.orders o ON o.customer_id = c.id AND o.status <> 'cancelled'
LEFT JOIN silver.order_items i ON i.order_id = o.id
GROUP BY 1, 2, 3
