"""Checking JSON bodies and query strings: the 400s and the shape-and-value 422s of API.md."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from flask import request

from ceasefire import limits
from ceasefire.errors import BadRequest, ValidationFailed

# ISO 8601 extended format with a time: 2026-11-23T17:00, …:00, …:00.5, with Z or ±hh:mm (UTC when left out).
DATETIME_PATTERN = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")
INT_RANGE = range(-(2**31), 2**31)  # what an INTEGER column holds on every database


@dataclass(frozen=True)
class F:
    kind: str  # str | email | int | bool | date | datetime | enum
    max_len: int | None = None
    enum: type[StrEnum] | None = None
    nullable: bool = True


def name_f() -> F:
    return F("str", limits.NAME)


def text_f() -> F:
    return F("str", limits.TEXT)


def _looks_like_email(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    return bool(at and local and "." in domain.strip(".") and not any(c.isspace() for c in value))


def json_body() -> dict[str, Any]:
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # nested deeper than the parser goes
        data = None
    if data is None:
        raise BadRequest("The body must be JSON (Content-Type: application/json).")
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object.")
    return data


def _convert(name: str, value: Any, f: F) -> Any:
    if value is None:
        if not f.nullable:
            raise ValueError("may not be null")
        return None
    if f.kind in ("str", "email"):
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if f.max_len is not None and len(value) > f.max_len:
            raise ValueError(f"must be at most {f.max_len} characters")
        if "\x00" in value:  # PostgreSQL cannot store it
            raise ValueError("may not contain NUL characters")
        if f.kind == "email" and value and not _looks_like_email(value):
            raise ValueError("must be an email address")
        return value
    if f.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number")
        if value not in INT_RANGE:
            raise ValueError("is out of range")
        return value
    if f.kind == "bool":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if f.kind == "date":
        if not isinstance(value, str):
            raise ValueError("must be a date, YYYY-MM-DD")
        try:
            if len(value) != len("YYYY-MM-DD"):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError("must be a date, YYYY-MM-DD") from None
    if f.kind == "datetime":
        message = "must be an ISO 8601 time, e.g. 2026-11-23T17:00:00Z"
        if not isinstance(value, str) or not DATETIME_PATTERN.fullmatch(value):
            raise ValueError(message)
        try:
            parsed = datetime.fromisoformat(value)
            return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
        except (ValueError, OverflowError):  # no such day or hour, or outside years 1-9999 once in UTC
            raise ValueError(message) from None
    if f.kind == "enum" and f.enum is not None:
        allowed = [m.value for m in f.enum]
        if not isinstance(value, str) or value not in allowed:
            raise ValueError("must be one of: " + ", ".join(allowed))
        return f.enum(value)
    raise TypeError(f"unknown field kind {f.kind}")


def validate(
    data: dict[str, Any],
    spec: dict[str, F],
    required: tuple[str, ...] = (),
    ignore: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Typed values for the fields sent; 422 naming every field that is unknown, missing or wrong."""
    problems: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, value in data.items():
        if name in ignore:
            continue
        f = spec.get(name)
        if f is None:
            problems[name] = "Unknown field."
            continue
        try:
            out[name] = _convert(name, value, f)
        except ValueError as exc:
            problems[name] = f"This field {exc}."
    for name in required:
        value = out.get(name)
        if name not in problems and (value is None or (isinstance(value, str) and not value.strip())):
            problems[name] = "This field is required."
    if problems:
        raise ValidationFailed("Some fields need attention.", problems)
    return out


def query_arg(name: str, f: F) -> Any:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if f.kind == "int":
        try:
            raw = int(raw)
        except ValueError:
            raise ValidationFailed("Bad query parameter.", {name: "Must be a whole number."}) from None
    try:
        return _convert(name, raw, f)
    except ValueError as exc:
        raise ValidationFailed("Bad query parameter.", {name: f"This parameter {exc}."}) from None
