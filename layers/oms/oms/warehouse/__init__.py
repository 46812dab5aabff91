"""The seller's warehouse, below every capability: its address, calendar, carriers and cutoffs (settings)
and the ship-by rules that turn Amazon's promise into the warehouse's deadline (ship_by)."""
