"""``accu workflow`` as a user runs it, the installed command against the local platform's REST API:
answers parsed back from JSON, refusals with the API's status, code, message and details, and exit
status 1 for each."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

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
