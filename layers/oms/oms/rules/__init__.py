"""Order rules: the seller's rules kept, run once per order change they react to, and tried on past orders."""
