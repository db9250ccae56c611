"""Medians and other percentiles of spans of time, worked out by the database: the reports never load a row per
person to take them.

A percentile p of n values sorted ascending is the value at (0-based) position h = p * (n - 1), interpolated
linearly between the two values beside it when h falls between them: v[lo] * (1 - f) + v[hi] * f, where lo is h
rounded down, hi rounded up and f = h - lo. This is PostgreSQL's percentile_cont (and Excel's PERCENTILE.INC); the
median (p = 1/2) is then Python's statistics.median: the middle value, or the mean of the two middle ones.

The database answers only the one or two values each percentile needs, each found by its place in the order of an
index (values_at_positions(), LIMIT 1 OFFSET k), or sorted inside an aggregate on PostgreSQL (middle_spans()); each
span comes back as a whole number of microseconds, so the interpolation and the rounding to days here give exactly
what Python's timedelta arithmetic gives over the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from fractions import Fraction
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by

from ceasefire.extensions import db
from ceasefire.models import stages
from ceasefire.models.base import union_all_sql

MEDIAN = (1, 2)
P90 = (9, 10)
MICROSECONDS_A_DAY = 86_400 * 10**6


def span_microseconds(later, earlier):
    """`later - earlier`, two timestamp columns (or expressions), as a whole number of microseconds."""
    return stages.span_microseconds(later, earlier, db.session.get_bind().dialect.name)


def _positions(n, point: tuple[int, int]) -> tuple[Any, Any]:
    """The 0-based positions (SQL, from the count n) of the values beside percentile numerator/denominator."""
    numerator, denominator = point
    return ((n - 1) * numerator) // denominator, ((n - 1) * numerator + denominator - 1) // denominator


def middle_spans(span: Any, present: Any) -> tuple[Any, Any, Any] | None:
    """For a GROUP BY on PostgreSQL, three aggregate columns: how many of the group's rows meet `present` (a
    condition; `span`, in microseconds, is not null on them), and their two spans beside the median (the same one
    when that number is odd, null when it is 0), for median_from_middle(). The spans are sorted inside the
    aggregate that counts the rest of the group, so a report reads its rows once. None on SQLite, which has no
    array_agg: values_at_positions() there."""
    if db.session.get_bind().dialect.name != "postgresql":
        return None
    spans = sa.func.array_agg(aggregate_order_by(span, span), type_=ARRAY(sa.BigInteger)).filter(present)
    n = sa.func.count(sa.case((present, 1)))
    return n, spans[(n + 1) // 2], spans[n // 2 + 1]  # 1-based


def median_from_middle(n: int, low: int | None, high: int | None) -> float | None:
    """The median in days, not rounded, of n spans whose two middle ones (middle_spans()) are low and high; None
    when n is 0."""
    if not n or low is None or high is None:
        return None
    return at_positions({(n - 1) // 2: low, n // 2: high}, n, (MEDIAN,))[MEDIAN]


def values_at_positions(
    sizes: dict[Any, int], points: Iterable[tuple[int, int]], ordered: Callable[[Any], sa.Select],
) -> dict[Any, dict[int, Any]]:
    """For each key of `sizes` (how many values it has), its values at the positions() of `points`, each found by
    its place in `ordered(key)` (a select of the key's values, in ascending order, given the key as a parameter of
    SQL: the keys are values of one column, all of a type), LIMIT 1 OFFSET k: one statement for every key, none when
    no key has a value. For at_positions().

    The statement is the same select once for each (key, position), joined by UNION ALL: it is compiled once, with
    the key and position as parameters, and its text repeated, each copy with its own two values (a page of 50
    services needs up to 100 copies; building each one as SQLAlchemy Core took 6 ms, longer than the page's
    SQL)."""
    points = tuple(points)
    wanted = [(key, position) for key, n in sizes.items() for position in positions(n, points)]
    values: dict[Any, dict[int, Any]] = {}
    if wanted:
        for key, position, value in _each_copy(ordered, wanted):
            values.setdefault(key, {})[position] = value
    return values


def _each_copy(ordered: Callable[[Any], sa.Select], wanted: list[tuple[Any, int]]) -> sa.CursorResult:
    """Rows (key, position, value at that position of `ordered(key)`) for each of `wanted`, in one statement."""
    key: sa.BindParameter[Any] = sa.bindparam("walk_key", wanted[0][0])  # of the keys' type
    position = sa.bindparam("walk_position", 0, type_=sa.Integer)
    one = sa.select(key, position, ordered(key).limit(1).offset(position).scalar_subquery())
    connection = db.session.connection()
    dialect = connection.dialect
    state = one.compile(dialect=dialect).construct_expanded_state()
    fixed = {name: state.processors[name](value) if name in state.processors else value
             for name, value in state.parameters.items()}  # as the driver takes them (a moment as UTC text, ...)
    if dialect.paramstyle == "qmark":  # SQLite's: the copies' parameters one after the other, in their order
        order = state.positiontup or []
        joined: Any = []
        for copy in wanted:
            fixed["walk_key"], fixed["walk_position"] = copy
            joined.extend(fixed[name] for name in order)
        return connection.exec_driver_sql(union_all_sql(connection, [state.statement] * len(wanted)), tuple(joined))
    if dialect.paramstyle != "pyformat":
        raise NotImplementedError(f"parameters written as {dialect.paramstyle}")
    # psycopg: each copy's two parameters named apart (the others are the same in every copy)
    named = dict(fixed)
    copies = []
    for i, copy in enumerate(wanted):
        named[f"walk_key_{i}"], named[f"walk_position_{i}"] = copy
        copies.append(state.statement.replace("%(walk_key)s", f"%(walk_key_{i})s")
                      .replace("%(walk_position)s", f"%(walk_position_{i})s"))
    return connection.exec_driver_sql(union_all_sql(connection, copies), named)


def positions(n: int, points: Iterable[tuple[int, int]]) -> list[int]:
    """The 0-based positions, among n values sorted ascending, of those the percentiles in `points` need: for a
    caller that fetches each by its place in an index's order (OFFSET), having counted n, for at_positions()."""
    return sorted({side for point in points for side in _positions(n, point)}) if n else []


