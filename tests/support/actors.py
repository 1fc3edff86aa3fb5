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
        return self.call("POST", "/workflows", body)

    def signal(self, workflow_id: str, signal: str, payload: Any = None, **kwargs: Any) -> tuple[int, Any]:
        return self.call(
            "POST", f"/workflows/{workflow_id}/signals/{signal}", payload if payload is not None else {}, **kwargs
        )

    def get(self, workflow_id: str) -> tuple[int, Any]:
        return self.call("GET", f"/workflows/{workflow_id}")

    def history(self, workflow_id: str, **query: str) -> tuple[int, Any]:
        return self.call("GET", f"/workflows/{workflow_id}/history", query=query or None)
