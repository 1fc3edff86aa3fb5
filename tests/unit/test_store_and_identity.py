"""Pure pieces of the data access and identity: counter deltas, page tokens, group claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.dal.dynamodb import (
    WorkflowStore,
    as_day_counters,
    as_type_counters,
    counter_deltas,
    daily_deltas,
    decode_token,
    encode_token,
)
from functions.domain import workflow as rules
from functions.domain.errors import ValidationFailed
from functions.domain.identity import Identity, parse_groups
from functions.domain.lifecycle import SignalContext
from functions.domain.lifecycles.accu_application import LIFECYCLE
from functions.service.ports import ListFilter

NOW = datetime(2026, 11, 25, tzinfo=UTC)
ALICE = Identity("alice", frozenset({"applicants"}))


def test_counters_move_with_status_and_execution_status():
    start = rules.start(LIFECYCLE, "a", {"projectId": "p", "unitsRequested": 1, "methodologyId": "m"}, ALICE, NOW)
    assert counter_deltas(start) == {"total": 1, "status_DRAFT": 1, "exec_RUNNING": 1}
    context = SignalContext(ALICE, NOW + timedelta(hours=2), LIFECYCLE.default_timeouts())
    submit = rules.apply_signal(LIFECYCLE, start.after, "submitApplication", {}, context)
    assert counter_deltas(submit) == {"status_DRAFT": -1, "status_SUBMITTED": 1}
    terminate = rules.terminate(submit.after, NOW + timedelta(hours=2), "olga", "test")
    assert counter_deltas(terminate) == {
        "exec_RUNNING": -1,
        "exec_TERMINATED": 1,
        "closedCount": 1,
        "closedSeconds": 7200.0,
    }
    metadata = rules.apply_signal(LIFECYCLE, submit.after, "updateMetadata", {"metadata": {"a": 1}}, context)
    assert counter_deltas(metadata) == {}


def test_stored_counters_read_back_as_the_totals_of_a_type_and_of_a_day():
    # Given a start, a submit and a termination, their deltas added up as the table adds them
    start = rules.start(LIFECYCLE, "a", {"projectId": "p", "unitsRequested": 1, "methodologyId": "m"}, ALICE, NOW)
    context = SignalContext(ALICE, NOW + timedelta(hours=1), LIFECYCLE.default_timeouts())
    submit = rules.apply_signal(LIFECYCLE, start.after, "submitApplication", {}, context)
    terminate = rules.terminate(submit.after, NOW + timedelta(hours=2), "olga", "test")
    stored: dict[str, float] = {}
    day: dict[str, float] = {}
    for transition in (start, submit, terminate):
        for name, amount in counter_deltas(transition).items():
            stored[name] = stored.get(name, 0) + amount
        for name, amount in daily_deltas(transition).items():
            day[name] = day.get(name, 0) + amount

    # When they are read back
    totals, today = as_type_counters(stored), as_day_counters(day)

    # Then they say it in the domain's terms
    assert (totals.total, totals.running, totals.failed, totals.closed_count) == (1, 0, 0, 1)
    assert totals.by_status == {"DRAFT": 0, "SUBMITTED": 1}
    assert totals.by_execution_status == {"RUNNING": 0, "TERMINATED": 1}
    assert (today.started, today.started_by_type, today.closed) == (1, {"accu-application": 1}, {"TERMINATED": 1})
    assert today.closed_of("TERMINATED", "accu-application") == 1 and today.closed_seconds == 7200.0


@pytest.mark.parametrize(
    ("wanted", "partitions", "filters"),
    [
        (ListFilter(("a", "b")), [("byType", "a"), ("byType", "b")], {}),
        (ListFilter(("a",), status="DRAFT"), [("byStatus", "a#DRAFT")], {}),
        (
            ListFilter(("a",), status="DRAFT", execution_status="RUNNING"),
            [("byStatus", "a#DRAFT")],
            {"executionStatus": "RUNNING"},
        ),
        (
            ListFilter(("a", "b"), execution_status="FAILED"),
            [("byExecutionStatus", "a#FAILED"), ("byExecutionStatus", "b#FAILED")],
            {},
        ),
        (ListFilter(("a", "b"), started_by="alice"), [("byOwner", "alice")], {}),
        (
            ListFilter(("a",), status="DRAFT", started_by="alice"),
            [("byOwner", "alice")],
            {"type": "a", "status": "DRAFT"},
        ),
    ],
)
def test_a_listing_reads_the_narrowest_index_for_its_filter(wanted, partitions, filters):
    assert WorkflowStore._listing_plan(wanted) == (partitions, filters)


def test_page_tokens_round_trip_and_garbage_or_another_listings_token_is_a_validation_error():
    assert decode_token(encode_token({"below": "x#y"}), "below", str) == "x#y"
    assert decode_token(encode_token({"after": 50}), "after", int) == 50
    assert decode_token(None, "below", str) is None
    history_token, listing_token = encode_token({"after": 50}), encode_token({"below": "x#y"})
    for garbage, position, kind in [
        ("%%%", "below", str),
        ("bm90IGpzb24", "below", str),
        ("WzEsMl0=", "after", int),
        (history_token, "below", str),  # a history page's token given to a listing
        (listing_token, "after", int),
        (encode_token({"after": True}), "after", int),
    ]:
        with pytest.raises(ValidationFailed):
            decode_token(garbage, position, kind)


@pytest.mark.parametrize(
    ("claim", "groups"),
    [
        ("applicants,reviewers", {"applicants", "reviewers"}),
        ("[applicants reviewers]", {"applicants", "reviewers"}),
        (["operators"], {"operators"}),
        ("", set()),
        (None, set()),
    ],
)
def test_cognito_group_claims_are_read_in_every_shape(claim, groups):
    assert parse_groups(claim) == frozenset(groups)


def test_operators_may_everything_and_applicants_read_only_their_own():
    operator = Identity("olga", frozenset({"operators"}))
    assert operator.may(frozenset({"approvers"})) and operator.may_read("anyone")
    assert not ALICE.may(frozenset({"approvers"}))
    assert ALICE.may_read("alice") and not ALICE.may_read("bob")
