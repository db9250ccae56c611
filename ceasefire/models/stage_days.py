"""What the pipeline report over a window reads instead of counting stage entries (models.stages): the entries by
the program's day (TIMEZONE) of their first and of their last moment, and the spans of the later stage of each
step by the day of its first entry and by bucket of span, at two widths: 2**40 microseconds (about 12.7 days, the
width models.stage_counts keeps for the whole history) and 2**36 (about 19 hours). Each is kept by day (grain "d")
and by month (grain "m", on its first day), so that a window reads its whole months and the days around them.

Who entered a stage in a window [a, b] is then (services.stage_report.windowed): those whose first entry falls on
a day up to b, less those whose last entry falls before a (their whole history of the stage lies before the
window), less those whose first entry is before a and last after b with no entry in between (looked up in the
status changes, for the few entered three times or more: two entries are the first and the last). A percentile of
a step's spans in a window is placed in a wide bucket, then in a narrow one inside it, by the window's sums of
these rows, then read by its place among the spans of that narrow bucket whose first entry is in the window, off
the index of spans.

Kept by the hooks that keep the stage entries, beside models.stage_counts: each recomputation of a participant's
rows passes the rows it removed and wrote to shift(), which moves the counts by the difference; refresh() counts
anew from the stage entries (after a bulk load, an UPDATE without WHERE). The row of kind "@" and the zone's name
says the rows are kept, and in which zone: the report reads them only in that zone, and counts as before
otherwise (a database emptied by hand, a program that changed its TIMEZONE and has not recounted).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceasefire.extensions import Model
from ceasefire.models.activity import local_day
from ceasefire.models.base import DAY_GRAIN, MONTH_GRAIN, add_to_counts, both_grains, insert_rows, program_zone
from ceasefire.models.enums import State

WIDE, NARROW = 40, 36  # a bucket's width, as a power of two of microseconds
FIRSTS, LASTS = "f", "l"  # entries counted by the day of their first moment, and of their last
SPANS = {WIDE: "w", NARROW: "n"}  # spans counted by the day of their first entry and by bucket, at each width
KEPT_DAY = date(1, 1, 1)


class StageDay(Model):
    __tablename__ = "stage_days"
    __table_args__ = (
        # the counts in the key's index on PostgreSQL: a window's rows read off it alone
        sa.PrimaryKeyConstraint("stage", "kind", "grain", "day", "bucket", name="pk_stage_days",
                                postgresql_include=["n"]),
    )

    stage: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(64))
    grain: Mapped[str] = mapped_column(sa.String(1))
    day: Mapped[date] = mapped_column()
    bucket: Mapped[int] = mapped_column(sa.BigInteger, autoincrement=False)
    n: Mapped[int] = mapped_column(sa.BigInteger, default=0)


DAYS = cast(sa.Table, StageDay.__table__)
KEYS = ["stage", "kind", "grain", "day", "bucket"]


def kept_in() -> str:
    """The kind of the row saying the days are kept, in the program's zone."""
    return "@" + program_zone().key


def marker() -> dict[str, Any]:
    return {"stage": "", "kind": kept_in(), "grain": DAY_GRAIN, "day": KEPT_DAY, "bucket": 0, "n": 0}


