"""The pipeline report over the whole history, read off the kept counts of stages and spans
(ceasefire.models.stage_counts), answers exactly what the report counted off the stage entries gives: over spans
that share a narrow bucket by the dozen, spans on a bucket's edges (a microsecond either side), negative spans,
spans years long, every count of spans from 1 up (odd and even, so the median is a value or the mean of two); the
90th percentile too. And when the counts are not kept (rows missing, or buckets that do not add up), the report
counts as before. That the counts follow every change is checked with the stage entries (tests/test_stage_entries.py);
the statements of the home and the report, fixed at two sizes, in test_workspaces.py and test_reports.py."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from helpers import REASONS, Program, counting
from test_stage_entries import _check

from ceasefire.extensions import db
from ceasefire.models import SpanCount, StageCount, StatusChange, stage_counts
from ceasefire.models.base import today
from ceasefire.models.enums import State
from ceasefire.services import percentiles, reports, stage_report
from ceasefire.services.reports import Window

START = datetime(2024, 1, 1, tzinfo=UTC)
NARROW = timedelta(microseconds=2**stage_counts.NARROW)
WIDE = timedelta(microseconds=2**stage_counts.WIDE)
POINTS = (percentiles.MEDIAN, percentiles.P90)


def _person(program: Program, created: datetime, *later: tuple[State, datetime]) -> None:
    """A participant created at `created` whose history then entered each stage of `later` at its moment (rows
    written straight into their history, as a program entering its past would)."""
    person = program.create(first_name="Span")
    db.session.flush()
    first = db.session.scalars(sa.select(StatusChange).where(StatusChange.participant_id == person.id)).one()
    first.at = created
    before = State.IDENTIFIED
    for stage, moment in later:
        db.session.add(StatusChange(participant_id=person.id, event="entered", from_state=before, to_state=stage,
                                    at=moment))
        before = stage


def _funnel(html: str) -> str:
    """The supervisor's home's funnel."""
    match = re.search(r'<section[^>]*aria-labelledby="funnel-h".*?</section>', html, re.S)
    assert match, "no funnel"
    return match.group(0)


def _tokenless(html: str) -> str:
    """A page without its CSRF token (a new one each time)."""
    return re.sub(r'(content|value)="[A-Za-z0-9_.-]{40,}"', "", html)


def _rounded(found: tuple) -> tuple:
    reached, days = found
    return reached, {i: {point: percentiles.rounded(value) for point, value in values.items()}
                     for i, values in days.items()}


def _both() -> tuple:
    """The whole history's report off the kept counts, and counted off the stage entries (what it was before), each
    percentile to the report's one decimal."""
    kept = stage_report.whole_history(POINTS)
    assert kept is not None
    return _rounded(kept), _rounded(stage_report.stages_and_days([], Window(), POINTS))


def test_the_kept_counts_give_the_counted_answers_at_every_size_and_bucket_edge(users):
    rng = random.Random(12)  # noqa: S311 - test data, not a secret
    program = Program.build(users["supervisor"])
    edge = START + 3 * NARROW  # a narrow bucket's edge after creation
    spans = [
        timedelta(days=2),  # the same span a dozen times over (a bulk seed's copies)
        3 * NARROW, 3 * NARROW - timedelta(microseconds=1), 3 * NARROW + timedelta(microseconds=1),  # edges
        WIDE, WIDE - timedelta(microseconds=1), 2 * WIDE,
        -timedelta(hours=5), -NARROW, -timedelta(microseconds=1), timedelta(0),  # negative and none
        timedelta(days=3 * 365, microseconds=7),  # years long
    ]
    checked = 0
    for round_ in range(40):
        span = spans[round_ % len(spans)] if round_ < 2 * len(spans) else timedelta(
            seconds=rng.randrange(-10**5, 10**8), microseconds=rng.randrange(10**6))
        created = edge - NARROW * 3 if round_ % 3 else START + timedelta(minutes=rng.randrange(10**5))
        invited = created + span
        later = [(State.INVITED, invited)]
        if round_ % 2:
            later.append((State.ATTENDED, invited + spans[(round_ * 7) % len(spans)]))
        if round_ % 4 == 1:
            later.append((State.SERVICES_OFFERED, later[-1][1] + timedelta(days=2)))
        for _copy in range(12 if round_ == 0 else 1):
            _person(program, created, *later)
        db.session.commit()
        kept, counted = _both()
        assert kept == counted, round_
        checked += 1
    assert checked == 40
    reached, days = _both()[0]
    assert reached["invited"] == 51
    assert set(days) == {0, 1, 2}


