"""The platform's building blocks: each composes a few AWS resources around one purpose."""

from infra.constructs.alerts_topic import AlertsTopic
from infra.constructs.lifecycle_state_machine import LifecycleStateMachine, StateMachineArns
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.powertools_layer import PowertoolsLayer
from infra.constructs.workflow_api import WorkflowApi
from infra.constructs.workflow_tables import TableRef, WorkflowTables
from infra.constructs.workflow_user_pool import WorkflowUserPool

__all__ = [
    "AlertsTopic",
    "LifecycleStateMachine",
    "PlatformFunction",
    "PowertoolsLayer",
    "StateMachineArns",
    "TableRef",
    "WorkflowApi",
    "WorkflowTables",
    "WorkflowUserPool",
]
