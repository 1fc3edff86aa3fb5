"""ISO-8601 durations of fixed length (weeks, days, hours, minutes, seconds), as reminders use."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(text: str) -> timedelta:
    """``P14D``, ``P2W``, ``PT36H``, ``P1DT12H``... Years and months have no fixed length: use days."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(
            f"{text!r} is not an ISO-8601 duration of weeks, days, hours, minutes or seconds (e.g. P14D, PT36H)"
        )
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    return timedelta(**parts)
