-- The products that sold most, by revenue.
SELECT p.id AS product_id,
       p.name,
       p.category,
       sum(i.quantity) AS units,
       sum(i.quantity * i.unit_price) AS revenue
FROM silver.order_items i
JOIN silver.products p ON p.id = i.product_id
JOIN silver.orders o ON o.id = i.order_id
WHERE o.status <> 'cancelled'
GROUP BY 1, 2, 3
ORDER BY revenue DESC
LIMIT 20
