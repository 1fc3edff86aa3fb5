"""Reading workflows: one workflow, its history, the workflows related to it, listings and the running
totals."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.domain.errors import ValidationFailed
from functions.domain.identity import Identity
from functions.domain.time import iso
from functions.domain.workflow import ExecutionStatus, Workflow
from functions.service.engine import WorkflowEngine
from functions.service.ports import ListFilter


class WorkflowQueries:
    def __init__(self, engine: WorkflowEngine):
        self.engine = engine

    def get(self, actor: Identity, workflow_id: str) -> dict[str, Any]:
        return self.engine.view(self.engine.read(actor, workflow_id))

    def history(self, actor: Identity, workflow_id: str, limit: int, next_token: str | None) -> dict[str, Any]:
        self.engine.read(actor, workflow_id)
        page = self.engine.store.history(workflow_id, limit, next_token)
        return {"items": page.items, "nextToken": page.next_token}

    def related(self, actor: Identity, workflow_id: str) -> dict[str, Any]:
        """The workflows this one names (its lifecycle's relations: an application's project, a
        document's subject, a project's current report calendar), then those that name it as their
        subject (documents and calendars about it, found by the subject index, oldest first). A
        workflow the caller may not read is left out, and so is a named one that does not exist (or is
        not of a type the relation allows): to an applicant the two must look alike, as GET answers
        404 to both."""
        engine = self.engine
        workflow = engine.read(actor, workflow_id)
        related: list[dict[str, Any]] = []

        def add(relation: str, direction: str, other: Workflow) -> None:
            if actor.may_read(other.startedBy):
                related.append(
                    {
                        "relation": relation,
                        "direction": direction,
                        "workflowId": other.workflowId,
                        "type": other.type,
                        "status": other.status,
                        "executionStatus": other.executionStatus.value,
                    }
                )

        for relation in engine.lifecycles[workflow.type].relations:
            named = relation.named(workflow.input, workflow.fields)
            other = engine.store.get(named[0]) if named else None
            if named and other is not None and other.type in named[1]:
                add(relation.name, "names", other)
        for other in engine.store.workflows_about(workflow.type, workflow.workflowId):
            lifecycle = engine.lifecycles.get(other.type)
            for relation in lifecycle.relations if lifecycle else ():
                named = relation.named(other.input, other.fields)
                if named and named[0] == workflow.workflowId and workflow.type in named[1]:
                    add(relation.inverse, "namedBy", other)
        return {"workflowId": workflow.workflowId, "type": workflow.type, "related": related}

    def list_workflows(
        self,
        actor: Identity,
        *,
        workflow_type: str | None,
        status: str | None,
        execution_status: str | None,
        started_after: datetime | None,
        started_before: datetime | None,
        limit: int,
        next_token: str | None,
        escalated: bool | None = None,
    ) -> dict[str, Any]:
        """A page of workflows, newest first. ``escalated``: only the running workflows that were
        escalated (their own sparse index, by type); with a status, an execution status RUNNING, start
        times and, for an applicant, their own workflows. Only true filters: false is refused, as an
        execution status other than RUNNING with it is."""
        problems = []
        if escalated is False:
            problems.append(
                {
                    "field": "escalated",
                    "in": "query",
                    "value": False,
                    "message": "escalated=false is no filter (the workflows never escalated have no index of their "
                    "own): leave escalated out to list every workflow",
                }
            )
        if escalated and execution_status not in (None, ExecutionStatus.RUNNING.value):
            problems.append(
                {
                    "field": "executionStatus",
                    "in": "query",
                    "value": execution_status,
                    "message": "escalated=true lists running workflows only (a workflow leaves the list when its "
                    "execution ends): leave executionStatus out, or RUNNING",
                }
            )
        if problems:
            raise ValidationFailed("the escalated filter cannot be used so", problems)
        wanted = self.list_filter(
            actor,
            workflow_type=workflow_type,
            status=status,
            execution_status=execution_status,
            started_after=started_after,
            started_before=started_before,
            escalated=bool(escalated),
        )
        page = self.engine.store.list_workflows(wanted, limit=limit, next_token=next_token)
        return {"items": [self.engine.view(item) for item in page.items], "nextToken": page.next_token}

    def list_filter(
        self,
        actor: Identity,
        *,
        workflow_type: str | None,
        status: str | None,
        execution_status: str | None,
        started_after: datetime | None,
        started_before: datetime | None,
        escalated: bool = False,
    ) -> ListFilter:
        """What a listing reads for this caller (an applicant's own workflows only)."""
        lifecycles = self.engine.lifecycles
        types = [self.engine.lifecycle(workflow_type).type] if workflow_type else sorted(lifecycles)
        if status:
            # Only the lifecycles that have this status can hold workflows in it.
            types = [name for name in types if status in lifecycles[name].statuses]
        return ListFilter(
            workflow_types=tuple(types),
            status=status,
            execution_status=execution_status,
            started_after=iso(started_after) if started_after else None,
            started_before=iso(started_before) if started_before else None,
            started_by=None if actor.reads_all() else actor.user_id,
            escalated=escalated,
        )

    def metrics(self, workflow_type: str | None) -> dict[str, Any]:
        types = [self.engine.lifecycle(workflow_type).type] if workflow_type else sorted(self.engine.lifecycles)
        counters = self.engine.store.counters(types)
        by_execution = {
            status.value: sum(counters[name].by_execution_status.get(status.value, 0) for name in types)
            for status in ExecutionStatus
        }
        total = sum(counters[name].total for name in types)
        closed = sum(counters[name].closed_count for name in types)
        failed = sum(counters[name].failed for name in types)
        return {
            "total": total,
            "byExecutionStatus": by_execution,
            "byType": {
                name: {
                    "total": counters[name].total,
                    "byExecutionStatus": {
                        status.value: counters[name].by_execution_status.get(status.value, 0)
                        for status in ExecutionStatus
                    },
                    "byStatus": {status: count for status, count in counters[name].by_status.items() if count},
                }
                for name in types
            },
            "failureRate": round(failed / total, 4) if total else 0.0,
            "averageExecutionSeconds": round(sum(counters[name].closed_seconds for name in types) / closed, 3)
            if closed
            else None,
        }
