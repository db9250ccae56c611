"""The pipeline report's funnel and days between stages (services.reports.pipeline), off what is kept of each
participant (models.stages): each stage's first and last entry, and each step's span. `window` is a
services.reports.Window; `people`, conditions on Participant (a group, a forum's invitees), none for everyone.
Over the whole history for everyone, off what is kept of the stage entries (models.stage_counts): whole_history().
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ceasefire.extensions import db
from ceasefire.models import Participant, SpanCount, StageEntry, StatusChange, stage_counts
from ceasefire.models.enums import State
from ceasefire.services import percentiles

FUNNEL = (State.IDENTIFIED, State.INVITED, State.ATTENDED, State.SERVICES_OFFERED, State.ENFORCED)
STEPS = (
    ("identified_to_invited", State.IDENTIFIED, State.INVITED),
    ("invited_to_attended", State.INVITED, State.ATTENDED),
    ("attended_to_services_offered", State.ATTENDED, State.SERVICES_OFFERED),
)


def _reached(stage: State, people: list, window: Any) -> Any:
    """How many participants of `people` entered `stage` in the window, any entry of theirs (not only the first),
    counted off their kept first and last entries (models.stages) as three disjoint counts, each a range of an
    index: a first entry in the window; else a first entry before it and a last one in it; else a first entry
    before it and a last one after it, and then an entry in it is looked up in their status changes."""
    start, end = window.start_at, window.end_at

    def count(*conditions) -> Any:
        entry = aliased(StageEntry)
        select = sa.select(sa.func.count()).select_from(entry)
        if people:
            select = select.join(Participant, Participant.id == entry.participant_id)
        where = [condition(entry) for condition in conditions]
        return select.where(*people, entry.stage == stage.value, *where).scalar_subquery()

    def first_in(entry):
        return sa.and_(*window.moments(entry.first_at)) if start is not None or end is not None else sa.true()

    if start is None:
        return count(first_in)
    parts = [count(first_in), count(lambda e: e.first_at < start, lambda e: e.last_at >= start,
                                    *([lambda e: e.last_at < end] if end is not None else []))]
    if end is not None:
        parts.append(count(
            lambda e: e.first_at < start, lambda e: e.last_at >= end,
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
    def spans(later: State, ordered: bool = False) -> sa.Select:
        entry = aliased(StageEntry)
        select = sa.select(entry.span)
        if people:
            select = select.join(Participant, Participant.id == entry.participant_id)
        select = select.where(*people, entry.stage == later.value, entry.span.is_not(None),
                              *window.moments(entry.first_at))
        return select.order_by(entry.span) if ordered else select

    def count(select: sa.Select) -> Any:
        return sa.select(sa.func.count()).select_from(select.subquery()).scalar_subquery()

    found = db.session.execute(sa.select(
        *[_reached(s, people, window) for s in FUNNEL], *[count(spans(later)) for _name, _e, later in STEPS],
    )).one()
    reached = {s.value: found[i] for i, s in enumerate(FUNNEL)}
    sizes = {i: found[len(FUNNEL) + i] for i in range(len(STEPS))}
    wanted = [(i, position) for i, n in sizes.items() for position in percentiles.positions(n, points)]
    values: dict[int, dict[int, int]] = {}
    if wanted:
        for i, position, span in db.session.execute(sa.union_all(*[
            sa.select(sa.literal(i, sa.Integer), sa.literal(position, sa.Integer),
                      spans(STEPS[i][2], ordered=True).limit(1).offset(position).scalar_subquery())
            for i, position in wanted
        ])):
            values.setdefault(i, {})[position] = span
    return reached, {i: percentiles.at_positions(values[i], n, points) for i, n in sizes.items() if n}


def funnel() -> dict[str, int] | None:
    """How many participants' histories ever entered each stage of FUNNEL, off the kept counts (one statement);
    None when they are not kept."""
    kept = stage_counts.counted(db.session)
    return None if kept is None else {s.value: kept[s][0] for s in FUNNEL}


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
    days: dict[int, dict[tuple[int, int], float]] = {i: {} for i, n in sizes.items() if n}
    wanted = [(i, k) for i, n in sizes.items() for k in percentiles.positions(n, points)]
    if not wanted:
        return reached, days
    places = _places(wanted, sizes)
    if places is None:
        return None
    reads: set[tuple[int, int]] = set()
    for i, found in days.items():
        for point in points:
            sides = percentiles.positions(sizes[i], (point,))
            ranges = {k: (places[(i, k)][0] << stage_counts.NARROW, ((places[(i, k)][0] + 1) << stage_counts.NARROW)
                          - 1) for k in sides}
            value = percentiles.settled(ranges, sizes[i], point)
            if value is None:
                reads |= {(i, k) for k in sides}
            else:
                found[point] = value
    if reads:
        values: dict[int, dict[int, int]] = {}
        for i, position, span in db.session.execute(sa.union_all(*[
            sa.select(sa.literal(i, sa.Integer), sa.literal(k, sa.Integer), _nth_span(STEPS[i][2], *places[(i, k)]))
            for i, k in sorted(reads)
        ])):
            values.setdefault(i, {})[position] = span
        for i, found in days.items():
            for point in points:
                if point not in found:
                    found[point] = percentiles.at_positions(values[i], sizes[i], (point,))[point]
    return reached, days


def _buckets(width: int, where: list) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """The kept counts of buckets of `width` that `where` picks, as (step, parent bucket) -> [(bucket, n)] in order,
    the parent being the wide bucket a narrow one lies in (0 for the wide ones themselves)."""
    steps = {later.value: i for i, (_name, _earlier, later) in enumerate(STEPS)}
    shift = stage_counts.WIDE - stage_counts.NARROW if width == stage_counts.NARROW else None
    found: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for stage, bucket, n in db.session.execute(
        sa.select(SpanCount.stage, SpanCount.bucket, SpanCount.spans)
        .where(SpanCount.width == width, SpanCount.spans != 0, sa.or_(*where))
        .order_by(SpanCount.stage, SpanCount.bucket)
    ):
        found.setdefault((steps[State(stage).value], 0 if shift is None else bucket >> shift), []).append((bucket, n))
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
    wanted: list[tuple[int, int]], sizes: dict[int, int],
) -> dict[tuple[int, int], tuple[int, int, int]] | None:
    """For each (step, position) wanted, the narrow bucket its value lies in, its place among that bucket's spans
    and their number (two statements); None when the kept counts do not add up."""
    wide = _buckets(stage_counts.WIDE, [SpanCount.stage == STEPS[i][2].value for i in sorted({i for i, _k in wanted})])
    found = {}
    for i, k in wanted:
        located = _locate(wide.get((i, 0), []), sizes[i], k)
        if located is None:
            return None
        found[(i, k)] = located
    shift = stage_counts.WIDE - stage_counts.NARROW
    parents = sorted({(i, bucket) for (i, _k), (bucket, _place, _n) in found.items()})
    narrow = _buckets(stage_counts.NARROW, [
        sa.and_(SpanCount.stage == STEPS[i][2].value, SpanCount.bucket >= bucket << shift,
                SpanCount.bucket < (bucket + 1) << shift)
        for i, bucket in parents
    ])
    places = {}
    for (i, k), (bucket, place, n) in found.items():
        located = _locate(narrow.get((i, bucket), []), n, place)
        if located is None:
            return None
        places[(i, k)] = located
    return places


def _nth_span(later: State, bucket: int, place: int, n: int) -> Any:
    """The span at (0-based) `place` among the n of the step into `later` in a narrow bucket, off the index of
    spans: a range of it, read from the nearer end no further than that place."""
    low, high = bucket << stage_counts.NARROW, (bucket + 1) << stage_counts.NARROW
    select = sa.select(StageEntry.span).where(StageEntry.stage == later.value, StageEntry.span >= low,
                                              StageEntry.span < high)
    if 2 * place >= n:
        return select.order_by(StageEntry.span.desc()).limit(1).offset(n - 1 - place).scalar_subquery()
    return select.order_by(StageEntry.span).limit(1).offset(place).scalar_subquery()
