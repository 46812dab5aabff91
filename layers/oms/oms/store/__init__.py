"""The single table: keys (keys.py), reads and conditional writes (table.py), paging (pagination.py)."""
