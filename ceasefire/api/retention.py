"""/reviews, /participants/{id}/review, /removal-requests: due process and retention (API.md)."""

from __future__ import annotations

from flask import g

from ceasefire import policy
from ceasefire.api import bp, done, paging, retention_shapes, serialize
from ceasefire.api.schema import body, query
from ceasefire.services import read, retention, retention_read


@bp.get("/reviews")
def list_reviews():
    user = g.user
    policy.require(user, "review.list")
    values = query(retention_shapes.ReviewQuery)
    listing = retention_read.review_page(user, *paging(), due_before=values["due_before"])
    return done(serialize.page(listing))


@bp.post("/participants/<int:participant_id>/review")
def review_participant(participant_id: int):
    user = g.user
    policy.require(user, "review.decide")  # every role but supervisor: 403 whatever the id
    participant = policy.get_participant(user, participant_id, "review.decide")
    values = body(retention_shapes.ReviewBody)
    retention.review(user, participant, values["decision"], values["reason"])
    if participant.purged_at is not None:
        return done({"id": participant.id, "purged": True})
    return done(serialize.encode(read.participant_record(user, participant)))


@bp.post("/participants/<int:participant_id>/removal-requests")
def create_removal_request(participant_id: int):
    user = g.user
    policy.require(user, "removal_request.create")  # roles that never see removal requests: 403 whatever the id
    participant = policy.get_participant(user, participant_id, "removal_request.create")
    values = body(retention_shapes.RemovalRequestCreate)
    request = retention.file_removal_request(
        user, participant, values["received_on"], values["requested_by"], values["grounds"]
    )
    record = serialize.encode(retention_read.removal_request_record(user, request))
    record.pop("overdue", None)
    return done(record, 201)


@bp.get("/removal-requests")
def list_removal_requests():
    user = g.user
    policy.require(user, "removal_request.list")
    values = query(retention_shapes.RemovalRequestQuery)
    listing = retention_read.removal_request_page(user, *paging(), status=values["status"])
    return done(serialize.page(listing))


@bp.post("/removal-requests/<int:removal_request_id>/decision")
def decide_removal_request(removal_request_id: int):
    user = g.user
    policy.require(user, "removal_request.decide")  # every role but supervisor: 403 whatever the id
    request = retention.get_removal_request(user, removal_request_id, "removal_request.decide")
    values = body(retention_shapes.DecisionBody)
    retention.decide(user, request, values["decision"], values["reason"])
    return done(serialize.encode(retention_read.removal_request_record(user, request)))
