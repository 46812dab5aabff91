"""Inventory: stock rows and their ledger, allocation of units to orders in serving order, cycle counts,
quantities pushed to Amazon (listings), FBA figures, the inventory sync and the catalogue."""
