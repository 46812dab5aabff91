"""The local stack, the marketplace simulator and the `oms` CLI. Never shipped to Lambda."""
