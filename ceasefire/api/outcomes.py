"""/participants/{id}/outcomes: what happened to a participant after the fact."""

from __future__ import annotations

from flask import g

from ceasefire import policy
from ceasefire.api import bp, done, report_shapes, serialize
from ceasefire.api.schema import body, json_body
from ceasefire.models.enums import OutcomeType
from ceasefire.services import outcomes as service


@bp.get("/participants/<int:participant_id>/outcomes")
def list_outcomes(participant_id: int):
    user = g.user
    policy.require(user, "outcome.view")  # roles that never see outcomes: 403 whatever the id
    participant = policy.get_participant(user, participant_id, "outcome.view")
    return done({"items": [serialize.outcome(o) for o in service.outcomes_for(user, participant)]})


@bp.post("/participants/<int:participant_id>/outcomes")
def create_outcome(participant_id: int):
    user = g.user
    policy.require(user, "outcome.create")
    participant = policy.get_participant(user, participant_id, "outcome.create")
    data = json_body()
    if data.get("type") in {t.value for t in OutcomeType}:
        policy.require_outcome_type(user, OutcomeType(data["type"]))  # 403 comes before the body's 422s
    values = body(report_shapes.OutcomeCreate, data)
    outcome = service.record_outcome(user, participant, values["type"], values["occurred_on"], values.get("note"))
    return done(serialize.outcome(outcome), 201)
