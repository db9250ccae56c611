"""The program's own day: API.md's "today" and a forum's date are read in the TIMEZONE setting's zone."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from ceasefire.models.base import program_zone, today


def zone() -> ZoneInfo:
    return program_zone()


def program_today() -> date:
    return today()


def local_date(moment: datetime, here: ZoneInfo | None = None) -> date:
    """A moment's day in the program's zone (`here`, when the caller has read it once for many moments)."""
    try:
        return moment.astimezone(here or zone()).date()
    except OverflowError:  # a time at the very edge of year 1 or 9999
        return moment.date()
