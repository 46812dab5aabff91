"""Entities and pure rules. No I/O here: everything is testable without AWS."""