@sa.event.listens_for(DAYS, "after_create")
def _kept_from_the_start(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    """A new database (create_all) keeps its days from the first participant on."""
    connection.execute(table.insert(), [marker()])


def kept(session: Session | Any) -> bool:
    """Whether the days are kept, in the program's zone."""
    return session.execute(sa.select(StageDay.n).where(
        StageDay.stage == "", StageDay.kind == kept_in(), StageDay.grain == DAY_GRAIN, StageDay.day == KEPT_DAY,
        StageDay.bucket == 0,
    )).first() is not None


class _Days:
    """The program's day of moments, remembered by UTC hour: a moment's day is worked out once an hour of them
    (exactly: an hour whose first and last microsecond fall on different days has each moment worked out). A moment
    is a datetime, or SQLite's text of one (UTC, "YYYY-MM-DD HH:MM:SS..."), read without making a datetime of it."""

    def __init__(self) -> None:
        self.hours: dict[Any, date | None] = {}

    def __call__(self, moment: datetime | str) -> date:
        if isinstance(moment, str):
            hour: Any = moment[:13]
            if hour not in self.hours:
                self.hours[hour] = self._day_of_hour(datetime.fromisoformat(hour + ":00").replace(tzinfo=UTC))
            found = self.hours[hour]
            return found if found is not None else local_day(datetime.fromisoformat(moment))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        hour = moment.replace(minute=0, second=0, microsecond=0)
        if hour not in self.hours:
            self.hours[hour] = self._day_of_hour(hour)
        found = self.hours[hour]
        return found if found is not None else local_day(moment)

    @staticmethod
    def _day_of_hour(hour: datetime) -> date | None:
        """The day of every moment of the hour, None when they fall on two."""
        first = local_day(hour)
        try:
            last = local_day(hour + timedelta(hours=1, microseconds=-1))
        except OverflowError:
            return None
        return first if first == last else None


def _add(counts: dict[tuple[date, Any, str, int], int], rows: Iterable[Any], sign: int, day_of: _Days) -> None:
    """Count the rows (stage, span, first_at, last_at) by day, `sign` each: (day, stage, kind, bucket) -> n."""
    for stage, span, first_at, last_at in rows:
        first = day_of(first_at)
        for key in ((first, stage, FIRSTS, 0),
                    (first if last_at == first_at else day_of(last_at), stage, LASTS, 0)):
            counts[key] = counts.get(key, 0) + sign
        if span is not None:
            for key in ((first, stage, SPANS[WIDE], span >> WIDE), (first, stage, SPANS[NARROW], span >> NARROW)):
                counts[key] = counts.get(key, 0) + sign


def _keyed(by_day: dict[tuple[date, Any, str, int], int]) -> dict[tuple[str, str, str, date, int], int]:
    """The counts by day, and summed by month (models.base.both_grains), keyed as the rows are, none at 0."""
    return {(State(stage).value, kind, grain, day, bucket): n
            for (grain, day, stage, kind, bucket), n in both_grains(by_day)}


def shift(connection: sa.Connection, removed: Iterable[Any], added: Iterable[Any]) -> None:
    """Move the counts by the stage entries (rows of stage, span, first_at, last_at) a recomputation removed and
    wrote, in the order of the keys (one order for every transaction)."""
    by_day: dict[tuple[date, Any, str, int], int] = {}
    day_of = _Days()
    _add(by_day, removed, -1, day_of)
    _add(by_day, added, 1, day_of)
    add_to_counts(connection, DAYS, KEYS, "n", [dict(zip(KEYS, key, strict=True), n=n)
                                                 for key, n in sorted(_keyed(by_day).items())])


def refresh(connection: sa.Connection) -> None:
    """Count every day anew from the stage entries, in the program's zone: in one pass of GROUPING SETS on
    PostgreSQL (its own zone database read the moments: 15 s at a million participants, where Python took 65), in
    Python elsewhere."""
    zone = program_zone().key
    if connection.dialect.name == "postgresql" and connection.scalar(
            sa.text("SELECT count(*) FROM pg_timezone_names WHERE name = :zone"), {"zone": zone}):
        counts = _counted_in_sql(connection, zone)
    else:  # the moments as SQLite keeps them, text of UTC (see _Days)
        entries = sa.table("stage_entries", sa.column("stage"), sa.column("span"), sa.column("first_at"),
                           sa.column("last_at"))
        by_day: dict[tuple[date, Any, str, int], int] = {}
        day_of = _Days()
        result = connection.execute(sa.select(entries.c.stage, entries.c.span, entries.c.first_at,
                                              entries.c.last_at).execution_options(yield_per=20000))
        for partition in result.partitions():
            _add(by_day, partition, 1, day_of)
        counts = _keyed(by_day)
    connection.execute(sa.delete(DAYS))
    # in the order of the key: a window's rows lie together, in few pages
    insert_rows(connection, DAYS, [*KEYS, "n"],
                [tuple(marker()[c] for c in [*KEYS, "n"]), *((*key, n) for key, n in sorted(counts.items()) if n)])


# Each grouping set of _COUNTED's statement, by its GROUPING() bits (1 for a column left out: fd, fm, ld, lm, w,
# b from the left), as (kind, grain, the day's column, the bucket's column or None)
_SETS = {0b011111: (FIRSTS, DAY_GRAIN, 1, None), 0b101111: (FIRSTS, MONTH_GRAIN, 2, None),
         0b110111: (LASTS, DAY_GRAIN, 3, None), 0b111011: (LASTS, MONTH_GRAIN, 4, None),
         0b011101: (SPANS[WIDE], DAY_GRAIN, 1, 5), 0b101101: (SPANS[WIDE], MONTH_GRAIN, 2, 5),
         0b011110: (SPANS[NARROW], DAY_GRAIN, 1, 6), 0b101110: (SPANS[NARROW], MONTH_GRAIN, 2, 6)}
_COUNTED = """
SELECT stage, fd, fm, ld, lm, w, b, grouping(fd, fm, ld, lm, w, b), count(*)
FROM (SELECT stage, fd, date_trunc('month', fd)::date AS fm, ld, date_trunc('month', ld)::date AS lm,
             span >> CAST(:wide AS integer) AS w, span >> CAST(:narrow AS integer) AS b
      FROM (SELECT stage, span, timezone(:zone, timezone('UTC', first_at))::date AS fd,
                   timezone(:zone, timezone('UTC', last_at))::date AS ld FROM stage_entries) AS days) AS keys
GROUP BY GROUPING SETS ((stage, fd), (stage, fm), (stage, ld), (stage, lm), (stage, fd, w), (stage, fm, w),
                        (stage, fd, b), (stage, fm, b))
"""


def _counted_in_sql(connection: sa.Connection, zone: str) -> dict[tuple[str, str, str, date, int], int]:
    """The counts refresh() writes, by PostgreSQL (the columns hold UTC; read as such, then on the zone's clock)."""
    memory = connection.scalar(sa.text("SHOW work_mem"))
    connection.execute(sa.text("SELECT set_config('work_mem', '256MB', true)"))  # the groups hashed in memory
    counts: dict[tuple[str, str, str, date, int], int] = {}
    for row in connection.execute(sa.text(_COUNTED), {"zone": zone, "wide": WIDE, "narrow": NARROW}):
        kind, grain, day, bucket = _SETS[row[7]]
        if bucket is None or row[bucket] is not None:  # a span's bucket: not of an entry without one
            key = (State(row[0]).value, kind, grain, row[day], 0 if bucket is None else row[bucket])
            counts[key] = row[8]
    connection.execute(sa.text("SELECT set_config('work_mem', :memory, true)"), {"memory": memory})
    return counts
