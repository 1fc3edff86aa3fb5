"""The local scheduler reads the catalog's schedule expressions as EventBridge Scheduler does (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.catalog import SCHEDULES
from infra.local.scheduler import next_fire

ORIGIN = datetime(2026, 11, 25, 9, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("rate(5 minutes)", ORIGIN, datetime(2026, 11, 25, 9, 8, tzinfo=UTC)),
        ("rate(5 minutes)", datetime(2026, 11, 25, 9, 8, tzinfo=UTC), datetime(2026, 11, 25, 9, 13, tzinfo=UTC)),
        ("rate(1 hour)", datetime(2026, 11, 25, 11, 0, tzinfo=UTC), datetime(2026, 11, 25, 11, 3, tzinfo=UTC)),
        ("cron(5 0 * * ? *)", ORIGIN, datetime(2026, 11, 26, 0, 5, tzinfo=UTC)),
        ("cron(5 0 * * ? *)", datetime(2026, 11, 26, 0, 4, tzinfo=UTC), datetime(2026, 11, 26, 0, 5, tzinfo=UTC)),
        ("cron(5 0 * * ? *)", datetime(2026, 11, 26, 0, 5, tzinfo=UTC), datetime(2026, 11, 27, 0, 5, tzinfo=UTC)),
    ],
)
def test_next_fire_follows_rates_from_the_start_and_crons_by_the_utc_clock(expression, after, expected):
    assert next_fire(expression, after, ORIGIN) == expected


def test_every_catalog_schedule_is_readable_and_unknown_forms_are_refused():
    for schedule in SCHEDULES:
        assert next_fire(schedule.expression, ORIGIN, ORIGIN) > ORIGIN
    with pytest.raises(ValueError):
        next_fire("cron(0 12 ? * MON-FRI *)", ORIGIN, ORIGIN)
