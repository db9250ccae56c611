"""seed-demo above 1,000 participants: the first hundred through the services, the rest copied in bulk with
their whole history (ceasefire.demo_bulk)."""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import pairwise

import sqlalchemy as sa

from ceasefire import demo, demo_staff
from ceasefire.extensions import db
from ceasefire.models import (
    AuditEvent,
    Consent,
    CustomNotification,
    EnforcementAction,
    Forum,
    Invitation,
    Note,
    Outcome,
    OutreachContact,
    Participant,
    Referral,
    ReferralEvent,
    Service,
    StatusChange,
    User,
)
from ceasefire.models.enums import Role, State
from ceasefire.models.fieldwork import custom_notification_users

COUNT = 1250  # 100 templates, then 11 full turns of copies (1,100) and 50 more: templates 1-50 copied 12 times


def _per_participant(model, ids) -> Counter:
    return Counter(db.session.scalars(sa.select(model.participant_id).where(model.participant_id.isnot(None))))


def test_bulk_seed_copies_the_templates_whole_history(runner, client, auth, monkeypatch):
    monkeypatch.setattr(demo_staff, "PER_PROVIDER_SET", 400)  # three sets of providers, the demo's the first
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
    for model in (StatusChange, Consent, Invitation, Referral, Outcome, EnforcementAction, AuditEvent, Note,
                  OutreachContact, CustomNotification):
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

    owners = {kind: dict(db.session.execute(sa.select(model.id, model.participant_id)).all()) for kind, model in (
        ("note", Note), ("outreach_contact", OutreachContact), ("custom_notification", CustomNotification),
        ("outcome", Outcome), ("invitation", Invitation))}
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
        elif row.object_type in owners:
            assert owners[row.object_type][row.object_id] == row.participant_id, row.object_type

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

    # A copy's history names its own staff and partners: its caseworker acts on it, its providers answer its
    # referrals, its community organization does its outreach, and the visit's team names a real partner.
    for change, caseworker in db.session.execute(
        sa.select(StatusChange, Participant.caseworker_id).join(Participant)
        .join(User, User.id == StatusChange.actor_id)
        .where(User.role == Role.CASEWORKER, Participant.id > 100, Participant.id <= COUNT)  # the copies
    ):
        assert change.actor_id == caseworker
    providers = dict(db.session.execute(
        sa.select(User.id, User.organization_id).where(User.role == Role.PROVIDER)).all())
    service_orgs = dict(db.session.execute(sa.select(Service.id, Service.organization_id)).all())
    assert len(set(service_orgs.values())) == 3 * 4
    for event in events:
        if event.actor_id in providers:
            assert providers[event.actor_id] == service_orgs[referrals[event.referral_id].service_id]
    assert len({service_orgs[r.service_id] for r in referrals.values()}) == 3 * 4
    for contact in db.session.scalars(sa.select(OutreachContact)):
        assert contact.organization_id == people[contact.participant_id].community_org_id
    team = db.session.execute(sa.select(custom_notification_users.c.user_id)).scalars().all()
    assert len(team) == 2 * db.session.scalar(sa.select(sa.func.count(CustomNotification.id)))
    assert all(db.session.get(User, user) is not None for user in set(team))


def test_bulk_seed_grows_the_staff_with_the_program(runner):
    """Caseloads, groups and community assignments stay the size of a real program's; the sign-ins printed are the
    demo's alone."""
    result = runner.invoke(args=["seed-demo", "--participants", str(COUNT)])
    assert result.exit_code == 0, result.output
    assert result.output.count("@demo.ceasefire.test") == 10
    db.session.expire_all()
    roles = Counter(db.session.scalars(sa.select(User.role)))
    assert roles[Role.CASEWORKER] == COUNT // demo_staff.PER_CASEWORKER
    caseloads = Counter(db.session.scalars(sa.select(Participant.caseworker_id)))
    assert len(caseloads) == roles[Role.CASEWORKER]
    assert max(caseloads.values()) < 3 * demo_staff.PER_CASEWORKER
    groups = Counter(db.session.scalars(sa.select(Participant.group_id)))
    assert len(groups) > COUNT // demo_staff.PER_GROUP * 0.9
    assert max(groups.values()) < 4 * demo_staff.PER_GROUP
    emails = list(db.session.scalars(sa.select(User.email)))
    assert len(emails) == len(set(emails))


def test_a_bulk_seed_on_postgresql_leaves_every_table_vacuumed_and_analyzed(runner):
    """What autovacuum would do in time, done at once: a report's count or median read off an index of the kept
    stage entries need not visit the table row by row (at a million participants the pipeline report took 1.7 s
    before, 0.3 s after), and the planner knows every table's size."""
    result = runner.invoke(args=["seed-demo", "--participants", str(COUNT)])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    if db.engine.dialect.name != "postgresql":
        assert db.engine.dialect.name == "sqlite"  # SQLite has no VACUUM of this kind to wait for
        return
    settled = dict(db.session.execute(sa.text(
        "SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables"
    )).all())
    assert [table for table in ("stage_entries", "participants", "status_changes") if not settled[table]] == []
    visible = db.session.scalar(sa.text("SELECT relallvisible FROM pg_class WHERE relname = 'stage_entries'"))
    assert visible > 0
