"""Names to suggest as a user types into a look-up (static/js/lookup.js): at most CANDIDATES rows of the kind, for a
signed-in user whose role may choose them (the same rows the form would resolve). A page's helper, not the API."""

from __future__ import annotations

from flask import jsonify, request

from ceasefire import limits
from ceasefire.errors import error_response
from ceasefire.pages import actor, signed_in_blueprint
from ceasefire.services import lookup

bp = signed_in_blueprint("lookup", __name__, "/lookup")


@bp.get("/<kind>")
def names(kind: str):
    user = actor()
    if kind not in lookup.KINDS:
        return error_response(404, "not_found", "No such look-up.")
    if not lookup.may_look_up(user, kind):
        return error_response(403, "forbidden", "Your role may not choose these.")
    text = (request.args.get("q") or "")[: limits.NAME]
    return jsonify([{"id": c.id, "text": c.text} for c in lookup.suggest(kind, text)])
