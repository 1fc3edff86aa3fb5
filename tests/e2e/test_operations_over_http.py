"""Issue 4's check as a new user would do it on the local platform: make a document fail
transiently and an application fail, skip an hour, see the document retried from its last state and
the application escalated (e-mails, history); skip a day and read the daily report."""

from __future__ import annotations

import hashlib
import urllib.request

from tests.support.http import wait_for

APPLICANT = {"user": "alice", "groups": "applicants"}
OPERATOR = {"user": "olga", "groups": "operators"}
HOUR = 3600


def state_of(local, workflow_id: str) -> dict:
    return local("GET", f"/workflows/{workflow_id}", **OPERATOR)[1]


def until(local, workflow_id: str, check, seconds: float = 15) -> dict:
    return wait_for(lambda: state_of(local, workflow_id), check, seconds, pause=0.1)


def test_recovery_escalation_and_the_daily_report_over_http(local):
    # A document whose validation fails transiently until its retries run out
    content = b"%PDF audit report"
    code, ticket = local(
        "POST",
        "/documents/uploads",
        {"fileName": "audit.pdf", "contentType": "application/pdf", "sizeBytes": len(content)},
        **APPLICANT,
    )
    urllib.request.urlopen(
        urllib.request.Request(ticket["uploadUrl"], data=content, method="PUT", headers=ticket["headers"]), timeout=10
    ).close()
    # (the applicant's own project, which the document and the application below are for)
    project = {"name": "Ops soil carbon", "methodologyId": "ERF-soil-carbon", "reportingPeriodMonths": 12}
    assert (
        local("POST", "/workflows", {"type": "project", "workflowId": "ops-p", "input": project}, **APPLICANT)[0] == 201
    )
    assert local("POST", "/local/faults", {"activity": "ValidateDocument", "count": 11, "kind": "transient"})[0] == 201
    local(
        "POST",
        "/workflows",
        {
            "type": "document",
            "workflowId": "ops-doc",
            "input": {
                "subjectType": "project",
                "subjectId": "ops-p",
                "kind": "audit-report",
                "fileName": "audit.pdf",
                "objectKey": ticket["objectKey"],
                "sha256": hashlib.sha256(content).hexdigest(),
                "sizeBytes": len(content),
            },
        },
        **APPLICANT,
    )

    # and an application whose activity fails for good
    assert (
        local(
            "POST",
            "/local/faults",
            {"activity": "OpenWait", "workflowType": "accu-application", "count": 1, "kind": "permanent"},
        )[0]
        == 201
    )
    local(
        "POST",
        "/workflows",
        {
            "type": "accu-application",
            "workflowId": "ops-app",
            "input": {"projectId": "ops-p", "unitsRequested": 5, "methodologyId": "m"},
        },
        **APPLICANT,
    )
    until(local, "ops-app", lambda s: s["executionStatus"] == "FAILED")
    local("POST", "/local/clock/advance", {"seconds": 600})  # the document's retries run out
    until(local, "ops-doc", lambda s: s["executionStatus"] == "FAILED")

    # When an hour passes, the recovery schedule decides
    assert local("POST", "/local/clock/advance", {"seconds": HOUR})[0] == 200

    # Then the document was retried from its last state and validated; the application escalated
    document = until(local, "ops-doc", lambda s: s["status"] == "PENDING_REVIEW")
    assert (document["executionStatus"], document["retryCount"]) == ("RUNNING", 1)
    application = state_of(local, "ops-app")
    assert (application["executionStatus"], application["escalationLevel"]) == ("FAILED", 1)
    types = [e["type"] for e in local("GET", "/workflows/ops-app/history", **OPERATOR)[1]["items"]]
    assert types[-2:] == ["FAILED", "ESCALATED"]
    mails = [path.read_text() for path in local.outbox.glob("*.eml")]
    assert any("duty-manager@accu.local" in mail and "ops-app" in mail for mail in mails)

    # And when a day passes, yesterday's report can be read
    day = local("GET", "/local/clock")[1]["now"][:10]
    local("POST", "/local/clock/advance", {"seconds": 24 * HOUR})
    code, report = local("GET", f"/reports/daily/{day}", **OPERATOR)
    assert code == 200 and report["totals"]["started"] >= 2 and report["recommendations"]
    assert any("administrators@accu.local" in path.read_text() for path in local.outbox.glob("*.eml"))
    code, schedules = local("GET", "/local/schedules")
    assert {item["schedule"] for item in schedules["items"]} == {
        "ReleaseWaits",
        "HealthCheck",
        "FailureRecovery",
        "DailyReport",
    }
    code, run = local("POST", "/local/schedules/HealthCheck")
    assert code == 200 and "running" in run["result"]
