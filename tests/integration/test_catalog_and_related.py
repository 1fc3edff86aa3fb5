"""What an operations console reads besides workflows: the lifecycle catalog (``GET /lifecycles``),
whose payload and input schemas the OpenAPI document holds, and the workflows related to one
(``GET /workflows/{id}/related``): those it names and those naming it, as far as the caller may see."""

from __future__ import annotations

import hashlib

import boto3
import pytest

from functions.domain.identity import OPERATORS
from functions.domain.lifecycles import LIFECYCLES
from tests.support.actors import APPLICATION_INPUT, OTHER_APPLICANT, PROJECT_INPUT, Client
from tests.support.scenarios import drive

PREFIX = "#/components/schemas/"


def catalog(client: Client) -> dict[str, dict]:
    code, answer = client.call("GET", "/lifecycles")
    assert code == 200, answer
    return {item["type"]: item for item in answer["lifecycles"]}


def resolve(document: dict, reference: dict) -> dict:
    """The schema a ``{"$ref": "#/components/schemas/<name>"}`` names in the OpenAPI document."""
    assert set(reference) == {"$ref"} and reference["$ref"].startswith(PREFIX), reference
    return document["components"]["schemas"][reference["$ref"].removeprefix(PREFIX)]


def test_the_catalog_lists_every_lifecycle_with_its_signals_and_timeouts(platform, applicant):
    # When any authenticated caller (here an applicant) reads the catalog
    answer = catalog(applicant)

    # Then it has every lifecycle, in the catalog's order, as declared
    assert list(answer) == list(LIFECYCLES)
    for workflow_type, lifecycle in LIFECYCLES.items():
        item = answer[workflow_type]
        assert item["description"] == lifecycle.description
        assert (item["initialStatus"], item["statuses"]) == (lifecycle.initial_status, list(lifecycle.statuses))
        assert set(item["terminalStatuses"]) == set(lifecycle.terminal_statuses)
        assert item["activities"] == dict(lifecycle.activities)
        assert set(item["starters"]) == set(lifecycle.starters) | {OPERATORS}

        # every signal, accepted where the lifecycle accepts it, leading where it leads, sent by whom it says
        signals = {signal["name"]: signal for signal in item["signals"]}
        assert list(signals) == list(lifecycle.signals)
        for name, spec in lifecycle.signals.items():
            signal = signals[name]
            assert set(signal["sources"]) == set(spec.sources), name
            assert signal["target"] == spec.target, name
            expected_senders = set() if spec.internal else set(spec.senders) | {OPERATORS}
            assert set(signal["senders"]) == expected_senders, name
            assert (signal["internal"], signal["restartsWait"]) == (spec.internal, spec.restarts_wait), name

        # every timeout, with its fixed seconds (none for a computed one)
        timeouts = {timeout["status"]: timeout for timeout in item["timeouts"]}
        assert set(timeouts) == set(lifecycle.timeouts)
        for status, spec in lifecycle.timeouts.items():
            timeout = timeouts[status]
            assert (timeout["name"], timeout["action"], timeout["computed"]) == (spec.name, spec.action, spec.computed)
            assert (timeout["target"], timeout["signal"]) == (spec.target, spec.signal)
            assert timeout["defaultSeconds"] == (None if spec.computed else spec.default_seconds)
            assert timeout["seconds"] == timeout["defaultSeconds"]  # no override on this platform

    # and a few facts a console draws from, checked by hand
    application = answer["accu-application"]
    issue = next(signal for signal in application["signals"] if signal["name"] == "issueCertificate")
    assert (issue["sources"], issue["target"], issue["senders"]) == (["APPROVED"], "ISSUED", ["approvers", "operators"])
    consume = next(signal for signal in answer["project"]["signals"] if signal["name"] == "consumeUnits")
    assert (consume["internal"], consume["senders"], consume["target"]) == (True, [], None)
    assert answer["calendar"]["starters"] == ["operators"]
    assert answer["document"]["activities"] == {"UPLOADED": "ValidateDocument"}
    assert answer["project"]["timeouts"][-1] | {"description": ""} == {
        "status": "ACTIVE",
        "name": "reportDue",
        "action": "escalate",
        "target": None,
        "signal": None,
        "escalates": False,
        "notifies": False,
        "computed": True,
        "defaultSeconds": None,
        "seconds": None,
        "description": "",
    }
    assert application["relations"] == [
        {
            "name": "project",
            "inverse": "application",
            "field": "input.projectId",
            "workflowTypes": ["project"],
            "typeField": None,
        }
    ]


