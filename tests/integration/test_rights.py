"""Who may do what, and on whose workflows (DESIGN §5): the rights matrix generated from the catalog
(every group against every signal of every lifecycle, and every route), and the rule that applicants
act only on what is theirs."""

from __future__ import annotations

import pytest

from functions.domain.identity import GROUPS, OPERATORS
from functions.domain.lifecycles import LIFECYCLES
from tests.support.actors import APPLICATION_INPUT, OTHER_APPLICANT, PROJECT_INPUT, Actor, Client

CALLERS = {group: Actor(f"{group}-user", group) for group in GROUPS}
OWN_APPLICANT = CALLERS["applicants"]


def start_inputs(project_id: str) -> dict[str, dict]:
    """A valid start input of each lifecycle, naming the applicant's project ``project_id``."""
    return {
        "project": PROJECT_INPUT,
        "accu-application": {**APPLICATION_INPUT, "projectId": project_id},
        "document": {
            "subjectType": "project",
            "subjectId": project_id,
            "kind": "land-title",
            "fileName": "f.pdf",
            "objectKey": "k",
            "sha256": "a" * 64,
            "sizeBytes": 10,
        },
        "calendar": {"title": "t", "subjectType": "project", "subjectId": project_id, "dueAt": "2030-01-01T00:00:00Z"},
    }


OPERATOR_ROUTES = [
    ("POST", "/workflows/{id}/terminate", {"reason": "r"}),
    ("POST", "/workflows/{id}/retry", {}),
    ("POST", "/workflows/{id}/escalate", {"reason": "r"}),
    ("POST", "/workflows/{id}/interventions", {"action": "escalate", "reason": "r"}),
    ("GET", "/metrics", None),
    ("GET", "/operations/health", None),
    ("GET", "/reports/daily/2026-01-01", None),
]


def _allowed(group: str, groups_with_the_right: frozenset[str]) -> bool:
    return group == OPERATORS or group in groups_with_the_right


def test_every_group_against_every_signal_of_every_lifecycle(platform):
    # Given a workflow of each lifecycle, started by the applicant (a calendar, which applicants do
    # not start, by an operator)
    applicant, operator = Client(platform.api, OWN_APPLICANT), Client(platform.api, CALLERS[OPERATORS])
    started_by = {}
    for workflow_type, start_input in start_inputs("rights-project").items():
        by = applicant if _allowed("applicants", LIFECYCLES[workflow_type].starters) else operator
        workflow_id = "rights-project" if workflow_type == "project" else f"rights-{workflow_type}"
        assert by.start(workflow_id, workflow_type, start_input)[0] == 201, workflow_type
        started_by[workflow_type] = (workflow_id, by.actor.groups)
    platform.settle()

    # When each group sends each signal of each lifecycle (an allowed one may apply: it does not matter)
    # Then a group without the right gets 403 before any state check, one with it never does; an
    # applicant asking about a workflow not theirs is told there is none; the platform's own signals
    # are refused to everyone
    checked = 0
    for workflow_type, lifecycle in LIFECYCLES.items():
        workflow_id, starter_group = started_by[workflow_type]
        for name, spec in lifecycle.signals.items():
            for group in GROUPS:
                code, answer = Client(platform.api, CALLERS[group]).signal(workflow_id, name, {})
                platform.settle()
                where = (workflow_type, name, group, code, answer)
                if group == "applicants" and starter_group != "applicants":
                    assert code == 404, where
                elif spec.internal:
                    assert code == 403, where
                else:
                    assert (code == 403) == (not _allowed(group, spec.senders)), where
                checked += 1
    assert checked == sum(len(lifecycle.signals) for lifecycle in LIFECYCLES.values()) * len(GROUPS)


@pytest.mark.parametrize("group", GROUPS)
def test_every_group_against_every_route(platform, group):
    # Given a project of the applicant's
    owner = Client(platform.api, OWN_APPLICANT)
    assert owner.start("rights-route-project", "project", PROJECT_INPUT)[0] == 201
    platform.settle()
    caller = Client(platform.api, CALLERS[group])

    # When the group calls each operators' route, starts each lifecycle and asks for an upload URL
    # Then only what its rights allow is not 403
    for method, path, body in OPERATOR_ROUTES:
        code, answer = caller.call(method, path.format(id="rights-route-project"), body)
        assert (code == 403) == (group != OPERATORS), (method, path, group, answer)
    for workflow_type, start_input in start_inputs("rights-route-project").items():
        if workflow_type == "project":
            continue
        code, answer = caller.call("POST", "/workflows", {"type": workflow_type, "input": start_input})
        assert (code == 403) == (not _allowed(group, LIFECYCLES[workflow_type].starters)), (workflow_type, answer)
    code, answer = caller.call("POST", "/workflows", {"type": "project", "input": PROJECT_INPUT})
    assert (code == 403) == (not _allowed(group, LIFECYCLES["project"].starters)), answer
    code, answer = caller.call(
        "POST", "/documents/uploads", {"fileName": "a.pdf", "contentType": "application/pdf", "sizeBytes": 1}
    )
    assert (code == 403) == (not _allowed(group, LIFECYCLES["document"].starters)), answer


def test_an_applicant_applies_only_for_a_project_of_their_own(platform, applicant, operator):
    # Given a project of another applicant's, and one an operator started naming the applicant its owner
    other = Client(platform.api, OTHER_APPLICANT)
    assert other.start("their-project", "project", PROJECT_INPUT)[0] == 201
    assert operator.start("owned-project", "project", {**PROJECT_INPUT, "ownerId": "alice"})[0] == 201
    platform.settle()

    # When the applicant applies for theirs, for a project that does not exist, and for the owned one
    theirs = applicant.call(
        "POST", "/workflows", {"type": "accu-application", "input": {**APPLICATION_INPUT, "projectId": "their-project"}}
    )
    missing = applicant.call(
        "POST", "/workflows", {"type": "accu-application", "input": {**APPLICATION_INPUT, "projectId": "nowhere"}}
    )
    owned = applicant.start("app-owned", input={**APPLICATION_INPUT, "projectId": "owned-project"})
    by_operator = operator.start("app-for-them", input={**APPLICATION_INPUT, "projectId": "their-project"})

    # Then the first two are 403 naming the rule, and nothing was written; the others start
    for code, error in (theirs, missing):
        assert (code, error["error"], error["details"][0]["rule"]) == (403, "FORBIDDEN", "projectOwnedByApplicant")
        assert error["details"][0]["field"] == "input.projectId"
    listed = operator.call("GET", "/workflows", query={"type": "accu-application"})[1]["items"]
    assert sorted(item["workflowId"] for item in listed) == ["app-for-them", "app-owned"]
    assert owned[0] == 201 and by_operator[0] == 201


def test_an_applicant_files_documents_only_for_workflows_they_started(platform, applicant):
    # Given another applicant's application
    other = Client(platform.api, OTHER_APPLICANT)
    assert other.start("their-app", input={**APPLICATION_INPUT, "projectId": "their-own-project"})[0] == 201
    platform.settle()

    # When the applicant files a document naming it as its subject
    document = {**start_inputs("x")["document"], "subjectType": "accu-application", "subjectId": "their-app"}
    code, error = applicant.call("POST", "/workflows", {"type": "document", "input": document})

    # Then it is 403 naming the rule, and the other applicant's application has no document
    assert (code, error["details"][0]["rule"]) == (403, "subjectStartedByApplicant")
    assert applicant.call("GET", "/workflows", query={"type": "document"})[1]["items"] == []
