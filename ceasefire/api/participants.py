"""/participants: list, create, read, patch, events, history."""

from __future__ import annotations

from flask import g

from ceasefire import pipeline, policy
from ceasefire.api import bp, done, paging, serialize, shapes
from ceasefire.api.schema import body, json_body, query
from ceasefire.errors import ValidationFailed
from ceasefire.services import audit, events, read, retention
from ceasefire.services import participants as service


@bp.get("/participants")
def list_participants():
    user = g.user
    policy.require(user, "participant.list")
    listing = read.participant_page(user, *paging(), **query(shapes.ParticipantQuery))
    return done(serialize.page(listing))


@bp.post("/participants")
def create_participant():
    user = g.user
    policy.require(user, "participant.create")
    data = json_body()
    service.check_settable(user, data.keys())
    retention.refuse_review_date(data)
    values = body(shapes.ParticipantCreate, data)
    participant = service.create_participant(user, values)
    return done(serialize.encode(read.participant_record(user, participant)), 201)


@bp.get("/participants/<int:participant_id>")
def get_participant(participant_id: int):
    user = g.user
    participant = policy.get_participant(user, participant_id)
    audit.record(user, "view", "participant", participant.id)
    return done(serialize.encode(read.participant_record(user, participant)))


@bp.patch("/participants/<int:participant_id>")
def patch_participant(participant_id: int):
    user = g.user
    participant = policy.get_participant(user, participant_id, "participant.update")
    data = json_body()
    service.check_settable(user, data.keys())
    retention.refuse_review_date(data)
    if "state" in data:
        raise ValidationFailed(
            "The state changes only through events.",
            {"state": "The state is never set directly; POST an event to /participants/{id}/events."},
        )
    values = body(shapes.ParticipantPatch, data)
    version = values.pop("version")
    service.update_participant(user, participant, version, values)
    return done(serialize.encode(read.participant_record(user, participant)))


@bp.post("/participants/<int:participant_id>/events")
def post_event(participant_id: int):
    user = g.user
    participant = policy.get_participant(user, participant_id, "participant.event")
    data = json_body()
    name = data.get("event")
    if not isinstance(name, str):
        raise ValidationFailed("Name the event.", {"event": "This field is required."})
    pipeline.authorize(name, user)
    values = body(shapes.EVENTS[name], data)
    events.perform(user, participant, values["version"], name, values)
    return done(serialize.encode(read.participant_record(user, participant)))


@bp.get("/participants/<int:participant_id>/history")
def participant_history(participant_id: int):
    user = g.user
    participant = policy.get_participant(user, participant_id, "participant.history")
    rows = read.history(user, participant)
    audit.record(user, "view", "participant", participant.id, "history")
    return done({"items": serialize.encode(rows)})
