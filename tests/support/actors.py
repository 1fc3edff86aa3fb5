"""Who calls the API in the tests, and a small client that speaks for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class Api(Protocol):
    def __call__(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: str | None = None,
        groups: str | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> tuple[int, Any]: ...


@dataclass(frozen=True)
class Actor:
    user: str
    groups: str


APPLICANT = Actor("alice", "applicants")
OTHER_APPLICANT = Actor("arthur", "applicants")
REVIEWER = Actor("rita", "reviewers")
APPROVER = Actor("paul", "approvers")
OPERATOR = Actor("olga", "operators")

APPLICATION_INPUT = {"projectId": "project-1", "unitsRequested": 100, "methodologyId": "ERF-soil-carbon"}
PROJECT_INPUT = {"name": "Riverina soil carbon", "methodologyId": "ERF-soil-carbon", "reportingPeriodMonths": 12}


@dataclass
class Client:
    api: Api
    actor: Actor

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return self.api(method, path, body, user=self.actor.user, groups=self.actor.groups, **kwargs)

    def start(
        self,
        workflow_id: str | None = None,
        workflow_type: str = "accu-application",
        input: dict[str, Any] | None = None,
    ) -> tuple[int, Any]:
        body: dict[str, Any] = {"type": workflow_type, "input": APPLICATION_INPUT if input is None else input}
        if workflow_id:
            body["workflowId"] = workflow_id
        self._own_what_it_names(workflow_type, body["input"])
        return self.call("POST", "/workflows", body)

    def _own_what_it_names(self, workflow_type: str, start_input: dict[str, Any]) -> None:
        """An applicant starts applications for projects of their own and documents for their own
        workflows (DESIGN §5): the project or subject a test names but never made is started first,
        by this applicant (a project stays DRAFT, an application DRAFT)."""
        if self.actor.groups != "applicants":
            return
        named = {
            "accu-application": ("project", start_input.get("projectId")),
            "document": (start_input.get("subjectType"), start_input.get("subjectId")),
        }.get(workflow_type)
        if (
            not named
            or not named[1]
            or not isinstance(named[1], str)
            or named[0] not in ("project", "accu-application")
        ):
            return
        named_type, named_id = named
        if self.call("GET", f"/workflows/{named_id}")[0] == 404:
            input_for = {"project": PROJECT_INPUT, "accu-application": APPLICATION_INPUT}[named_type]
            self.start(named_id, named_type, input_for)

    def signal(self, workflow_id: str, signal: str, payload: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return self.call(
            "POST", f"/workflows/{workflow_id}/signals/{signal}", payload if payload is not None else {}, **kwargs
        )

    def get(self, workflow_id: str) -> tuple[int, Any]:
        return self.call("GET", f"/workflows/{workflow_id}")

    def history(self, workflow_id: str, **query: str) -> tuple[int, Any]:
        return self.call("GET", f"/workflows/{workflow_id}/history", query=query or None)
