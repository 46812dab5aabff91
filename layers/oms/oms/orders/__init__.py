"""Orders: intake of Amazon's order notifications, the backstop that reconciles with the Orders API,
and the order as the seller sees it (views)."""
