"""The funder's period report (program_reports.funder) off the rows kept for it (models.funder_days) and the activity
days (models.activity): four statements (people engaged, whether the activity days are kept, forums held and custom
notifications, the caseload) summing a few thousand small rows at most, whatever the number of participants.

The window's days [a, b] (either end open) are cut into its full months, read at month grain, and the days of the
partial months at its ends, read at day grain; a person engaged in it is a row with a <= day <= b and since < a,
read as since in a month before a's (month grain) or in a's month before a (day grain). With `from` open, the rows
of each person's first engagement (since NO_DAY) up to b."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ceasefire.models import ActivityDay, FunderCount
from ceasefire.models import activity as activity_days
from ceasefire.models.base import months_and_days
from ceasefire.models.funder_days import CASELOAD, ENGAGED, ENGAGEMENTS, NO_DAY, WAYS, month
from ceasefire.services.report_window import Window


def _day_ends(window: Window) -> tuple[date | None, date | None]:
    """The window's first and last program days as its moments say (None: open)."""
    first = window.start if window.start_at is not None else None
    last = window.end if window.end_at is not None else None
    return first, last


def _split(first: date | None, last: date | None) -> list[tuple[str, list]]:
    """The days [first, last] (None: open) as pieces of FunderCount rows: (grain of day, conditions on its day)."""
    return months_and_days(FunderCount.day, first, last)


def _engaged_pieces(first: date | None, last: date | None) -> list[sa.Select]:
    """Selects of (measure, n) whose sum by measure is each way's people engaged in [first, last]."""
    c = FunderCount
    if first == date.min:
        first = None
    if first is None:
        since = [("m", [c.since == NO_DAY])]
    else:
        since = [("m", [c.since < month(first)]), ("d", [c.since >= month(first), c.since < first])]
    return [
        sa.select(c.measure, c.n).where(c.measure.in_(ENGAGEMENTS), c.grain == day_grain + since_grain, *days, *when)
        for day_grain, days in _split(first, last) for since_grain, when in since
    ]


def _engaged(session: Any, first: date | None, last: date | None) -> dict[str, int]:
    found = dict.fromkeys(ENGAGEMENTS, 0)
    selects = _engaged_pieces(first, last)
    if selects:
        rows = sa.union_all(*selects).subquery("pieces")
        for measure, n in session.execute(
                sa.select(rows.c.measure, sa.func.sum(rows.c.n)).group_by(rows.c.measure)):
            found[measure] = int(n or 0)
    return found


def _within(column: Any, first: date | None, last: date | None) -> Any:
    conditions = ([] if first is None else [column >= first]) + ([] if last is None else [column <= last])
    return sa.and_(*conditions) if conditions else sa.true()


def _caseload(session: Any, window: Window, first: date | None, last: date | None) -> dict[str, Any]:
    """Each caseload measure summed before the window (when it has a start), over its days (identified_on's
    window) and over the days of its moments (the closings'), each off the months and days it covers."""
    c = FunderCount
    start = window.start if window.start_at is not None else None
    ranges = {"days": (window.start, window.end), "moments": (first, last)}
    if start is not None:
        ranges["before"] = (None, start - timedelta(days=1)) if start > date.min else (date.max, date.min)
    selects = [
        sa.select(sa.literal(label).label("range"), c.measure, c.n)
        .where(c.measure.in_(CASELOAD), c.grain == grain, *days)
        for label, (low, high) in ranges.items() for grain, days in _split(low, high)
    ]
    sums: dict[tuple[str, str], int] = {}
    if selects:
        rows = sa.union_all(*selects).subquery("pieces")
        sums = {(label, measure): int(n or 0) for label, measure, n in session.execute(
            sa.select(rows.c.range, rows.c.measure, sa.func.sum(rows.c.n)).group_by(rows.c.range, rows.c.measure))}

    def of(label: str, measure: str) -> int:
        return sums.get((label, measure), 0)

    carried = 0
    if start is not None:
        carried = of("before", "identified") - (of("before", "closed_from") - of("before", "closed_until"))
    return {"carried": carried, "new": of("days", "identified"), "closed": of("moments", "closings"),
            "days": of("moments", "closing_days")}


def _implementation(session: Any, first: date | None, last: date | None, counted: list) -> dict[str, int]:
    """Forums held and custom notifications: off the activity days when they are kept in the program's zone, else
    `counted`'s (name, select) counted."""
    names = [name for name, _s in counted]
    if not activity_days.kept(session):
        row = session.execute(sa.select(*[select.scalar_subquery() for _n, select in counted])).one()
        return dict(zip(names, row, strict=True))
    kept = ActivityDay
    found = dict(session.execute(
        sa.select(kept.measure, sa.func.sum(kept.n))
        .where(kept.measure.in_(names), _within(kept.day, first, last)).group_by(kept.measure)
    ).all())
    return {name: int(found.get(name) or 0) for name in names}


def report(session: Any, window: Window, implementation: list) -> dict[str, Any]:
    """The funder's report before suppression, as program_reports.funder counts it."""
    first, last = _day_ends(window)
    engaged = _engaged(session, first, last)
    done = _implementation(session, first, last, implementation)
    case = _caseload(session, window, first, last)
    closed = case["closed"]
    return {
        "engaged": engaged[ENGAGED],
        "engaged_by": {way: engaged[way] for way in WAYS},
        "implementation": done,
        "caseload": {"carried_over": case["carried"], "new": case["new"], "total": case["carried"] + case["new"]},
        "cases_closed": closed,
        "average_days_to_closure": round(case["days"] / closed, 1) if closed else None,
    }
