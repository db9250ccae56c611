"""/participants: list, create, read, patch, events, history."""

from __future__ import annotations

from flask import g

from ceasefire import limits, pipeline, policy
from ceasefire.api import bp, done, paging, serialize
from ceasefire.api.schema import F, json_body, name_f, query_arg, text_f, validate
from ceasefire.errors import ValidationFailed
from ceasefire.models.enums import ActionType, DeliveryMethod, State, SupervisionStatus
from ceasefire.services import audit, events, read
from ceasefire.services import participants as service

PARTICIPANT_SPEC: dict[str, F] = {
    "first_name": name_f(),
    "last_name": name_f(),
    "aliases": F("str", limits.ALIASES),
    "date_of_birth": F("date"),
    "phone": F("str", limits.PHONE),
    "address": F("str", limits.ADDRESS),
    "group_id": F("int"),
    "supervision_status": F("enum", enum=SupervisionStatus, nullable=False),
    "supervising_agency": F("str", limits.TITLE),
    "identification_basis": text_f(),
    "caseworker_id": F("int"),
    "community_org_id": F("int"),
    "consent_to_share": F("bool", nullable=False),
}

VERSION = F("int")  # required: the version the caller read

EVENT_SPEC: dict[str, F] = {
    "event": F("str", 32),
    "version": VERSION,
    "forum_id": F("int"),
    "method": F("enum", enum=DeliveryMethod),
    "action_type": F("enum", enum=ActionType),
    "occurred_on": F("date"),
    "description": text_f(),
    "incident_ref": F("str", limits.NAME),
    "agency_id": F("int"),
    "reason": text_f(),
}


@bp.get("/participants")
def list_participants():
    user = g.user
    policy.require(user, "participant.list")
    state = query_arg("state", F("enum", enum=State))
    group_id = query_arg("group_id", F("int"))
    q = query_arg("q", F("str", limits.NAME))
    listing = read.participant_page(user, *paging(), state=state, group_id=group_id, q=q)
    return done(serialize.page(listing))


@bp.post("/participants")
def create_participant():
    user = g.user
    policy.require(user, "participant.create")
    data = json_body()
    service.check_settable(user, data.keys())
    values = validate(data, PARTICIPANT_SPEC, required=("first_name", "last_name"))
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
    if "state" in data:
        raise ValidationFailed(
            "The state changes only through events.",
            {"state": "The state is never set directly; POST an event to /participants/{id}/events."},
        )
    values = validate(data, PARTICIPANT_SPEC | {"version": VERSION}, required=("version",))
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
    values = validate(data, EVENT_SPEC, required=("version",))
    events.perform(user, participant, values["version"], name, values)
    return done(serialize.encode(read.participant_record(user, participant)))


@bp.get("/participants/<int:participant_id>/history")
def participant_history(participant_id: int):
    user = g.user
    participant = policy.get_participant(user, participant_id, "participant.history")
    rows = read.history(user, participant)
    audit.record(user, "view", "participant", participant.id, "history")
    return done({"items": serialize.encode(rows)})
