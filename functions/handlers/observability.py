"""Powertools Logger and Tracer shared by the handlers (cheap to create; nothing is sent at import)."""

from aws_lambda_powertools import Logger, Tracer

logger = Logger(service="accu-workflows")
tracer = Tracer(service="accu-workflows")
