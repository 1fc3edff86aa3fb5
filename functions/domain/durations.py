"""ISO-8601 durations of fixed length (weeks, days, hours, minutes, seconds), as reminders use."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d{1,6})W)?(?:(?P<days>\d{1,6})D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d{1,6})H)?(?:(?P<minutes>\d{1,6})M)?(?:(?P<seconds>\d{1,6}(?:\.\d{1,6})?)S)?)?$"
)

# The same durations as a pattern without look-arounds, for schemas (JSON Schema, pydantic's regex).
_NUMBER, _SECONDS = r"\d{1,6}", r"\d{1,6}(?:\.\d{1,6})?S"
_DATE_PART = rf"(?:{_NUMBER}W(?:{_NUMBER}D)?|{_NUMBER}D)"
_TIME_PART = rf"T(?:{_NUMBER}H(?:{_NUMBER}M)?(?:{_SECONDS})?|{_NUMBER}M(?:{_SECONDS})?|{_SECONDS})"
DURATION_PATTERN = rf"^P(?:{_DATE_PART}(?:{_TIME_PART})?|{_TIME_PART})$"


def parse_duration(text: str) -> timedelta:
    """``P14D``, ``P2W``, ``PT36H``, ``P1DT12H``... Years and months have no fixed length: use days."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(
            f"{text!r} is not an ISO-8601 duration of weeks, days, hours, minutes or seconds (e.g. P14D, PT36H)"
        )
    parts = {name: float(value) for name, value in match.groupdict().items() if value}
    return timedelta(**parts)