@pytest.mark.parametrize(
    "platform", [{"timeout_overrides": {"accu-application": {"reviewerAssignment": 3600}}}], indirect=True
)
def test_the_catalog_gives_the_deployments_own_fixed_timeouts(platform, reviewer):
    # Given a deployment that waits an hour, not 14 days, for a reviewer
    # When the catalog is read
    timeouts = {item["name"]: item for item in catalog(reviewer)["accu-application"]["timeouts"]}

    # Then it says both: the lifecycle's default and this deployment's
    assert (timeouts["reviewerAssignment"]["defaultSeconds"], timeouts["reviewerAssignment"]["seconds"]) == (
        14 * 24 * 3600,
        3600,
    )
    assert timeouts["reviewDecision"]["seconds"] == timeouts["reviewDecision"]["defaultSeconds"] == 30 * 24 * 3600


def test_every_schema_the_catalog_refers_to_is_an_object_schema_of_the_openapi_document(platform, operator):
    # Given the catalog and the OpenAPI document, both read through the API function
    answer = catalog(operator)
    code, document = platform.api("GET", "/openapi.json")
    assert code == 200

    # Then every signal's payload and every lifecycle's start input resolves to an object schema
    references = []
    for item in answer.values():
        references.append(item["inputSchema"])
        references += [signal["payloadSchema"] for signal in item["signals"]]
    for reference in references:
        schema = resolve(document, reference)
        assert schema["type"] == "object", reference
    # one per lifecycle and signal, though lifecycles share payload classes (ReasonPayload, EmptyPayload)
    assert len({reference["$ref"] for reference in references}) == len(references)

    # and each is the model the platform validates with
    schemas = {item["type"]: item for item in answer.values()}
    offsets = next(s for s in schemas["project"]["signals"] if s["name"] == "submitOffsetsReport")
    schema = resolve(document, offsets["payloadSchema"])
    assert set(schema["required"]) == {"periodStart", "periodEnd", "unitsClaimed"}
    assert schema["properties"]["periodEnd"]["format"] == "date" and schema["additionalProperties"] is False
    reject = next(s for s in schemas["document"]["signals"] if s["name"] == "rejectDocument")
    assert resolve(document, reject["payloadSchema"])["required"] == ["reason"]
    start = resolve(document, schemas["accu-application"]["inputSchema"])
    assert set(start["required"]) == {"projectId", "unitsRequested", "methodologyId"}
    assert start["properties"]["unitsRequested"]["exclusiveMinimum"] == 0

    # and both routes are in the document with every status they answer
    responses = {
        path: set(document["paths"][path]["get"]["responses"])
        for path in ("/lifecycles", "/workflows/{workflowId}/related")
    }
    assert responses == {
        "/lifecycles": {"200", "401", "422"},
        "/workflows/{workflowId}/related": {"200", "401", "404", "422"},
    }


def related(client: Client, workflow_id: str) -> list[tuple[str, str, str, str]]:
    code, answer = client.call("GET", f"/workflows/{workflow_id}/related")
    assert code == 200, answer
    assert answer["workflowId"] == workflow_id
    return [(item["relation"], item["direction"], item["workflowId"], item["type"]) for item in answer["related"]]


def start_document(platform, client: Client, workflow_id: str, subject_type: str, subject_id: str) -> None:
    content = f"{workflow_id} title".encode()
    key = f"uploads/{client.actor.user}/{workflow_id}/file.pdf"
    boto3.client("s3").put_object(Bucket="accu-local-documents", Key=key, Body=content)
    file = {"fileName": "file.pdf", "objectKey": key, "sha256": hashlib.sha256(content).hexdigest()}
    document = {"subjectType": subject_type, "subjectId": subject_id, "kind": "land-title", **file}
    code, state = client.start(workflow_id, "document", {**document, "sizeBytes": len(content)})
    assert code == 201, state
    platform.settle()


