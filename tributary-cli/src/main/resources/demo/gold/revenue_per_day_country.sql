-- Revenue per day and country, from orders that were not cancelled.
SELECT CAST(o.ordered_at AS DATE) AS day,
       c.country,
       count(DISTINCT o.id) AS orders,
       sum(i.quantity * i.unit_price) AS revenue
FROM silver.orders o
JOIN silver.customers c ON c.id = o.customer_id
JOIN silver.order_items i ON i.order_id = o.id
WHERE o.status <> 'cancelled'
GROUP BY 1, 2
