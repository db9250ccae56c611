"""Behaviour pinned after review: invitations end with the pipeline, search takes wildcards literally."""

from __future__ import annotations

from datetime import date

import pytest

from ceasefire.errors import ValidationFailed
from ceasefire.services import events


@pytest.mark.parametrize(("event", "extra", "actor_role"), [
    ("enforce", {"action_type": "arrest", "occurred_on": "2026-11-01"}, "police"),
    ("close", {"reason": "moved"}, "caseworker"),
])
def test_leaving_the_pipeline_while_invited_ends_the_invitation(users, api_as, make_participant, make_forum,
                                                                event, extra, actor_role):
    cw = api_as(users["caseworker"])
    forum = make_forum()
    p = make_participant(users["caseworker"])
    status, body = cw.post(f"/participants/{p.id}/events",
                           json={"event": "invite", "version": 1, "forum_id": forum.id, "method": "letter"})
    assert status == 200
    status, body = api_as(users[actor_role]).post(f"/participants/{p.id}/events",
                                                  json={"event": event, "version": 2, **extra})
    assert status == 200, body
    status, forum_body = cw.get(f"/forums/{forum.id}")
    assert forum_body["invitations"] == [
        {"participant_id": p.id, "method": "letter", "attended": False, "checked_in_at": None}
    ]
    assert events.open_invitation(p) is None


@pytest.mark.parametrize(("q", "expected"), [("_", ["Ann_Marie"]), ("%", ["100%"]), ("ann", ["Ann_Marie", "Annie"])])
def test_search_takes_wildcards_literally(users, api_as, make_participant, q, expected):
    for first in ("Ann_Marie", "Annie", "100%", "Bob"):
        make_participant(users["caseworker"], first_name=first, last_name="Test")
    status, body = api_as(users["caseworker"]).get("/participants", query_string={"q": q})
    assert status == 200
    assert sorted(i["first_name"] for i in body["items"]) == expected


@pytest.mark.parametrize(("event", "data", "field"), [
    ("invite", {"method": "pigeon"}, "method"),
    ("enforce", {"action_type": "frown", "occurred_on": date(2026, 1, 1)}, "action_type"),
    ("enforce", {"action_type": "arrest", "occurred_on": "yesterday"}, "occurred_on"),
])
def test_services_refuse_bad_values_from_any_caller(users, make_participant, make_forum, event, data, field):
    """The pages and the API check their input first; the services still answer 422, never a crash."""
    actor = users["caseworker"] if event == "invite" else users["police"]
    p = make_participant(users["supervisor"])
    if event == "invite":
        data = data | {"forum_id": make_forum().id}
    with pytest.raises(ValidationFailed) as exc:
        events.perform(actor, p, p.version, event, data)
    assert field in exc.value.fields


def test_a_provider_sees_no_referral_closed_before_the_window_in_a_record(users, api_as, make_participant,
                                                                         make_service):
    from datetime import timedelta

    import sqlalchemy as sa

    from ceasefire.extensions import db
    from ceasefire.models import Referral
    from ceasefire.models.base import utcnow
    from ceasefire.models.enums import ReferralStatus
    from ceasefire.services import referrals

    provider = users["provider"]
    p = make_participant(users["caseworker"], consent_to_share=True)
    old = referrals.send_referral(users["caseworker"], p, make_service(provider.organization), None)
    referrals.set_status(provider, old, ReferralStatus.DECLINED, "Full")
    recent = referrals.send_referral(users["caseworker"], p, make_service(provider.organization, "GED"), None)
    db.session.commit()
    db.session.execute(sa.update(Referral).where(Referral.id == old.id)
                       .values(closed_at=utcnow() - timedelta(days=91)))
    db.session.commit()
    status, body = api_as(provider).get(f"/participants/{p.id}")
    assert status == 200
    assert [r["id"] for r in body["referrals"]] == [recent.id]
    status, body = api_as(users["caseworker"]).get(f"/participants/{p.id}")
    assert sorted(r["id"] for r in body["referrals"]) == sorted([old.id, recent.id])


def test_services_offered_tells_a_provider_only_of_their_own_referrals(users, api_as, make_participant,
                                                                       make_service, make_org):
    from ceasefire.extensions import db
    from ceasefire.models.enums import ReferralStatus
    from ceasefire.services import referrals

    provider = users["provider"]
    p = make_participant(users["caseworker"], consent_to_share=True)
    mine = referrals.send_referral(users["caseworker"], p, make_service(provider.organization), None)
    referrals.send_referral(users["caseworker"], p, make_service(make_org("provider")), None)
    referrals.set_status(users["caseworker"], mine, ReferralStatus.WITHDRAWN)
    db.session.commit()
    # Still in scope (a withdrawn referral closed today), but the open referral is another provider's.
    status, body = api_as(provider).get(f"/participants/{p.id}")
    assert status == 200
    assert body["services_offered"] is False
    assert api_as(users["police"]).get(f"/participants/{p.id}")[1]["services_offered"] is True
