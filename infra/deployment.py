"""How a deploy shifts new executions to a lifecycle's new state machine version (read from context by
``infra/stacks/config.py``, applied by ``infra/constructs/lifecycle_state_machine.py``)."""

from __future__ import annotations

from dataclasses import dataclass

# How a deploy moves each lifecycle's live alias to the version it publishes (the alarms of failed and
# timed-out executions roll it back): a tenth of new executions for ten minutes, then all.
DEPLOYMENT_TYPES = ("CANARY", "LINEAR", "ALL_AT_ONCE")
DEFAULT_DEPLOYMENT_TYPE = "CANARY"
DEFAULT_DEPLOYMENT_PERCENTAGE = 10
DEFAULT_DEPLOYMENT_INTERVAL_MINUTES = 10


@dataclass(frozen=True)
class StateMachineDeployment:
    """How a deploy shifts new executions to a lifecycle's new version (the alias's DeploymentPreference):
    CANARY (``percentage`` for ``interval_minutes``, then all), LINEAR (``percentage`` more every
    ``interval_minutes``) or ALL_AT_ONCE (watched by the alarms for ``interval_minutes``)."""

    type: str = DEFAULT_DEPLOYMENT_TYPE
    percentage: int = DEFAULT_DEPLOYMENT_PERCENTAGE
    interval_minutes: int = DEFAULT_DEPLOYMENT_INTERVAL_MINUTES

    def __post_init__(self) -> None:
        if self.type not in DEPLOYMENT_TYPES:
            raise ValueError(f"stateMachineDeployment must be one of {', '.join(DEPLOYMENT_TYPES)}, not {self.type!r}")
        if not 1 <= self.percentage <= 99:
            raise ValueError("stateMachineDeploymentPercentage is a share of new executions: 1 to 99")
        if not 1 <= self.interval_minutes <= 2100:
            raise ValueError("stateMachineDeploymentIntervalMinutes must be 1 to 2100 (CloudFormation's bounds)")
