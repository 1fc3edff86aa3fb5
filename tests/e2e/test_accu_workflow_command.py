"""``accu workflow`` as a user runs it, the installed command against the local platform's REST API:
answers parsed back from JSON, refusals with the API's status, code, message and details, and exit
status 1 for each; the local platform's clock, schedules, faults and events, the metrics and the daily
report."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from infra.local.launcher import start_local_platform
from tests.e2e.conftest import LocalHttp

ACCU = Path(sys.executable).parent / "accu"
ALICE = ("--user", "alice", "--groups", "applicants")
RITA = ("--user", "rita", "--groups", "reviewers")
PAUL = ("--user", "paul", "--groups", "approvers")
PROJECT = '{"name": "CLI soil", "methodologyId": "ERF-soil-carbon", "reportingPeriodMonths": 12}'


def accu(local: LocalHttp, *arguments: str, output: str = "json") -> tuple[int, Any, str]:
    """The exit status, the answer (parsed when JSON) and what went to standard error."""
    assert ACCU.exists(), f"{ACCU} is missing: run make install"
    command = [str(ACCU), *arguments, "--api-url", local.base, "--output", output]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    answer = json.loads(done.stdout) if output == "json" and done.stdout.strip() else done.stdout
    return done.returncode, answer, done.stderr


def test_a_project_is_started_signalled_listed_and_read_with_the_command(local: LocalHttp):
    # When an applicant starts a project and submits it, with the command
    code, started, _ = accu(local, "workflow", "start", "project", "--id", "cli-project", "--input", PROJECT, *ALICE)
    assert code == 0 and (started["status"], started["startedBy"]) == ("DRAFT", "alice")
    code, submitted, _ = accu(local, "workflow", "signal", "cli-project", "submitRegistration", *ALICE)

    # Then each answer is the workflow's state, as the API gives it
    assert code == 0 and submitted["status"] == "REGISTRATION_SUBMITTED", submitted
    code, shown, _ = accu(local, "workflow", "show", "cli-project", *RITA)
    assert code == 0 and shown["status"] == "REGISTRATION_SUBMITTED" and "assignAssessor" in shown["awaiting"]
    code, listed, _ = accu(local, "workflow", "list", "--type", "project", "--limit", "1", "--all", *RITA)
    assert (
        code == 0 and "cli-project" in [item["workflowId"] for item in listed["items"]] and listed["nextToken"] is None
    )
    code, history, _ = accu(local, "workflow", "history", "cli-project", *RITA)
    assert code == 0 and [event["type"] for event in history["items"]] == ["STARTED", "SIGNAL_APPLIED"]

    # And the table answers are for people
    code, text, _ = accu(local, "workflow", "history", "cli-project", *RITA, output="table")
    assert code == 0 and "STARTED" in text and "submitRegistration" in text


def test_each_refusal_names_the_api_status_code_and_details_and_exits_1(local: LocalHttp):
    # Given a submitted project
    assert accu(local, "workflow", "start", "project", "--id", "cli-refused", "--input", PROJECT, *ALICE)[0] == 0
    accu(local, "workflow", "signal", "cli-refused", "submitRegistration", *ALICE)

    # When the command asks for what the API refuses
    unknown = accu(local, "workflow", "show", "no-such-workflow", *RITA, output="table")
    not_now = accu(local, "workflow", "signal", "cli-refused", "acceptReport", *PAUL, output="table")
    not_theirs = accu(local, "workflow", "signal", "cli-refused", "approveRegistration", *ALICE)

    # Then each exits 1 and says what the API said: the status, the error code, the message, the details
    assert unknown[0] == 1 and "404 WORKFLOW_NOT_FOUND" in unknown[2]
    assert not_now[0] == 1 and "409 SIGNAL_NOT_ALLOWED" in not_now[2] and "awaiting" in not_now[2]
    assert "assignAssessor" in not_now[2]
    assert not_theirs[0] == 1 and "403 FORBIDDEN" in not_theirs[2]
    assert not_theirs[1]["status"] == 403 and not_theirs[1]["error"] == "FORBIDDEN"  # JSON for programs


def test_operators_terminate_and_an_unreachable_api_exits_3(local: LocalHttp):
    assert accu(local, "workflow", "start", "project", "--id", "cli-ended", "--input", PROJECT, *ALICE)[0] == 0
    code, ended, _ = accu(local, "workflow", "terminate", "cli-ended", "--reason", "a test")
    assert code == 0 and ended["executionStatus"] == "TERMINATED"

    done = subprocess.run(
        [str(ACCU), "workflow", "show", "x", "--api-url", "http://127.0.0.1:9"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 3 and "no answer from the API" in done.stderr


def test_operators_list_the_escalated_workflows_with_the_command(local: LocalHttp):
    # Given a project an operator escalated, and one nobody escalated
    assert accu(local, "workflow", "start", "project", "--id", "cli-escalated", "--input", PROJECT, *ALICE)[0] == 0
    assert accu(local, "workflow", "start", "project", "--id", "cli-calm", "--input", PROJECT, *ALICE)[0] == 0
    code, escalated, _ = accu(local, "workflow", "escalate", "cli-escalated", "--reason", "a test")
    assert code == 0 and escalated["escalationLevel"] == 1

    # When the operator lists the escalated projects with the command
    code, listed, _ = accu(local, "workflow", "list", "--escalated", "--type", "project", "--all")

    # Then the escalated one is there and the other is not
    ids = [item["workflowId"] for item in listed["items"]]
    assert code == 0 and "cli-escalated" in ids and "cli-calm" not in ids, listed
    assert all(item["escalationLevel"] > 0 and item["executionStatus"] == "RUNNING" for item in listed["items"])


def test_the_local_platform_s_clock_schedules_faults_events_metrics_and_report_through_the_command(tmp_path: Path):
    # A platform of its own: the test skips its time
    process = start_local_platform(tmp_path)
    try:
        local = LocalHttp(process.api_url, tmp_path / "outbox", process.aws_url, process.log)
        assert accu(local, "workflow", "start", "project", "--id", "cli-clock", "--input", PROJECT, *ALICE)[0] == 0

        # When a day and a half is skipped, a schedule run, a fault added and cleared
        code, before, _ = accu(local, "local", "clock")
        code, advanced, _ = accu(local, "local", "clock", "advance", "1d12h")
        assert code == 0 and advanced["advancedSeconds"] == 129600
        code, ran, _ = accu(local, "local", "schedules", "run", "HealthCheck")
        assert code == 0 and ran["schedule"] == "HealthCheck"
        code, added, _ = accu(
            local, "local", "faults", "--add", '{"activity": "OpenWait", "count": 1, "kind": "transient"}'
        )
        assert code == 0 and added["items"][0]["activity"] == "OpenWait"
        assert accu(local, "local", "faults", "--clear")[1]["items"] == []

        # Then the clock, the events, the metrics and the day's report say what happened
        code, after, _ = accu(local, "local", "clock")
        elapsed = datetime.fromisoformat(after["now"]) - datetime.fromisoformat(before["now"])
        assert elapsed.total_seconds() >= 129600
        code, events, _ = accu(local, "local", "events", "--workflow", "cli-clock")
        assert [event["detail-type"] for event in events["items"]] == ["Workflow Started"]
        code, totals, _ = accu(local, "metrics", "--type", "project")
        assert code == 0 and totals["byType"]["project"]["total"] == 1
        code, checked, _ = accu(local, "health")
        assert (
            code == 0
            and checked["healthy"]
            and {c["check"] for c in checked["checks"]}
            == {
                "failureRate",
                "runningWorkflows",
                "stalledWorkflows",
            }
        )
        # (a workflow failing for good: one of two failed is over the 10 % failure-rate threshold, exit 1)
        accu(local, "local", "faults", "--add", '{"activity": "OpenWait", "count": 5, "kind": "permanent"}')
        assert accu(local, "workflow", "start", "project", "--id", "cli-failing", "--input", PROJECT, *ALICE)[0] == 0
        for _ in range(100):
            if accu(local, "workflow", "show", "cli-failing")[1]["executionStatus"] == "FAILED":
                break
            time.sleep(0.2)
        accu(local, "local", "faults", "--clear")
        code, checked, _ = accu(local, "health")
        failing = [check["check"] for check in checked["checks"] if not check["ok"]]
        assert code == 1 and not checked["healthy"] and failing == ["failureRate"], checked
        # (the day it started, by date: a day and a half from the afternoon crosses two midnights)
        start_day = before["now"][:10]
        code, report, _ = accu(local, "report", "daily", start_day)
        assert code == 0 and (report["date"], report["totals"]["started"]) == (start_day, 1), report
        code, latest, _ = accu(local, "report", "daily")  # by default yesterday's, by the platform's clock
        yesterday = datetime.fromisoformat(after["now"]).date() - timedelta(days=1)
        assert code == 0 and latest["date"] == yesterday.isoformat(), latest

        # And a duration the command cannot read is a usage error
        done = subprocess.run(
            [str(ACCU), "local", "clock", "advance", "soon", "--api-url", local.base],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 2 and "is not a duration" in done.stderr
    finally:
        process.stop()
