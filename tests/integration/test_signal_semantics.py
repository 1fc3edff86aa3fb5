"""Signal semantics (DESIGN §4): exactly once under concurrency, kept between waits and applied in
order, Idempotency-Key retries answer the first answer."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from infra.local.faults import Fault
from tests.support.actors import APPLICATION_INPUT, PROJECT_INPUT
from tests.support.scenarios import active_project, application_in, to_issuance


def test_twenty_concurrent_identical_signals_apply_exactly_once(platform, applicant, reviewer, approver):
    # Given a submitted application whose wait is open
    application_in("SUBMITTED", "app-race", applicant, reviewer, approver, platform)

    # When twenty reviewers' requests assign a reviewer at the same moment
    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(lambda _: reviewer.signal("app-race", "assignReviewer"), range(20)))

    # Then exactly one is applied; the others are told the state moved on
    codes = sorted(code for code, _ in answers)
    assert codes == [200] + [409] * 19
    assert all(
        body["awaiting"] == ["validateMethodology", "approveApplication", "rejectApplication", "updateMetadata"]
        for code, body in answers
        if code == 409
    )
    platform.settle()
    history = applicant.history("app-race")[1]["items"]
    assert [event["signal"] for event in history].count("assignReviewer") == 1
    state = applicant.get("app-race")[1]
    assert (state["status"], state["version"], state["historyLength"]) == ("UNDER_REVIEW", 3, 3)


def test_concurrent_different_signals_leave_one_consistent_outcome(platform, applicant, reviewer, approver):
    # Given an application under review with a validated methodology
    application_in("UNDER_REVIEW", "app-decide", applicant, reviewer, approver, platform)
    reviewer.signal("app-decide", "validateMethodology")

    # When approval and rejection race
    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(
            pool.map(
                lambda index: (
                    approver.signal("app-decide", "approveApplication")
                    if index % 2
                    else approver.signal("app-decide", "rejectApplication", {"reason": "late"})
                ),
                range(10),
            )
        )

    # Then exactly one decision was applied
    assert sorted(code for code, _ in answers).count(200) == 1
    platform.settle()
    decisions = [
        e
        for e in applicant.history("app-decide")[1]["items"]
        if e["signal"] in ("approveApplication", "rejectApplication")
    ]
    assert len(decisions) == 1
    assert applicant.get("app-decide")[1]["status"] == decisions[0]["toStatus"]


@pytest.mark.parametrize("platform", [{"signal_apply_wait_seconds": 0.2}], indirect=True)
def test_signals_sent_while_no_wait_is_open_are_kept_and_applied_in_arrival_order(
    platform, applicant, reviewer, approver
):
    # Given a draft application whose next wait cannot open yet (its activity fails transiently,
    # so the state machine is backing off between retries)
    platform.faults.add(Fault(count=1, kind="transient", activity="OpenWait", workflow_type="accu-application"))
    code, _ = applicant.start("app-between")
    assert code == 201
    platform.settle()
    assert applicant.get("app-between")[1]["status"] == "DRAFT"

    # When two signals arrive before the wait opens
    first = applicant.signal("app-between", "submitApplication")
    second = reviewer.signal("app-between", "assignReviewer", {"reviewerId": "rita"})

    # Then both are accepted and kept (202), nothing is applied yet
    assert (first[0], second[0]) == (202, 202)
    assert first[1]["queued"] is True and second[1]["signalSequence"] == first[1]["signalSequence"] + 1
    assert applicant.get("app-between")[1]["status"] == "DRAFT"

    # And when the retry opens the wait, they are applied in the order they arrived
    platform.advance(120)
    state = applicant.get("app-between")[1]
    assert state["status"] == "UNDER_REVIEW" and state["reviewerId"] == "rita"
    applied = [e["signal"] for e in applicant.history("app-between")[1]["items"] if e["signal"]]
    assert applied == ["submitApplication", "assignReviewer"]


def test_a_signal_invalid_for_the_state_it_will_meet_is_refused_at_once(platform, applicant, reviewer, approver):
    # Given a draft whose wait cannot open yet
    platform.faults.add(Fault(count=1, kind="transient", activity="OpenWait", workflow_type="accu-application"))
    applicant.start("app-between-bad")
    platform.settle()

    # When a signal arrives that is not valid after the ones already kept
    code, error = approver.signal("app-between-bad", "issueCertificate")

    # Then it is refused with what is awaited, and nothing is kept
    assert (code, error["error"]) == (409, "SIGNAL_NOT_ALLOWED")
    assert error["awaiting"] == ["submitApplication", "updateMetadata"]
    platform.advance(120)
    assert applicant.get("app-between-bad")[1]["status"] == "DRAFT"
    assert applicant.history("app-between-bad")[1]["items"][-1]["type"] == "STARTED"


def test_a_retry_with_the_same_idempotency_key_returns_the_first_answer(platform, applicant, reviewer, approver):
    # Given a submitted application
    application_in("SUBMITTED", "app-idem", applicant, reviewer, approver, platform)
    key = {"Idempotency-Key": "assign-once-1"}

    # When the same request is sent twice with one key
    first = reviewer.signal("app-idem", "assignReviewer", {}, headers=key)
    platform.settle()
    again = reviewer.signal("app-idem", "assignReviewer", {}, headers=key)

    # Then both answers are the first one, and it was applied once
    assert first[0] == again[0] == 200
    assert first[1] == again[1]
    assert [e["signal"] for e in applicant.history("app-idem")[1]["items"]].count("assignReviewer") == 1

    # And the key used for another request is refused
    code, error = reviewer.signal("app-idem", "assignReviewer", {"reviewerId": "someone-else"}, headers=key)
    assert (code, error["error"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    # While a new key for the same (now invalid) signal gets the ordinary answer
    assert reviewer.signal("app-idem", "assignReviewer", {}, headers={"Idempotency-Key": "k2"})[0] == 409


def test_a_start_retried_with_its_idempotency_key_is_not_a_duplicate(platform, applicant):
    # Given a start request with an Idempotency-Key
    body = {
        "type": "accu-application",
        "workflowId": "app-start-idem",
        "input": {"projectId": "p", "unitsRequested": 5, "methodologyId": "m"},
    }
    applicant.start("p", "project", PROJECT_INPUT)  # the applicant's own project
    first = applicant.call("POST", "/workflows", body, headers={"Idempotency-Key": "start-1"})

    # When the client retries it, and when another request reuses the id without the key
    again = applicant.call("POST", "/workflows", body, headers={"Idempotency-Key": "start-1"})
    duplicate = applicant.call("POST", "/workflows", body)

    # Then the retry answers the first answer and the duplicate is refused
    assert first[0] == again[0] == 201 and first[1] == again[1]
    assert (duplicate[0], duplicate[1]["error"]) == (409, "WORKFLOW_ALREADY_STARTED")


def test_idempotency_keys_on_start_and_terminate_belong_to_their_caller(platform, applicant, operator):
    applicant.start("p-keys", "project", PROJECT_INPUT)
    body = {
        "type": "accu-application",
        "workflowId": "app-keys",
        "input": {"projectId": "p-keys", "unitsRequested": 5, "methodologyId": "m"},
    }
    key = {"Idempotency-Key": "shared-key"}
    assert applicant.call("POST", "/workflows", body, headers=key)[0] == 201
    # the same key with another start body is refused, and starts nothing
    other = {**body, "workflowId": "app-keys-2"}
    code, error = applicant.call("POST", "/workflows", other, headers=key)
    assert (code, error["error"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    assert applicant.get("app-keys-2")[0] == 404
    # another caller's identical key is theirs: a request of its own, not a reuse
    platform.settle()
    first = operator.call("POST", "/workflows/app-keys/terminate", {"reason": "duplicate"}, headers=key)
    again = operator.call("POST", "/workflows/app-keys/terminate", {"reason": "duplicate"}, headers=key)
    # and a terminate retried with its key answers its first answer, terminating once
    assert first[0] == again[0] == 200 and first[1] == again[1]
    events = [event["type"] for event in operator.history("app-keys")[1]["items"]]
    assert events.count("TERMINATED") == 1
    # without the key, the second terminate is the ordinary answer for a closed workflow
    assert operator.call("POST", "/workflows/app-keys/terminate", {"reason": "duplicate"})[0] == 409


@pytest.mark.parametrize("platform", [{"signal_apply_wait_seconds": 0.2}], indirect=True)
def test_a_kept_signal_that_no_longer_holds_when_applied_is_recorded_as_rejected(
    platform, applicant, reviewer, approver
):
    import boto3

    from functions.dal.dynamodb import SIGNAL_PREFIX, workflow_pk
    from infra.local.platform import WORKFLOWS_TABLE
    from tests.support.scenarios import active_project, drive

    # Given a project with 100 units, and two applications for all of them, both under review
    active_project(platform, applicant, reviewer, approver, "proj-kept", units=100)
    for workflow_id in ("app-kept-a", "app-kept-b"):
        application_in("SUBMITTED", workflow_id, applicant, reviewer, approver, platform, "proj-kept")
    drive(platform, "app-kept-a", [(reviewer, "assignReviewer", {}), (reviewer, "validateMethodology", {})])
    # (b's wait under review cannot open yet: its activity fails once, and its retry backs off)
    platform.faults.add(Fault(count=1, kind="transient", activity="OpenWait", workflow_type="accu-application"))
    assert reviewer.signal("app-kept-b", "assignReviewer")[0] == 200
    platform.settle()
    assert reviewer.signal("app-kept-b", "validateMethodology")[0] == 200

    # When b's approval is kept (the units are there now), then a's is applied and issued, taking them
    code, kept = approver.signal("app-kept-b", "approveApplication")
    assert (code, kept["queued"]) == (202, True)
    drive(platform, "app-kept-a", [(approver, "approveApplication", {}), (approver, "issueCertificate", {})])
    assert applicant.get("proj-kept")[1]["availableUnits"] == 0

    # Then when b's wait opens, its kept approval no longer holds: recorded as rejected, naming the rule
    platform.advance(120)
    state = applicant.get("app-kept-b")[1]
    assert (state["status"], state["executionStatus"]) == ("UNDER_REVIEW", "RUNNING")
    assert "approveApplication" not in [event["signal"] for event in applicant.history("app-kept-b")[1]["items"]]
    record = boto3.client("dynamodb").get_item(
        TableName=WORKFLOWS_TABLE,
        Key={"pk": {"S": workflow_pk("app-kept-b")}, "sk": {"S": f"{SIGNAL_PREFIX}{kept['signalSequence']:010d}"}},
    )["Item"]
    assert record["queueStatus"]["S"] == "REJECTED"
    assert "projectUnitsAvailable" in str(record["error"])
    # and the application still takes what it awaits
    assert approver.signal("app-kept-b", "rejectApplication", {"reason": "no units left"})[0] == 200


@pytest.mark.parametrize("platform", [{"frozen_clock": False, "signal_apply_wait_seconds": 0.3}], indirect=True)
def test_under_load_with_slow_waits_no_valid_signal_is_refused_and_none_is_lost(
    platform, applicant, reviewer, approver
):
    # Given an active project, and applications whose waits open late half of the time (1 s, longer
    # than a signal waits for a wait to open: the signals that meet a closed wait are kept)
    active_project(platform, applicant, reviewer, approver, units=100_000)
    platform.faults.add(
        Fault(kind="delay", seconds=1.0, rate=0.5, seed=11, activity="OpenWait", workflow_type="accu-application")
    )
    steps = to_issuance(applicant, reviewer, approver)

    # When 8 clients each drive 2 applications from start to issuance, each request sent once the
    # one before it answered
    def client(number: int) -> list[tuple[str, int, object]]:
        answers = []
        for lifecycle in range(2):
            workflow_id = f"load-{number}-{lifecycle}"
            code, body = applicant.start(workflow_id, input={**APPLICATION_INPUT, "unitsRequested": 10})
            answers.append((workflow_id, code, body))
            for sender, signal, payload in steps:
                code, body = sender.signal(workflow_id, signal, payload)
                answers.append((f"{workflow_id} {signal}", code, body))
        return answers

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = [answer for answers in pool.map(client, range(8)) for answer in answers]

    # Then no valid signal was refused, some were kept for a wait that opened late,
    refused = [answer for answer in answers if answer[1] not in (200, 201, 202)]
    assert refused == [], [
        (
            answer,
            [answer_[:2] for answer_ in answers if answer_[0].split()[0] == answer[0].split()[0]],
            applicant.history(answer[0].split()[0])[1]["items"],
        )
        for answer in refused
    ]
    assert sum(1 for answer in answers if answer[1] == 202) > 0
    # and every application was issued, each signal applied exactly once, in the order sent
    workflow_ids = [f"load-{number}-{lifecycle}" for number in range(8) for lifecycle in range(2)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(applicant.get(w)[1]["status"] != "ISSUED" for w in workflow_ids):
        time.sleep(0.2)
    for workflow_id in workflow_ids:
        assert applicant.get(workflow_id)[1]["status"] == "ISSUED", workflow_id
        events = applicant.history(workflow_id)[1]["items"]
        assert [event["signal"] for event in events] == [None, *(signal for _, signal, _ in steps)]
        assert [event["sequence"] for event in events] == list(range(1, len(steps) + 2))
    assert applicant.get("project-1")[1]["availableUnits"] == 100_000 - 16 * 10
