"""What the local platform's emulated AWS resources are called, and where it listens by default:
read by the platform and by programs that reach it from outside (the ``accu`` CLI), without
importing moto."""

ACCOUNT = "123456789012"
REGION = "ap-southeast-2"
WORKFLOWS_TABLE = "accu-local-workflows"
IDEMPOTENCY_TABLE = "accu-local-idempotency"
MIGRATIONS_TABLE = "accu-local-migrations"
BATCHES_TABLE = "accu-local-batches"
DEFAULT_API_PORT = 8000
DEFAULT_AWS_PORT = 4566


def local_state_machine_name(catalog_name: str) -> str:
    """A catalog state machine locally (its catalog ``state_machine_name`` under the local prefix)."""
    return f"accu-local-{catalog_name}"


def local_live_alias_arn(catalog_name: str, alias: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{local_state_machine_name(catalog_name)}:{alias}"