def test_an_application_names_its_project_and_its_documents_name_it(platform, applicant, reviewer):
    # Given an application for the applicant's project, and two documents about the application
    assert applicant.start("project-r", "project", PROJECT_INPUT)[0] == 201
    assert applicant.start("app-r", input={**APPLICATION_INPUT, "projectId": "project-r"})[0] == 201
    start_document(platform, applicant, "doc-r1", "accu-application", "app-r")
    start_document(platform, applicant, "doc-r2", "accu-application", "app-r")

    # When the application's related workflows are read
    code, answer = applicant.call("GET", "/workflows/app-r/related")

    # Then it names its project, and its documents name it, with their statuses
    assert code == 200
    assert answer == {
        "workflowId": "app-r",
        "type": "accu-application",
        "related": [
            {
                "relation": "project",
                "direction": "names",
                "workflowId": "project-r",
                "type": "project",
                "status": "DRAFT",
                "executionStatus": "RUNNING",
            },
            *(
                {
                    "relation": "document",
                    "direction": "namedBy",
                    "workflowId": document_id,
                    "type": "document",
                    "status": "PENDING_REVIEW",
                    "executionStatus": "RUNNING",
                }
                for document_id in ("doc-r1", "doc-r2")
            ),
        ],
    }
    # and from a document, the application is its subject
    assert related(reviewer, "doc-r1") == [("subject", "names", "app-r", "accu-application")]


def test_a_project_names_its_report_calendar_once_it_has_one(platform, applicant, reviewer, approver):
    # Given a project in registration, with a document about it
    assert applicant.start("project-c", "project", PROJECT_INPUT)[0] == 201
    start_document(platform, applicant, "doc-c", "project", "project-c")
    drive(platform, "project-c", [(applicant, "submitRegistration", {}), (reviewer, "assignAssessor", {})])

    # Then it names no calendar yet
    assert related(applicant, "project-c") == [("document", "namedBy", "doc-c", "document")]

    # When it is approved (ACTIVE: its first report's calendar starts)
    drive(platform, "project-c", [(approver, "approveRegistration", {})])

    # Then it names that calendar, which names it as its subject
    assert related(applicant, "project-c") == [
        ("reportCalendar", "names", "project-c-report-1", "calendar"),
        ("document", "namedBy", "doc-c", "document"),
        ("calendar", "namedBy", "project-c-report-1", "calendar"),
    ]
    assert related(applicant, "project-c-report-1") == [("subject", "names", "project-c", "project")]

    # When the report is submitted and accepted (the next report's calendar starts)
    drive(
        platform,
        "project-c",
        [
            (
                applicant,
                "submitOffsetsReport",
                {"periodStart": "2025-07-01", "periodEnd": "2026-06-30", "unitsClaimed": 5},
            ),
            (approver, "acceptReport", {}),
        ],
    )

    # Then it names the new one, and both name it (the first one completed)
    code, answer = applicant.call("GET", "/workflows/project-c/related")
    assert code == 200
    assert [(item["relation"], item["workflowId"], item["status"]) for item in answer["related"]] == [
        ("reportCalendar", "project-c-report-2", "SCHEDULED"),
        ("document", "doc-c", "PENDING_REVIEW"),
        ("calendar", "project-c-report-1", "COMPLETED"),
        ("calendar", "project-c-report-2", "SCHEDULED"),
    ]


def test_what_the_caller_may_not_read_or_does_not_exist_is_left_out(platform, applicant, reviewer, operator):
    # Given an application of the applicant's, a document about it that an operator started, and an
    # application an operator started for a project that does not exist
    assert applicant.start("app-v")[0] == 201
    start_document(platform, operator, "doc-v", "accu-application", "app-v")
    assert operator.start("app-orphan", input={**APPLICATION_INPUT, "projectId": "no-such-project"})[0] == 201

    # Then the applicant sees the project, not the operator's document; a reviewer (who reads all) sees both
    assert related(applicant, "app-v") == [("project", "names", "project-1", "project")]
    assert related(reviewer, "app-v") == [
        ("project", "names", "project-1", "project"),
        ("document", "namedBy", "doc-v", "document"),
    ]
    # and a project that does not exist is not named at all
    assert related(operator, "app-orphan") == []


def test_an_unknown_or_unreadable_workflow_is_404_and_no_identity_401(platform, applicant, operator):
    # An unknown workflow, as the other workflow routes
    code, error = operator.call("GET", "/workflows/nope/related")
    assert (code, error["error"], error["details"]) == (
        404,
        "WORKFLOW_NOT_FOUND",
        [{"field": "workflowId", "value": "nope"}],
    )
    # another applicant's, which to them does not exist
    assert applicant.start("app-private")[0] == 201
    stranger = Client(platform.api, OTHER_APPLICANT)
    assert stranger.call("GET", "/workflows/app-private/related")[1]["error"] == "WORKFLOW_NOT_FOUND"
    # and without an identity both routes are 401 before anything else
    for path in ("/lifecycles", "/workflows/app-private/related", "/workflows/nope/related"):
        code, error = platform.api("GET", path)
        assert (code, error["error"]) == (401, "UNAUTHENTICATED"), path
