"""The one JSON decoding step of every request: a body whose strings hold a lone surrogate is refused there.

Python's json module reads "\\ud800" as a str that no database, and no UTF-8 encoder, will take; refusing it while
decoding covers every endpoint, present and future, instead of each field's validator."""

from __future__ import annotations

import re
from typing import Any

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


class JSONProvider(DefaultJSONProvider):
    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        value = super().loads(s, **kwargs)
        if holds_lone_surrogate(value):
            # Not a ValueError: get_json(silent=True) would swallow it and the caller would say only "not JSON".
            raise BadRequest(
                "A string in the body holds a lone surrogate (\\ud800 to \\udfff without its pair), "
                "which is no character; nothing was changed."
            )
        return value
