"""Input refused before any view runs, once for every route: ids that no INTEGER column holds, and NUL characters
in the pages' forms and query strings. Each page or endpoint added later is covered without a line of its own."""

from __future__ import annotations

from itertools import chain

from flask import Flask, request
from werkzeug.routing import IntegerConverter

from ceasefire import limits
from ceasefire.errors import BadRequest


def digits_up_to(limit: int) -> str:
    """A regular expression for the whole numbers 0 to `limit` (leading zeros allowed): shorter numbers, then for
    each digit of the limit the numbers equal to it so far and lower at that digit, then the limit itself."""
    text = str(limit)
    alternatives = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for i, digit in enumerate(text):
        low, high = (1 if i == 0 and len(text) > 1 else 0), int(digit) - 1
        if low <= high:
            rest = len(text) - i - 1
            alternatives.append(f"{text[:i]}[{low}-{high}]" + (rf"\d{{{rest}}}" if rest else ""))
    alternatives.append(text)
    return "0*(?:" + "|".join(alternatives) + ")"


class IdConverter(IntegerConverter):
    """`<int:...>` in every route, pages and API alike: 0 to ID_MAX, what an INTEGER column holds on every
    database. A larger id matches no route, so it is a 404 instead of an overflowing query (500). The bound is in
    the pattern, not only in to_python: werkzeug checks the method before converting, so a path with rules for
    several methods would answer a too-large id with 405."""

    regex = digits_up_to(limits.ID_MAX)

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", limits.ID_MAX)
        super().__init__(map, *args, **kwargs)


def refuse_nul() -> None:
    """PostgreSQL cannot store NUL in text and SQLite would keep it; no person types one. The API checks its own
    fields (422 naming the field); the pages refuse any form field or query argument holding one, names included."""
    if request.path.startswith("/api/"):
        return
    for name, value in chain(request.args.items(multi=True), request.form.items(multi=True)):
        if "\x00" in name or "\x00" in value:
            raise BadRequest("A field held a NUL character (\\0), which no record can hold. Nothing was changed.")


def register(app: Flask) -> None:
    """Before the blueprints: their rules take the converter when they are added to the map."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_nul)
