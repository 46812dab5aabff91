"""Returns: recording a return of shipped units, receiving and grading it (stock back on hand or written
off, in one transaction with the return), and finding returns (by status, SKU, time)."""