def test_the_report_and_the_home_read_the_kept_counts_and_answer_as_before(users, api_as, client, auth):
    program = Program.build(users["supervisor"])
    for i in range(9):
        created = START + timedelta(days=i, hours=i)
        _person(program, created, (State.INVITED, created + timedelta(days=i % 4, minutes=i)),
                (State.ATTENDED, created + timedelta(days=6, seconds=i)))
    db.session.commit()
    api = api_as(users["supervisor"])
    status, kept = api.get("/reports/pipeline")
    assert status == 200, kept
    assert kept["funnel"][:3] == [{"stage": "identified", "reached": 9}, {"stage": "invited", "reached": 9},
                                  {"stage": "attended", "reached": 9}]
    auth.login(users["supervisor"])
    page = _tokenless(client.get("/reports/").get_data(as_text=True))
    home = _funnel(client.get("/").get_data(as_text=True))
    assert "Invited</span> <strong>9</strong>" in home
    with counting() as statements:
        assert reports.pipeline_funnel(users["supervisor"])["funnel"] == kept["funnel"]
    assert len(statements) == 1  # the kept counts of stages
    # not kept: a stage's row missing; then a bucket's count that does not add up: counted as before, the same
    for spoil in (sa.delete(StageCount).where(StageCount.stage == State.ENFORCED.value),
                  sa.update(SpanCount).where(SpanCount.width == stage_counts.NARROW).values(spans=SpanCount.spans + 1),
                  sa.update(SpanCount).where(SpanCount.width == stage_counts.WIDE).values(spans=SpanCount.spans + 1)):
        if spoil.is_delete:
            db.session.execute(spoil)
        else:
            stage_counts.refresh(db.session.connection())
            db.session.execute(spoil)
        db.session.commit()
        if spoil.is_delete:
            assert stage_report.whole_history(POINTS) is None
            assert stage_report.funnel() is None
        else:
            assert stage_report.whole_history(POINTS) is None
        assert api.get("/reports/pipeline") == (200, kept)
        assert _tokenless(client.get("/reports/").get_data(as_text=True)) == page
        assert _funnel(client.get("/").get_data(as_text=True)) == home
    stage_counts.refresh(db.session.connection())
    db.session.commit()
    assert stage_report.whole_history(POINTS) is not None


def test_a_percentile_is_settled_by_ranges_only_when_every_value_in_them_rounds_to_it():
    """percentiles.settled() against the interpolation of values drawn inside the ranges (their ends included):
    whenever it answers, every such value rounds to its answer, sign of a zero included; ranges across a rounding
    boundary (a tenth and a half, zero) are left to the values."""
    rng = random.Random(3)  # noqa: S311 - test data, not a secret
    day = percentiles.MICROSECONDS_A_DAY
    answered = unsettled = 0
    for _ in range(3000):
        n = rng.randrange(1, 40)
        point = rng.choice((percentiles.MEDIAN, percentiles.P90))
        width = rng.choice((1, 2**20, 2**30, day // 20))
        centre = rng.choice((0, day // 20, day // 10, 3 * day // 20, 5 * day // 4)) * rng.choice((1, -1))
        ranges = {}
        for side in percentiles.positions(n, (point,)):
            start = centre + rng.randrange(-2 * width, 2 * width)
            ranges[side] = (start, start + width - 1)
        value = percentiles.settled(ranges, n, point)
        drawn = [{side: rng.choice((low, high, rng.randrange(low, high + 1))) for side, (low, high) in ranges.items()}
                 for _ in range(20)]
        drawn += [{side: ends[0] for side, ends in ranges.items()}, {side: ends[1] for side, ends in ranges.items()}]
        exact = {repr(percentiles.rounded(percentiles.at_positions(values, n, (point,))[point])) for values in drawn}
        if value is None:
            unsettled += 1
        else:
            answered += 1
            assert exact == {repr(value)}, (ranges, n, point, value, exact)
            assert repr(percentiles.rounded(value)) == repr(value)
    assert answered > 1000
    assert unsettled > 300
    # the ends of a tenth, a microsecond either side: 0.05 days is 4,320 s
    half = day // 20
    assert percentiles.settled({0: (half - 2**30, half - 1)}, 1, percentiles.MEDIAN) is None
    assert percentiles.settled({0: (half - 2**30, half - 10**5)}, 1, percentiles.MEDIAN) == 0.0
    assert repr(percentiles.settled({0: (-half + 10**5, -1)}, 1, percentiles.MEDIAN)) == "-0.0"
    assert percentiles.settled({0: (-1, 1)}, 1, percentiles.MEDIAN) is None


def test_the_home_and_the_report_follow_every_write_path_through_the_api(users, api_as, client, auth):
    """Created, each pipeline event, reopened, a removal request granted (a purge keeps the history): after each,
    the kept counts equal a count of the stage entries (test_stage_entries._check), and the supervisor's home and
    the report through the API (off the kept counts) equal the report counted as before."""
    program = Program.build(users["supervisor"])
    api = api_as(users["supervisor"])
    auth.login(users["supervisor"])

    def same() -> None:
        _check()
        status, body = api.get("/reports/pipeline")
        assert status == 200, body
        with pytest.MonkeyPatch.context() as patch:  # the kept counts set aside: counted as before
            patch.setattr(reports, "whole_history", lambda _points: None)
            counted = reports.pipeline(users["supervisor"], Window())
        db.session.rollback()
        assert body == counted
        home = _funnel(client.get("/").get_data(as_text=True))
        assert re.findall(r"<strong>(\d+)</strong>", home) == [str(entry["reached"]) for entry in body["funnel"]]
        assert f"Invited to attended: {body['conversion']['invited_to_attended'] * 100:.0f}%" in home

    same()
    people = [program.bring_to(state) for state in State]
    same()
    closed = people[-1]
    status, body = api.post(f"/participants/{closed.id}/events",
                            json={"event": "reopen", "version": closed.version, "reason": REASONS["reopen"]})
    assert status == 200, body
    same()
    status, body = api.post(f"/participants/{people[2].id}/removal-requests",
                            json={"received_on": str(today()), "requested_by": "self", "grounds": "Moved."})
    assert status == 201, body
    status, decided = api.post(f"/removal-requests/{body['id']}/decision",
                               json={"decision": "granted", "reason": "Not in any group."})
    assert status == 200, decided
    same()
