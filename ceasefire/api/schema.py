"""Checking JSON bodies and query strings: the 400s and the shape-and-value 422s of API.md."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from flask import request

from ceasefire import limits
from ceasefire.errors import BadRequest, ValidationFailed


@dataclass(frozen=True)
class F:
    kind: str  # str | text | int | bool | date | datetime | enum
    max_len: int | None = None
    enum: type[StrEnum] | None = None
    nullable: bool = True


def name_f() -> F:
    return F("str", limits.NAME)


def text_f() -> F:
    return F("str", limits.TEXT)


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
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
    if f.kind == "str":
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if f.max_len is not None and len(value) > f.max_len:
            raise ValueError(f"must be at most {f.max_len} characters")
        return value
    if f.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number")
        if not -(2**31) <= value < 2**31:
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
        if not isinstance(value, str):
            raise ValueError("must be an ISO 8601 time, e.g. 2026-11-23T17:00:00Z")
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError("must be an ISO 8601 time, e.g. 2026-11-23T17:00:00Z") from None
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
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
        if name not in problems and (out.get(name) is None or out.get(name) == ""):
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
            return int(raw)
        except ValueError:
            raise ValidationFailed("Bad query parameter.", {name: "Must be a whole number."}) from None
    try:
        return _convert(name, raw, f)
    except ValueError as exc:
        raise ValidationFailed("Bad query parameter.", {name: f"This parameter {exc}."}) from None
