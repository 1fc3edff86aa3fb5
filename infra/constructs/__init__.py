"""The platform's building blocks: each composes a few AWS resources around one purpose."""

from infra.constructs.alert_recipients import AlertRecipients
from infra.constructs.dead_letter_queue import DeadLetterQueue
from infra.constructs.dead_letters_key import DeadLettersKey
from infra.constructs.documents_bucket import BucketRef, DocumentsBucket
from infra.constructs.email_topic import EmailTopic
from infra.constructs.lifecycle_state_machine import LifecycleStateMachine, StateMachineArns
from infra.constructs.operations_alarms import OperationsAlarms
from infra.constructs.operations_console import OperationsConsole
from infra.constructs.operations_dashboard import OperationsDashboard
from infra.constructs.platform_events import PlatformEvents
from infra.constructs.platform_function import PlatformFunction
from infra.constructs.platform_schedules import PlatformSchedules
from infra.constructs.powertools_layer import PowertoolsLayer
from infra.constructs.stream_publisher import StreamPublisher
from infra.constructs.workflow_api import WorkflowApi
from infra.constructs.workflow_tables import TableRef, WorkflowTables
from infra.constructs.workflow_user_pool import WorkflowUserPool

__all__ = [
    "AlertRecipients",
    "BucketRef",
    "DeadLetterQueue",
    "DeadLettersKey",
    "DocumentsBucket",
    "EmailTopic",
    "LifecycleStateMachine",
    "OperationsAlarms",
    "OperationsConsole",
    "OperationsDashboard",
    "PlatformEvents",
    "PlatformFunction",
    "PlatformSchedules",
    "PowertoolsLayer",
    "StateMachineArns",
    "StreamPublisher",
    "TableRef",
    "WorkflowApi",
    "WorkflowTables",
    "WorkflowUserPool",
]
