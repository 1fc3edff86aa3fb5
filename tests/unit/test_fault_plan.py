"""The local platform's fault plan: counted faults, faults by rate (seeded, so a run repeats), delays,
and what it refuses."""

from __future__ import annotations

import pytest

from infra.local.faults import COMPLETE_WAIT, Fault, FaultPlan


def hits(plan: FaultPlan, draws: int, activity: str = "OpenWait", workflow_type: str | None = None) -> list[bool]:
    return [plan.take(activity, workflow_type) is not None for _ in range(draws)]


def test_a_counted_fault_hits_the_next_n_matching_invocations_then_is_gone():
    plan = FaultPlan()
    plan.add(Fault(kind="transient", count=3, activity="OpenWait", workflow_type="project"))
    assert hits(plan, 2, "OpenWait", "calendar") == [False, False]
    assert hits(plan, 2, "OnTimeout", "project") == [False, False]
    assert hits(plan, 5, "OpenWait", "project") == [True, True, True, False, False]
    assert plan.pending() == []


def test_a_fault_by_rate_hits_about_that_share_and_repeats_with_its_seed():
    # Given two plans with the same 30 % fault and seed, and one with another seed
    first, again, other = FaultPlan(), FaultPlan(), FaultPlan()
    first.add(Fault(kind="transient", rate=0.3, seed=7))
    again.add(Fault(kind="transient", rate=0.3, seed=7))
    other.add(Fault(kind="transient", rate=0.3, seed=8))

    # When each draws 10,000 times
    drawn = hits(first, 10_000)

    # Then about 30 % are hit, the same ones for the same seed, others for another
    assert 2_800 <= sum(drawn) <= 3_200
    assert hits(again, 10_000) == drawn
    assert hits(other, 10_000) != drawn
    assert first.pending()[0]["hits"] == sum(drawn)


def test_a_fault_by_rate_with_a_count_stops_after_that_many_hits():
    plan = FaultPlan()
    plan.add(Fault(kind="transient", rate=0.5, count=10, seed=1))
    assert sum(hits(plan, 1_000)) == 10
    assert plan.pending() == []


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "transient"},  # neither a count nor a rate: every invocation, forever
        {"kind": "transient", "count": 1, "activity": "MakeCoffee"},
        {"kind": "permanent", "count": 1, "activity": COMPLETE_WAIT},
    ],
)
def test_faults_that_cannot_be_meant_are_refused(fault):
    with pytest.raises(ValueError):
        Fault(**fault)
