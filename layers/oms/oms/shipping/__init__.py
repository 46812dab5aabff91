"""Shipping (seller-fulfilled): pick batches, paperwork (pick lists, packing slips, end-of-day forms),
labels, shipments and their confirmation to Amazon, the deadline guard, the end of day, account health."""
