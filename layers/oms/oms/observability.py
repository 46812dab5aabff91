"""Logger, Metrics and Tracer: one instance each, shared by every module of a function."""

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# A run that counted nothing (an empty schedule run, a health check) is normal, not worth a warning.
warnings.filterwarnings("ignore", message="No application metrics to publish")

# Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE.
logger = Logger()
metrics = Metrics()
tracer = Tracer()
