"""The pipeline report's funnel and days between stages (services.reports.pipeline), off what is kept of each
participant (models.stages): each stage's first and last entry, and each step's span. `window` is a
services.reports.Window; `people`, conditions on Participant (a group, a forum's invitees), none for everyone.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ceasefire.extensions import db
from ceasefire.models import Participant, StageEntry, StatusChange
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
