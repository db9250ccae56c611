"""What the pipeline report over the whole history reads instead of counting stage entries (models.stages): for
each stage, how many participants' histories ever entered it (its stage_entries rows) and how many of those have a
span; and for the later stage of each step, its spans counted by bucket at two widths, 2**40 microseconds (about
12.7 days) and 2**30 (about 18 minutes), a bucket being `span >> width` (rounded down, so a negative span too).

A percentile's place among a step's n spans is then found in a few hundred rows (services.stage_report): the wide
bucket it falls in, the narrow one inside that, and its place among the spans of that narrow bucket, read off the
index of spans over that bucket alone. The supervisor's home reads the funnel off six rows.

Kept by the hooks that keep the stage entries: each recomputation of a participant's rows passes the rows it
removed and the rows it wrote to shift(), which moves the counts by the difference, in one order (stages, then
buckets ascending) so that two transactions never wait on each other crosswise; a participant deleted has their
rows removed (and counted out) before the flush, as the database's cascade would take them unseen. Everyone's rows
recomputed (a bulk load's refresh, an UPDATE without WHERE) are counted anew by refresh(). Missing stage rows (a
table emptied) say "not kept", and a bucket's counts that do not add up to their stage's (or wide bucket's) say the
same: the report then counts as it did before.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceasefire.extensions import Model
from ceasefire.models.base import add_to_counts, enum_type
from ceasefire.models.enums import State

WIDE, NARROW = 40, 30  # a bucket's width, as a power of two of microseconds


class StageCount(Model):
    __tablename__ = "stage_counts"

    stage: Mapped[State] = mapped_column(enum_type(State, "stage"), primary_key=True)
    participants: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    spans: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class SpanCount(Model):
    __tablename__ = "span_counts"

    stage: Mapped[State] = mapped_column(enum_type(State, "stage"), primary_key=True)
    width: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    bucket: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    spans: Mapped[int] = mapped_column(sa.BigInteger, default=0)


STAGES = cast(sa.Table, StageCount.__table__)
SPANS = cast(sa.Table, SpanCount.__table__)


@sa.event.listens_for(STAGES, "after_create")
def _stages_at_zero(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    """A new database (create_all) keeps its counts from the first participant on."""
    connection.execute(table.insert(), [{"stage": s.value, "participants": 0, "spans": 0} for s in State])


def shift(connection: sa.Connection, removed: Iterable[Any], added: Iterable[Any]) -> None:
    """Move the counts by the stage entries (rows of stage, span, ...) a recomputation removed and wrote."""
    stages: dict[str, list[int]] = {}
    buckets: dict[tuple[str, int, int], int] = {}
    for rows, sign in ((removed, -1), (added, 1)):
        for stage, span, *_rest in rows:
            key = State(stage).value
            counts = stages.setdefault(key, [0, 0])
            counts[0] += sign
            if span is not None:
                counts[1] += sign
                for width in (WIDE, NARROW):
                    buckets[(key, width, span >> width)] = buckets.get((key, width, span >> width), 0) + sign
    for stage in sorted(stages):
        participants, spans = stages[stage]
        if participants or spans:
            connection.execute(sa.update(STAGES).where(STAGES.c.stage == stage).values(
                participants=STAGES.c.participants + participants, spans=STAGES.c.spans + spans))
    add_to_counts(connection, SPANS, ["stage", "width", "bucket"], "spans",
                  [{"stage": stage, "width": width, "bucket": bucket, "spans": n}
                   for (stage, width, bucket), n in sorted(buckets.items()) if n])


def refresh(connection: sa.Connection) -> None:
    """Count every stage and bucket anew from the stage entries."""
    entries = sa.table("stage_entries", sa.column("stage"), sa.column("span"))
    found = {State(stage).value: (n, spans) for stage, n, spans in connection.execute(
        sa.select(entries.c.stage, sa.func.count(), sa.func.count(entries.c.span)).group_by(entries.c.stage))}
    connection.execute(sa.delete(STAGES))
    connection.execute(sa.insert(STAGES), [
        {"stage": s.value, "participants": found.get(s.value, (0, 0))[0], "spans": found.get(s.value, (0, 0))[1]}
        for s in State
    ])
    connection.execute(sa.delete(SPANS))
    for width in (WIDE, NARROW):
        bucket = entries.c.span.op(">>")(sa.literal_column(str(width)))  # the same text in SELECT and GROUP BY
        connection.execute(sa.insert(SPANS).from_select(
            ["stage", "width", "bucket", "spans"],
            sa.select(entries.c.stage, sa.literal(width, sa.SmallInteger), bucket, sa.func.count())
            .where(entries.c.span.is_not(None)).group_by(entries.c.stage, bucket),
        ))


def counted(session: Session | Any) -> dict[State, tuple[int, int]] | None:
    """Each stage's participants and spans; None when not kept (a stage's row is missing)."""
    rows = {State(stage): (n, spans) for stage, n, spans in session.execute(
        sa.select(StageCount.stage, StageCount.participants, StageCount.spans))}
    return rows if len(rows) == len(State) else None
