"""The operator's tools and the `oms` CLI: they work on the running local stack or on a deployed one.

Never shipped to Lambda. They may use oms_local (the emulator) for `oms local`; oms_local never uses them.
"""
