"""Tests of the CDK app: synthesized once per session (conftest), then read."""
