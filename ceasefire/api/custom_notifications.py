"""/participants/{id}/custom-notifications: home and street visits by police and community partners."""

from __future__ import annotations

from flask import g

from ceasefire import policy
from ceasefire.api import bp, done, report_shapes
from ceasefire.api.schema import body
from ceasefire.api.serialize import encode
from ceasefire.services import fieldwork as service


@bp.get("/participants/<int:participant_id>/custom-notifications")
def list_custom_notifications(participant_id: int):
    user = g.user
    policy.require_kind(user, "custom_notification")  # roles that never see them: 403 whatever the id
    participant = policy.get_participant(user, participant_id, "custom_notification.view")
    return done({"items": encode(service.custom_notifications_for(user, participant))})


@bp.post("/participants/<int:participant_id>/custom-notifications")
def create_custom_notification(participant_id: int):
    user = g.user
    policy.require_kind(user, "custom_notification")
    participant = policy.get_participant(user, participant_id, "custom_notification.create")
    values = body(report_shapes.CustomNotificationCreate)
    notification = service.record_custom_notification(
        user, participant, values["delivered_at"], values["place"], values["message"], values.get("response"),
        values.get("team_user_ids", ()), values.get("team_organization_ids", ()),
    )
    return done(encode(service.custom_notification_record(notification)), 201)
