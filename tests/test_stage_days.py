"""The pipeline report over a window, read off the kept days of stage entries (ceasefire.models.stage_days), answers
exactly what counting the stage entries gives (what it did before): who entered each stage in the window, a stage
entered once, twice or three times (its middle entry in the window or not), and each step's median and 90th
percentile; over windows open at either end, whole months, parts of months, single days, days of a change of
daylight saving time, windows before and after everything and windows with their ends crossed; in UTC and in two
other zones. Rows kept in another zone are not read (the report counts), until refresh() keeps them there; the
report through the API and its page are the same kept and counted. That the days follow every change is checked
with the stage entries (tests/test_stage_entries.py); the report's statements, fixed at two sizes, in
test_reports.py."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from helpers import Program
from test_stage_entries import _check

from ceasefire.extensions import db
from ceasefire.models import StageDay, StageEntry, StatusChange, stage_days
from ceasefire.models.enums import State
from ceasefire.services import percentiles, reports, stage_report
from ceasefire.services.reports import Window

POINTS = (percentiles.MEDIAN, percentiles.P90)
NARROW = timedelta(microseconds=2**stage_days.NARROW)
ZONES = ("UTC", "America/Los_Angeles", "Pacific/Kiritimati")


def _history(program: Program, *moments: tuple[State, datetime]) -> None:
    """A participant whose history entered each stage at its moment, the first being their creation (rows written
    straight into their history, as a program entering its past would)."""
    person = program.create(first_name="Day")
    db.session.flush()
    first = db.session.scalars(sa.select(StatusChange).where(StatusChange.participant_id == person.id)).one()
    first.at = moments[0][1]
    before = State.IDENTIFIED
    for stage, moment in moments[1:]:
        db.session.add(StatusChange(participant_id=person.id, event="entered", from_state=before, to_state=stage,
                                    at=moment))
        before = stage


def _world(program: Program, rng: random.Random) -> list[datetime]:
    """Some fifty histories over two years around the changes of daylight saving time of 2025 (9 March, 2
    November in Los Angeles), some back to an earlier stage and on again (a stage entered two or three times),
    spans alike by the dozen, on the edges of a narrow bucket, and negative; the moments written."""
    moments = []
    base = datetime(2024, 11, 1, 7, 30, tzinfo=UTC)
    for i in range(48):
        created = base + timedelta(days=rng.randrange(600), hours=rng.randrange(24), minutes=rng.randrange(60))
        if i % 8 == 0:  # on the hour Los Angeles's day and month change
            created = datetime(2025, 3 + i % 5, 1, 8 if i % 16 else 7, 0, tzinfo=UTC) - timedelta(microseconds=i % 3)
        step = [timedelta(days=2), 3 * NARROW, 3 * NARROW - timedelta(microseconds=1), timedelta(hours=-5),
                timedelta(days=rng.randrange(90), seconds=rng.randrange(86_400))][i % 5]
        history = [(State.IDENTIFIED, created), (State.INVITED, created + step)]
        if i % 3:
            history.append((State.ATTENDED, history[-1][1] + timedelta(days=rng.randrange(40), hours=i)))
        if i % 4 == 1:  # a no-show, invited again
            history += [(State.IDENTIFIED, history[-1][1] + timedelta(days=20)),
                        (State.INVITED, history[-1][1] + timedelta(days=50))]
        if i % 6 == 1:  # closed and reopened, a third time identified
            history += [(State.CLOSED, history[-1][1] + timedelta(days=30)),
                        (State.IDENTIFIED, history[-1][1] + timedelta(days=90))]
        if i % 5 == 2:
            history += [(State.SERVICES_OFFERED, history[-1][1] + timedelta(days=3)),
                        (State.ENFORCED, history[-1][1] + timedelta(days=100))]
        _history(program, *history)
        moments += [moment for _stage, moment in history]
    db.session.commit()
    return moments


def _windows(moments: list[datetime], rng: random.Random) -> list[Window]:
    """Windows whose ends fall on the days of the moments and around them, on the first and last days of months,
    on the changes of daylight saving time, open, crossed, and before and after everything."""
    days = sorted({m.date() + timedelta(days=d) for m in moments for d in (-1, 0, 1)}
                  | {date(2025, 3, 9), date(2025, 3, 8), date(2025, 11, 2), date(2025, 11, 1), date(2025, 3, 1),
                     date(2025, 2, 28), date(2025, 12, 31), date(2026, 1, 1), date(2020, 1, 1), date(2030, 1, 1)})
    windows = [Window(date(2025, 1, 1), date(2025, 12, 31)), Window(date(2025, 3, 1), date(2025, 3, 31)),
               Window(date(2025, 3, 9), date(2025, 3, 9)), Window(date(2025, 11, 2), date(2025, 11, 2)),
               Window(date(2025, 3, 9), None), Window(None, date(2025, 11, 1)), Window(date(2020, 1, 1), None),
               Window(None, date(2020, 1, 1)), Window(date(2030, 1, 1), None),
               Window(date(2025, 6, 1), date(2025, 5, 1)), Window(date(2026, 9, 1), date(2025, 2, 1)),  # crossed
               Window(date.min, date(2025, 6, 1)), Window(date(2025, 6, 1), date.max)]
    for _ in range(60):
        start, end = rng.choice(days), rng.choice(days)
        start, end = min(start, end), max(start, end)
        windows.append(rng.choice((Window(start, end), Window(start, end), Window(start, None), Window(None, end))))
    return windows


def _rounded(found: tuple) -> tuple:
    reached, days = found
    return reached, {i: {point: percentiles.rounded(value) for point, value in values.items()}
                     for i, values in days.items() if values}


def _same_as_counted(windows: list[Window]) -> int:
    """Each window's report off the kept days equals the report counted off the stage entries; how many windows
    found somebody."""
    found = 0
    for window in windows:
        kept = stage_report.windowed(window, POINTS)
        assert kept is not None
        counted = _rounded(stage_report.stages_and_days([], window, POINTS))
        assert _rounded(kept) == counted, window
        found += any(counted[0].values())
    db.session.rollback()
    return found


def test_a_window_off_the_kept_days_answers_as_counted_in_every_zone(users, make_app):
    rng = random.Random(21)  # noqa: S311 - test data, not a secret
    program = Program.build(users["supervisor"])
    moments = _world(program, rng)
    windows = _windows(moments, rng)
    _check()
    assert _same_as_counted(windows) > 40
    assert db.session.scalar(sa.select(sa.func.max(StageEntry.entries))) == 3  # a stage entered three times
    for zone in ZONES[1:]:
        app = make_app(TIMEZONE=zone)
        with app.app_context():
            assert not stage_days.kept(db.session)  # kept in UTC: not read here, counted
            assert stage_report.windowed(windows[0], POINTS) is None
            stage_days.refresh(db.session.connection())
            db.session.commit()
            _check()
            assert _same_as_counted(windows) > 40
            db.session.remove()


def test_the_report_reads_the_kept_days_and_answers_as_before_when_they_are_not_kept(users, api_as, client, auth):
    program = Program.build(users["supervisor"])
    _world(program, random.Random(5))  # noqa: S311 - test data, not a secret
    api = api_as(users["supervisor"])
    auth.login(users["supervisor"])
    paths = ["/reports/pipeline?from=2025-01-01&to=2025-12-31", "/reports/pipeline?from=2025-03-09",
             "/reports/pipeline?to=2025-11-02", "/reports/pipeline?from=2025-04-10&to=2025-04-10"]
    kept = [api.get(path) for path in paths]
    assert all(status == 200 for status, _body in kept), kept
    assert kept[0][1]["funnel"][0]["reached"] > 0
    page = client.get("/reports/?date_from=2025-01-01&date_to=2025-12-31").get_data(as_text=True)
    with pytest.MonkeyPatch.context() as patch:
        calls = []
        patch.setattr(reports, "stages_and_days", lambda *args: calls.append(args))
        for path in paths:
            api.get(path)
        assert calls == []  # none counted
    db.session.execute(sa.delete(StageDay).where(StageDay.stage == ""))  # the row saying they are kept
    db.session.commit()
    assert stage_report.windowed(Window(date(2025, 1, 1), None), POINTS) is None
    assert [api.get(path) for path in paths] == kept
    assert client.get("/reports/?date_from=2025-01-01&date_to=2025-12-31").get_data(as_text=True) \
        .split("</main>")[0].split("<main")[1] == page.split("</main>")[0].split("<main")[1]
    stage_days.refresh(db.session.connection())
    db.session.commit()
    assert stage_days.kept(db.session)
    assert [api.get(path) for path in paths] == kept
