"""Every recommendation of the daily report (README, Operations), each from the figures that call for it."""

from __future__ import annotations

from typing import Any

import pytest

from functions.domain.operations import Thresholds, recommendations

THRESHOLDS = Thresholds(failure_rate=0.10, running=100, stalled_hours=24)
QUIET_TYPE = {"started": 1, "completed": 1, "failed": 0, "terminated": 0, "running": 1, "byStatus": {}}


def report(**changes: Any) -> dict[str, Any]:
    """A day within every threshold, with ``changes``."""
    base: dict[str, Any] = {
        "totals": {
            "started": 1,
            "completed": 1,
            "failed": 0,
            "terminated": 0,
            "running": 1,
            "escalations": 0,
            "retries": 0,
        },
        "failureRate": 0.0,
        "byType": {"accu-application": dict(QUIET_TYPE), "project": dict(QUIET_TYPE)},
    }
    for key, value in changes.items():
        if key in base["totals"]:
            base["totals"][key] = value
        else:
            base[key] = value
    return base


@pytest.mark.parametrize(
    ("figures", "advice"),
    [
        (
            {
                "failureRate": 0.25,
                "byType": {"accu-application": {**QUIET_TYPE, "failed": 1}, "project": {**QUIET_TYPE, "failed": 3}},
            },
            "Failure rate 25.0% is over 10%: look at the failed project workflows first",
        ),
        ({"running": 101}, "101 workflows are running (over 100): check reviewer capacity"),
        ({"escalations": 2}, "2 escalation(s) yesterday: assign owners to the escalated workflows."),
        ({"retries": 1}, "1 automatic retry: a dependency may be flaky"),
        ({"retries": 3}, "3 automatic retries: a dependency may be flaky"),
        (
            {
                "byType": {
                    "accu-application": {**QUIET_TYPE, "started": 2, "completed": 0, "running": 5},
                    "project": dict(QUIET_TYPE),
                }
            },
            "accu-application: more workflows are piling up than finishing; review the backlog.",
        ),
        (
            {
                "started": 0,
                "byType": {
                    "accu-application": {**QUIET_TYPE, "started": 0, "completed": 0},
                    "project": {**QUIET_TYPE, "started": 0, "completed": 0},
                },
            },
            "No workflow started or completed: check that clients can reach the API.",
        ),
    ],
)
def test_each_figure_over_its_mark_brings_its_advice_and_only_then(figures: dict[str, Any], advice: str) -> None:
    # Given a day with one figure over its mark, when the report advises, then that advice is given
    given = recommendations(report(**figures), THRESHOLDS)
    assert any(line.startswith(advice) for line in given), given
    # and the quiet day does not give it
    assert not any(line.startswith(advice) for line in recommendations(report(), THRESHOLDS))


def test_a_quiet_day_needs_no_action() -> None:
    assert recommendations(report(), THRESHOLDS) == ["All figures are within their thresholds: no action needed."]