def settled(ranges: dict[int, tuple[int, int]], n: int, point: tuple[int, int]) -> float | None:
    """Percentile `point` of n values in days as rounded() gives it, when knowing only that each value it needs
    (at the positions() of this point) lies in a range of microseconds, ranges[position] = (lowest, highest), is
    enough: the percentile then lies between the two interpolations of the ends, and when all of that interval,
    with a margin far wider than any error of the float arithmetic of _interpolate(), falls on one side of every
    rounding boundary (a tenth of a day and a half, and zero, as round() keeps the sign of -0.0), the tenth it
    rounds to is the answer, whatever the values inside the ranges are. None when it is not (the values are
    needed). The value returned rounds to itself."""
    numerator, denominator = point
    lo, rest = divmod((n - 1) * numerator, denominator)
    weights = {lo: denominator - rest, **({lo + 1: rest} if rest else {})}
    low, high = (Fraction(sum(weight * ranges[side][end] for side, weight in weights.items()),
                          denominator * MICROSECONDS_A_DAY) for end in (0, 1))
    tenth = math.floor(low * 10 + Fraction(1, 2))
    margin = Fraction(1, 10**6)  # of a tenth of a day (8.64 ms): the float error is some 10**-12 of the value
    if low * 10 + Fraction(1, 2) - tenth < margin or tenth + 1 - (high * 10 + Fraction(1, 2)) < margin:
        return None
    if tenth == 0:
        return 0.0 if low >= 0 else -0.0 if high < 0 else None
    return tenth / 10


def at_positions(values: dict[int, int], n: int, points: Iterable[tuple[int, int]]) -> dict[tuple[int, int], float]:
    """Each percentile in `points` in days, not rounded, from the values at positions() (microseconds)."""
    return {point: _interpolate(values, n, point) for point in points}


def _days(microseconds: int) -> float:
    # as timedelta.total_seconds() / 86400: the microseconds over 10**6, then over 86400
    return microseconds / 10**6 / 86400


def _interpolate(values: dict[int, int], n: int, point: tuple[int, int]) -> float:
    numerator, denominator = point
    lo, rest = divmod((n - 1) * numerator, denominator)
    if rest == 0:
        return _days(values[lo])
    f = rest / denominator
    return _days(values[lo]) * (1 - f) + _days(values[lo + 1]) * f


def rounded(value: float | None) -> float | None:
    """Days with one decimal, as the reports give them."""
    return None if value is None else round(value, 1)
