"""What every report of API.md shares: its window (`from` and `to`, dates of the program's zone, both inclusive, either
left open), the suppression of small counts for community users, and PostgreSQL's JIT set aside."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.extensions import db
from ceasefire.models import User
from ceasefire.services.clock import zone

SUPPRESSED = "<5"


@dataclass(frozen=True)
class Window:
    """`from` and `to` as dates (both inclusive), and as UTC instants for timestamp columns (end exclusive)."""

    start: date | None = None
    end: date | None = None

    @property
    def start_at(self) -> datetime | None:
        if self.start is None:
            return None
        try:
            return datetime.combine(self.start, time.min, tzinfo=zone()).astimezone(UTC)
        except OverflowError:  # before year 1 in UTC: nothing is earlier, so the end is open
            return None

    @property
    def end_at(self) -> datetime | None:
        if self.end is None or self.end == date.max:
            return None
        try:
            return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=zone()).astimezone(UTC)
        except OverflowError:  # after year 9999 in UTC: nothing is later
            return None

    def moments(self, column) -> list:
        """Conditions putting a timestamp column inside the window."""
        out = []
        if self.start_at is not None:
            out.append(column >= self.start_at)
        if self.end_at is not None:
            out.append(column < self.end_at)
        return out

    def days(self, column) -> list:
        """Conditions putting a date column inside the window."""
        out = []
        if self.start is not None:
            out.append(column >= self.start)
        if self.end is not None:
            out.append(column <= self.end)
        return out


def ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def suppress(value: int) -> int | str:
    """A count a community user gets: 1 to 4 people could be named, so such a count is "<5"."""
    return SUPPRESSED if 0 < value < 5 else value


def without_jit() -> None:
    """PostgreSQL compiles (JIT) a statement whose estimated cost passes jit_above_cost: a report's statements are
    estimated dear at a million participants yet run in a tenth of a second, and compiling one took a second. Off
    for the rest of the transaction (SET LOCAL); nothing to do on SQLite."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))


def suppressed(user: User) -> bool:
    """Whether the user's reports are suppressed (community users): small counts shown as SUPPRESSED."""
    return user.role in policy.REPORT_SUPPRESSED
