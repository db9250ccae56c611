"""seed-demo above 1,000 participants: the first hundred through the services, the rest copied in bulk with
their whole history (ceasefire.demo_bulk)."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import pairwise

import sqlalchemy as sa

from ceasefire import demo
from ceasefire.extensions import db
from ceasefire.models import (
    AuditEvent,
    Consent,
    EnforcementAction,
    Forum,
    Invitation,
    Outcome,
    Participant,
    Referral,
    ReferralEvent,
    StatusChange,
    User,
)
from ceasefire.models.enums import State

COUNT = 1250  # 100 templates, then 11 full turns of copies (1,100) and 50 more: templates 1-50 copied 12 times


def _per_participant(model, ids) -> Counter:
    return Counter(db.session.scalars(sa.select(model.participant_id).where(model.participant_id.isnot(None))))


def test_bulk_seed_copies_the_templates_whole_history(runner, client, auth):
    result = runner.invoke(args=["seed-demo", "--participants", str(COUNT)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()

    people = {p.id: p for p in db.session.scalars(sa.select(Participant))}
    assert len(people) == COUNT
    templates = sorted(people)[:100]
    assert templates == list(range(1, 101))
    copies = {t: 1 + 11 + (1 if t <= 50 else 0) for t in templates}  # the template itself and its copies
    assert sum(copies.values()) == COUNT
    assert {p.state for p in people.values()} == set(State)

    # Every table that hangs off a participant holds each template's rows once per copy.
    for model in (StatusChange, Consent, Invitation, Referral, Outcome, EnforcementAction, AuditEvent):
        per = _per_participant(model, people)
        assert sum(per.values()) == sum(per[t] * copies[t] for t in templates), model.__tablename__
    assert db.session.scalar(sa.select(sa.func.count(Outcome.id))) > 0

    # Each history starts with "create", chains state to state, never runs backwards, ends in the current state.
    histories = defaultdict(list)
    for change in db.session.scalars(sa.select(StatusChange).order_by(StatusChange.id)):
        histories[change.participant_id].append(change)
    assert set(histories) == set(people)
    for pid, rows in histories.items():
        assert (rows[0].event, rows[0].from_state) == ("create", None)
        assert all(a.to_state == b.from_state for a, b in pairwise(rows)), pid
        assert all(a.at <= b.at for a, b in pairwise(rows)), pid
        assert rows[-1].to_state == people[pid].state

    # Referral events belong to a referral of the same copy; the audit rows name real objects of their participant.
    referrals = {r.id: r for r in db.session.scalars(sa.select(Referral))}
    events = list(db.session.scalars(sa.select(ReferralEvent)))
    assert all(e.referral_id in referrals for e in events)
    per_referral = Counter(e.referral_id for e in events)
    template_referrals = [r for r in referrals.values() if r.participant_id <= 100]
    assert len(events) == sum(per_referral[r.id] * copies[r.participant_id] for r in template_referrals)
    assert all(referrals[e.referral_id].participant_id in people for e in events)
    for row in db.session.scalars(sa.select(AuditEvent).where(AuditEvent.participant_id.isnot(None))):
        if row.object_type == "participant":
            assert row.object_id == row.participant_id
        elif row.object_type == "referral":
            assert referrals[row.object_id].participant_id == row.participant_id

    # Invitees go to forums of 15 to 40 (a forum's last bucket may be left short), about one forum per 25.
    sizes = Counter(db.session.scalars(sa.select(Invitation.forum_id)))
    invited = sum(sizes.values())
    forums = db.session.scalar(sa.select(sa.func.count(Forum.id)))
    assert forums == len(sizes)
    assert max(sizes.values()) <= 40
    assert invited / 40 <= forums <= invited / 15 + 3
    for inv, forum_status in db.session.execute(
        sa.select(Invitation, Forum.status).join(Forum, Forum.id == Invitation.forum_id)
    ):
        # A planned forum has only unanswered invitations; attendance is recorded at a held one.
        assert forum_status == "held" or inv.attended is None

    # The app goes on from there: the next participant gets the next id, and the API lists everyone.
    caseworker = db.session.scalar(sa.select(User).where(User.email == "caseworker@demo.ceasefire.test"))
    assert auth.login(caseworker, demo.PASSWORD).status_code == 302
    response = client.post("/participants/new", data={"first_name": "Nia", "last_name": "Okoro"})
    assert response.status_code == 302, response.text
    new = db.session.scalar(sa.select(Participant).where(Participant.first_name == "Nia"))
    assert new.id == COUNT + 1
