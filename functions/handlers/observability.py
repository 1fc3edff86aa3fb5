"""Powertools Logger and Tracer shared by the handlers. Nothing is sent at import; the Tracer loads
the X-Ray SDK (which builds its sampling clients) even when tracing is off, a fixed part of every
cold start that `make bench` counts with the libraries."""

from aws_lambda_powertools import Logger, Tracer

logger = Logger(service="accu-workflows")
tracer = Tracer(service="accu-workflows")
