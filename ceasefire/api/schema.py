"""Reading JSON bodies and query strings against the models of ceasefire.api.shapes: the 400s and the
shape-and-value 422s of API.md."""

from __future__ import annotations

import re
from typing import Any

from flask import request
from pydantic import BaseModel

from ceasefire.api import rules
from ceasefire.api.shapes import INT_MAX, INT_MIN, Paging, ShapeError, describe, validated
from ceasefire.errors import BadRequest, ValidationFailed

INT_RANGE = range(INT_MIN, INT_MAX + 1)  # what an INTEGER column holds on every database
_WHOLE = re.compile(rules.WHOLE_NUMBER)


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


def body(model: type[BaseModel], data: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fields sent, typed; 422 naming every field that is unknown, missing or wrong."""
    try:
        return validated(model, json_body() if data is None else data)
    except ShapeError as exc:
        raise ValidationFailed("Some fields need attention.", exc.fields) from None


def whole_number(raw: str) -> int:
    if not _WHOLE.fullmatch(raw):
        raise ValueError(raw)
    return int(raw)


def query(model: type[BaseModel]) -> dict[str, Any]:
    """The model's query parameters (paging aside, which page_of reads), typed; an empty value is left out."""
    raw: dict[str, Any] = {}
    for name in model.model_fields:
        value = request.args.get(name)
        if name in Paging.model_fields or value is None or value == "":
            continue
        if describe(model, name)[0] != "int":
            raw[name] = value
            continue
        try:
            raw[name] = whole_number(value)
        except ValueError:
            raise ValidationFailed("Bad query parameter.", {name: "Must be a whole number."}) from None
    try:
        values = validated(model, raw)
    except ShapeError as exc:
        fields = {k: v.replace("This field", "This parameter", 1) for k, v in exc.fields.items()}
        raise ValidationFailed("Bad query parameter.", fields) from None
    return {name: values.get(name) for name in model.model_fields if name not in Paging.model_fields}
