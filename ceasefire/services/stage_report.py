"""The pipeline report's funnel and days between stages (services.reports.pipeline), off what is kept of each
participant (models.stages): each stage's first and last entry, and each step's span. `window` is a
services.report_window.Window; `people`, conditions on Participant (a group, a forum's invitees), none for everyone.
Over the whole history for everyone, off what is kept of the stage entries (models.stage_counts): whole_history().
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ceasefire.extensions import db
from ceasefire.models import Participant, SpanCount, StageEntry, StatusChange, stage_counts, stage_days
from ceasefire.models.base import DAY_GRAIN, Unindexed, months_and_days
from ceasefire.models.enums import State
from ceasefire.services import percentiles

# The tables' columns, not the models' attributes: cheaper to build statements of (the report builds some hundreds of
# conditions over the kept days)
DAY = stage_days.DAYS.c
SPAN = cast(sa.Table, SpanCount.__table__).c
ENTRY = cast(sa.Table, StageEntry.__table__).c
CHANGE = cast(sa.Table, StatusChange.__table__).c

FUNNEL = (State.IDENTIFIED, State.INVITED, State.ATTENDED, State.SERVICES_OFFERED, State.ENFORCED)
STEPS = (
    ("identified_to_invited", State.IDENTIFIED, State.INVITED),
    ("invited_to_attended", State.INVITED, State.ATTENDED),
    ("attended_to_services_offered", State.ATTENDED, State.SERVICES_OFFERED),
)


class _Entries:
    """The stage entries a statement over `people` (conditions on Participant; none for everyone) reads: `row`, an
    alias of StageEntry; `among`, the conditions that an entry is one of those people's; and the columns its other
    conditions and its order use. For some people their ids are a list, and the entries are read a person at a time
    through their (participant, stage) key: the times and spans are `Unindexed`, else SQLite's planner walked the
    whole stage through their indexes and looked each entry's person up (a group's report took a second at
    150,000). For everyone, the columns as they are, and their indexes serve."""

    def __init__(self, people: list) -> None:
        self.row = aliased(StageEntry)
        self.among = [self.row.participant_id.in_(sa.select(Participant.id).where(*people))] if people else []
        kept = Unindexed if people else (lambda column: column)
        self.participant_id = self.row.participant_id
        self.stage = self.row.stage
        self.first_at, self.last_at, self.span = kept(self.row.first_at), kept(self.row.last_at), kept(self.row.span)


def _reached(stage: State, people: list, window: Any) -> Any:
    """How many participants of `people` entered `stage` in the window, any entry of theirs (not only the first),
    counted off their kept first and last entries (models.stages) as three disjoint counts, each a range of an
    index: a first entry in the window; else a first entry before it and a last one in it; else a first entry
    before it and a last one after it, and then an entry in it is looked up in their status changes."""
    start, end = window.start_at, window.end_at

    def count(*conditions) -> Any:
        entry = _Entries(people)
        where = [condition(entry) for condition in conditions]
        return (sa.select(sa.func.count()).select_from(entry.row)
                .where(*entry.among, entry.stage == stage.value, *where).scalar_subquery())

    def first_in(entry):
        return sa.and_(*window.moments(entry.first_at)) if start is not None or end is not None else sa.true()

    if start is None:
        return count(first_in)
    # entered before the window and again: off the index of stages entered more than once, by the last entry (the
    # first one before the window is no range SQLite may take: it walked every entry of the stage before a past
    # quarter through the index of first entries, 166 ms at 150,000)
    def before(e):
        return Unindexed(e.row.first_at) < start

    later = [lambda e: e.last_at < end] if end is not None else []
    parts = [count(first_in), count(lambda e: e.first_at < e.last_at, before, lambda e: e.last_at >= start, *later)]
    if end is not None:
        parts.append(count(
            lambda e: e.first_at < e.last_at, before, lambda e: e.last_at >= end,
            lambda e: sa.select(StatusChange.id).where(
                StatusChange.participant_id == e.participant_id, StatusChange.to_state == stage.value,
                *window.moments(StatusChange.at),
            ).exists(),
        ))
    return sum(parts[1:], parts[0])


def stages_and_days(
    people: list, window: Any, points: tuple,
) -> tuple[dict[str, int], dict[int, dict[tuple[int, int], float]]]:
    """For the participants of `people`, off their kept stage entries (models.stages): how many entered each stage
    of FUNNEL in the window, and the percentiles (in days) of each step of STEPS, keyed by its index there, over
    those whose first entry into the later stage falls in the window, from their first entry into the earlier
    stage. Two statements: the counts (of the funnel, and of each step's spans), then the few spans the
    percentiles need, each found by its place in the order of an index of spans (LIMIT 1 OFFSET k)."""
    def spans(later: Any, ordered: bool = False) -> sa.Select:  # `later`: a stage's value, or a parameter
        entry = _Entries(people)
        select = sa.select(entry.row.span).where(
            *entry.among, entry.stage == later, entry.span.is_not(None), *window.moments(entry.first_at),
        )
        return select.order_by(entry.span) if ordered else select

    def count(select: sa.Select) -> Any:
        return sa.select(sa.func.count()).select_from(select.subquery()).scalar_subquery()

    found = db.session.execute(sa.select(
        *[_reached(s, people, window) for s in FUNNEL], *[count(spans(later.value)) for _name, _e, later in STEPS],
    )).one()
    reached = {s.value: found[i] for i, s in enumerate(FUNNEL)}
    sizes = {later.value: found[len(FUNNEL) + i] for i, (_name, _e, later) in enumerate(STEPS)}
    values = percentiles.values_at_positions(sizes, points, lambda later: spans(later, ordered=True))
    return reached, {i: percentiles.at_positions(values[later.value], sizes[later.value], points)
                     for i, (_name, _e, later) in enumerate(STEPS) if sizes[later.value]}


def funnel() -> dict[str, int] | None:
    """How many participants' histories ever entered each stage of FUNNEL, off the kept counts (one statement);
    None when they are not kept."""
    kept = stage_counts.counted(db.session)
    return None if kept is None else {s.value: kept[s][0] for s in FUNNEL}


class _Kept:
    """Where a percentile's bucket is found: the kept counts of spans by bucket over the whole history
    (models.stage_counts), or a window's sums of the kept days (models.stage_days); the spans read at last are those
    whose first entry meets `moments`."""

    def __init__(self, window: Any = None) -> None:
        self.window = window
        self.narrow = stage_counts.NARROW if window is None else stage_days.NARROW
        self.moments = [] if window is None else window.moments(ENTRY.first_at)

    def buckets(self, width: int, targets: list[tuple[list[str], int | None, int | None]]) -> sa.Select:
        """(stage, bucket, spans) in order, of the buckets of `width` of each target (stages, lowest bucket,
        bucket past the highest; None for no bound), none empty: over a window, summed from the days' rows of each
        target and piece of the window, each a range of the table's key."""
        def picked(stage: Any, bucket: Any, stages: list[str], low: int | None, high: int | None) -> list:
            return [stage.in_(stages) if len(stages) > 1 else stage == stages[0],
                    *([] if low is None else [bucket >= low]), *([] if high is None else [bucket < high])]

        if self.window is None:
            return (sa.select(SPAN.stage, SPAN.bucket, SPAN.spans)
                    .where(SPAN.spans != 0, SPAN.width == width,
                           sa.or_(*(sa.and_(*picked(SPAN.stage, SPAN.bucket, *target)) for target in targets)))
                    .order_by(SPAN.stage, SPAN.bucket))
        kind = DAY.kind == stage_days.SPANS[width]
        rows = _each(*(sa.select(DAY.stage, DAY.bucket, DAY.n)
                       .where(kind, *piece, *picked(DAY.stage, DAY.bucket, *target))
                       for target in targets for piece in _pieces(self.window.start, self.window.end)))
        total = sa.cast(sa.func.sum(rows.c.n), sa.BigInteger)  # PostgreSQL's sum of bigint is numeric
        return (sa.select(rows.c.stage, rows.c.bucket, total).group_by(rows.c.stage, rows.c.bucket)
                .having(total != 0).order_by(rows.c.stage, rows.c.bucket))


def _each(*selects: sa.Select) -> sa.Subquery:
    """The rows of each SELECT of the kept days (one range of the table's key each, read off its index alone on
    PostgreSQL, where the key includes the counts: an OR of the ranges took a bitmap of them and a read of every
    table page they touch), as one subquery."""
    if not selects:
        return sa.select(DAY.stage, DAY.kind, DAY.bucket, DAY.n).where(sa.false()).subquery()
    return (sa.union_all(*selects) if len(selects) > 1 else selects[0]).subquery()


def _pieces(first: date | None, last: date | None) -> list[list]:
    """The conditions picking the kept days' rows (models.stage_days) that sum the days [first, last], None for
    an open end: one list for each piece (the whole months, the days of a month in part)."""
    return [[DAY.grain == grain, *conditions] for grain, conditions in months_and_days(DAY.day, first, last)]


def whole_history(points: tuple) -> tuple[dict[str, int], dict[int, dict[tuple[int, int], float]]] | None:
    """stages_and_days() for everyone over the whole history off the kept counts of stages and spans
    (models.stage_counts), the same answers to the report's one decimal (a percentile the buckets settle is given
    as the tenth of a day it rounds to); None when they are not kept. Four statements at most, however many people:
    the stages' counts; the wide buckets of each step, in which each value a percentile needs is placed; the narrow
    buckets inside the wide ones found. A percentile whose rounding those settle (percentiles.settled) needs no
    more; the values of the others are fetched each by its place among the spans of its narrow bucket alone
    (LIMIT 1 OFFSET k over that range of the index of spans, from its nearer end)."""
    kept = stage_counts.counted(db.session)
    if kept is None:
        return None
    reached = {s.value: kept[s][0] for s in FUNNEL}
    sizes = {i: kept[later][1] for i, (_name, _earlier, later) in enumerate(STEPS)}
    if not any(percentiles.positions(n, points) for n in sizes.values()):
        return reached, {}
    source = _Kept()
    wide = _buckets(source, stage_counts.WIDE, None)
    days = _percentiles(source, wide, sizes, points)
    return None if days is None else (reached, days)


def windowed(window: Any, points: tuple) -> tuple[dict[str, int], dict[int, dict[tuple[int, int], float]]] | None:
    """stages_and_days() for everyone over a window off the kept days (models.stage_days), the same answers to the
    report's one decimal; None when they are not kept (in the program's zone). Who entered each stage, in one
    statement: those whose first entry falls on a day up to the window's last, less those whose last entry falls
    on a day before its first, less (a window closed at both ends) those entered before and after it and not in
    it, counted off the index of stages entered more than once (and looked up in the status changes when entered
    three times or more). Then each step's percentiles as over the whole history, its spans read by bucket off the
    window's days, the last values fetched among the spans of a narrow bucket whose first entry is in the window."""
    start, end = window.start, window.end
    if start is not None and end is not None and start > end:  # no day: nobody entered anything
        return {s.value: 0 for s in FUNNEL}, {}
    before = None if start is None or start == date.min else start - timedelta(days=1)
    inside, earlier = _pieces(start, end), (_pieces(None, before) if before is not None else [])
    is_marker = sa.and_(DAY.stage == "", DAY.kind == stage_days.kept_in(),
                        DAY.grain == DAY_GRAIN, DAY.day == stage_days.KEPT_DAY)
    stages = DAY.stage.in_([s.value for s in FUNNEL])
    found = _each(
        sa.select(DAY.stage, DAY.kind, sa.literal(0, sa.Integer).label("side"), DAY.n).where(is_marker),
        *(sa.select(DAY.stage, DAY.kind, sa.literal(side, sa.Integer).label("side"), DAY.n)
          .where(stages, DAY.kind == kind, *piece)
          for kind, sides in ((stage_days.FIRSTS, (inside, earlier)), (stage_days.LASTS, ([], earlier)))
          for side, pieces in enumerate(sides) for piece in pieces))

    def summed(side: int) -> Any:
        return sa.cast(sa.func.sum(sa.case((found.c.side == side, found.c.n), else_=0)), sa.BigInteger)

    rows: list[Any] = list(db.session.execute(
        sa.select(found.c.stage, found.c.kind, summed(0), summed(1)).group_by(found.c.stage, found.c.kind)))
    if not any(stage == "" for stage, _kind, _inside_n, _before_n in rows):
        return None
    sums = {(stage, kind): (n_inside, n_before) for stage, kind, n_inside, n_before in rows}
    reached = {}
    for s in FUNNEL:
        firsts_inside, firsts_before = sums.get((s.value, stage_days.FIRSTS), (0, 0))
        reached[s.value] = firsts_inside + firsts_before - sums.get((s.value, stage_days.LASTS), (0, 0))[1]
    if window.start_at is not None and window.end_at is not None:
        for s, n in zip(FUNNEL, db.session.execute(sa.select(*[_around(s, window) for s in FUNNEL])).one(),
                        strict=True):
            reached[s.value] -= n
    source = _Kept(window)
    wide = _buckets(source, stage_counts.WIDE, None)
    sizes = {i: sum(n for _bucket, n in wide.get((i, 0), [])) for i in range(len(STEPS))}
    if not any(percentiles.positions(n, points) for n in sizes.values()):
        return reached, {}
    days = _percentiles(source, wide, sizes, points)
    return None if days is None else (reached, days)


def _around(stage: State, window: Any) -> Any:
    """How many entered `stage` before the window and after it, and not in it (a scalar subquery): off the index of
    stages entered more than once; those entered twice have no entry but their first and last, the others are
    looked up in their status changes."""
    entry = ENTRY
    # counted, not EXISTS: PostgreSQL would hash every status change of the window to answer an EXISTS here
    in_window = sa.select(sa.func.count()).where(
        CHANGE.participant_id == entry.participant_id, CHANGE.to_state == stage.value,
        *window.moments(CHANGE.at),
    ).scalar_subquery()
    # by the last entry, after the window (the first, before it, is no range SQLite may take: it walked every entry
    # of the stage before a past quarter through the index of first entries, each looked up in the status changes)
    around = [entry.stage == stage.value, entry.first_at < entry.last_at, entry.last_at >= window.end_at,
              Unindexed(entry.first_at) < window.start_at]
    twice, more = (sa.select(sa.func.count()).select_from(StageEntry.__table__).where(*around, *where).scalar_subquery()
                   for where in ([entry.entries <= 2], [entry.entries > 2, in_window == 0]))
    return twice + more


def _percentiles(
    source: _Kept, wide: dict[tuple[int, int], list[tuple[int, int]]], sizes: dict[int, int], points: tuple,
) -> dict[int, dict[tuple[int, int], float]] | None:
    """Each step's percentiles in `points` among its `sizes[i]` spans, from their counts by wide bucket (`wide`,
    _buckets()) and by narrow bucket inside the wide ones that hold them (one statement), then the values the
    narrow buckets do not settle (one more); None when the kept counts do not add up."""
    days: dict[int, dict[tuple[int, int], float]] = {i: {} for i, n in sizes.items() if n}
    wanted = [(i, k) for i, n in sizes.items() for k in percentiles.positions(n, points)]
    places = _places(source, wide, wanted, sizes)
    if places is None:
        return None
    reads: set[tuple[int, int]] = set()
    for i, found in days.items():
        for point in points:
            sides = percentiles.positions(sizes[i], (point,))
            ranges = {k: (places[(i, k)][0] << source.narrow, ((places[(i, k)][0] + 1) << source.narrow) - 1)
                      for k in sides}
            value = percentiles.settled(ranges, sizes[i], point)
            if value is None:
                reads |= {(i, k) for k in sides}
            else:
                found[point] = value
    if reads:
        values: dict[int, dict[int, int]] = {}
        for (i, k), spans in _read(source, reads, places).items():
            for position, span in enumerate(sorted(spans), start=k):
                values.setdefault(i, {})[position] = span
        for i, found in days.items():
            for point in points:
                if point not in found:
                    found[point] = percentiles.at_positions(values[i], sizes[i], (point,))[point]
    return days


def _buckets(source: _Kept, width: int, parents: list[tuple[int, int]] | None,
             ) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """The counts of the steps' spans by bucket of `width` as (step, parent bucket) -> [(bucket, n)] in order: the
    wide buckets of every step (`parents` None; parent 0), or the narrow ones inside each (step, wide bucket) of
    `parents`."""
    steps = {later.value: i for i, (_name, _earlier, later) in enumerate(STEPS)}
    shift = stage_counts.WIDE - source.narrow
    targets: list[tuple[list[str], int | None, int | None]] = (
        [([later.value for _name, _earlier, later in STEPS], None, None)] if parents is None
        else [([STEPS[i][2].value], wide << shift, (wide + 1) << shift) for i, wide in parents])
    found: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for stage, bucket, n in db.session.execute(source.buckets(width, targets)):
        found.setdefault((steps[State(stage).value], 0 if parents is None else bucket >> shift), []).append((bucket, n))
    return found


def _locate(buckets: list[tuple[int, int]], total: int, place: int) -> tuple[int, int, int] | None:
    """The bucket holding the value at (0-based) `place` among the spans of `buckets` ((bucket, n) in order), the
    value's place inside it and the bucket's count; None when the counts do not add up to `total` (not kept)."""
    if sum(n for _bucket, n in buckets) != total:
        return None
    for bucket, n in buckets:
        if place < n:
            return bucket, place, n
        place -= n
    return None


def _places(
    source: _Kept, wide: dict[tuple[int, int], list[tuple[int, int]]], wanted: list[tuple[int, int]],
    sizes: dict[int, int],
) -> dict[tuple[int, int], tuple[int, int, int]] | None:
    """For each (step, position) wanted, the narrow bucket its value lies in, its place among that bucket's spans
    and their number (one statement); None when the kept counts do not add up."""
    found = {}
    for i, k in wanted:
        located = _locate(wide.get((i, 0), []), sizes[i], k)
        if located is None:
            return None
        found[(i, k)] = located
    narrow = _buckets(source, source.narrow, sorted({(i, bucket) for (i, _k), (bucket, _p, _n) in found.items()}))
    places = {}
    for (i, k), (bucket, place, n) in found.items():
        located = _locate(narrow.get((i, bucket), []), n, place)
        if located is None:
            return None
        places[(i, k)] = located
    return places


def _read(source: _Kept, reads: set[tuple[int, int]], places: dict[tuple[int, int], tuple[int, int, int]],
          ) -> dict[tuple[int, int], list[int]]:
    """The spans at the positions `reads` (step, position), found in their narrow buckets (`places`), in one
    statement: two positions side by side in one bucket (a median's two middle values) read together. Keyed by
    (step, the first position read), the spans in any order."""
    runs: list[tuple[int, int, int]] = []  # (step, first position, how many)
    for i, k in sorted(reads):
        if runs and runs[-1][0] == i and runs[-1][1] + runs[-1][2] == k and places[(i, k)][0] == places[(i, k - 1)][0]:
            runs[-1] = (i, runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((i, k, 1))
    selects = []
    for i, k, count in runs:
        spans = _spans_at(source, STEPS[i][2], *places[(i, k)], count).subquery()
        selects.append(sa.select(sa.literal(i, sa.Integer), sa.literal(k, sa.Integer), spans.c.span))
    found: dict[tuple[int, int], list[int]] = {}
    for i, k, span in db.session.execute(sa.union_all(*selects)):
        found.setdefault((i, k), []).append(span)
    return found


def _spans_at(source: _Kept, later: State, bucket: int, place: int, n: int, count: int) -> sa.Select:
    """The `count` spans from (0-based) `place` on among the n of the step into `later` in a narrow bucket (whose
    first entry meets the source's `moments`), off the index of spans: a range of it, read from the nearer end no
    further than those places."""
    low, high = bucket << source.narrow, (bucket + 1) << source.narrow
    select = sa.select(ENTRY.span).where(ENTRY.stage == later.value, ENTRY.span >= low,
                                              ENTRY.span < high, *source.moments)
    if 2 * place >= n:
        return select.order_by(ENTRY.span.desc()).limit(count).offset(n - place - count)
    return select.order_by(ENTRY.span).limit(count).offset(place)
