"""Planning: demand history per SKU and day, forecasts chosen per SKU by a backtest on its own history.

Pure Python (no numpy, no I/O besides reading text): the `oms forecast` command runs it on a CSV today,
and a Lambda function will run the same code on the orders kept here.
"""
