"""The shared core of the order-management stack: domain rules, the single-table store, Amazon.

Everything every Lambda function needs lives here and ships as the `oms` layer. Nothing in
this package knows whether it runs in AWS or in the local stack: only the environment differs.
"""
