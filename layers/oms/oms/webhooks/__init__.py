"""Webhooks out: the seller's subscriptions to domain events, and their signed, retried deliveries."""
