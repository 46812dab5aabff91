"""The HTTP API: one Powertools resolver, one Router per resource, one place for error answers."""
