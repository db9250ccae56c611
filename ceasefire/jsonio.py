"""The one JSON decoding step of every request: a body whose strings hold a lone surrogate is refused there.

Python's json module reads "\\ud800" as a str that no database, and no UTF-8 encoder, will take; refusing it while
decoding covers every endpoint, present and future, instead of each field's validator.

And the one encoding step of every answer: orjson writes the JSON, keys sorted as Flask sorts them, dates and
whatever else Flask's provider turns into JSON handed to that provider's own default, so the values are Flask's; the
text is UTF-8 rather than ASCII escapes (the same JSON once read). A report's every row (23,271 forums at a million
participants, 12 MB) took Python's json 140 ms and more, orjson a tenth of that. Whatever orjson refuses (an integer
beyond 64 bits, a lone surrogate) goes through Python's json, as before."""

from __future__ import annotations

import re
from typing import Any, cast

import orjson
from flask import Flask, Response
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest

# A pair decodes to one character outside this range, so any surrogate left in a decoded string stands alone.
SURROGATE = re.compile("[\\ud800-\\udfff]")


def _has_lone_surrogate(text: str) -> bool:
    return not text.isascii() and SURROGATE.search(text) is not None


def holds_lone_surrogate(value: Any) -> bool:
    """Whether any string in a decoded JSON value, key or value at any depth, holds a lone surrogate. A loop, not
    recursion: the parser takes nesting deeper than a recursive walk would."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _has_lone_surrogate(item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


_OPTIONS = (
    orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_APPEND_NEWLINE
)


class JSONProvider(DefaultJSONProvider):
    def response(self, *args: Any, **kwargs: Any) -> Response:
        value = self._prepare_response_obj(args, kwargs)
        options = _OPTIONS
        if (self.compact is None and self._app.debug) or self.compact is False:
            options |= orjson.OPT_INDENT_2
        try:
            body = orjson.dumps(value, default=self.default, option=options)
        except orjson.JSONEncodeError:
            return cast(Response, super().response(value))
        return cast(Flask, self._app).response_class(body, mimetype=self.mimetype)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        value = super().loads(s, **kwargs)
        if holds_lone_surrogate(value):
            # Not a ValueError: get_json(silent=True) would swallow it and the caller would say only "not JSON".
            raise BadRequest(
                "A string in the body holds a lone surrogate (\\ud800 to \\udfff without its pair), "
                "which is no character; nothing was changed."
            )
        return value
