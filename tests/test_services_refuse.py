"""Services refuse what the faces refuse: called directly, without a page or the API in front, each verb checks
its actor and its input itself and changes nothing when it refuses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from ceasefire.errors import Forbidden, InvalidTransition, StaleVersion, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import EnforcementAction, Invitation, StatusChange, User
from ceasefire.models.enums import ReferralStatus, Role, State
from ceasefire.services import accounts, events
from ceasefire.services import referrals as referral_service

STRONG = "a long enough passphrase for tests"


def _count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def referral(users, make_participant, make_service):
    participant = make_participant(users["caseworker"], consent_to_share=True)
    service = make_service()
    made = referral_service.send_referral(users["caseworker"], participant, service, "note")
    db.session.commit()
    return made


@pytest.mark.parametrize("status", ["sent", "SENT", "done", ""])
def test_a_referral_cannot_be_set_to_sent_or_to_a_status_that_does_not_exist(users, referral, status):
    with pytest.raises((InvalidTransition, ValidationFailed)) as caught:
        referral_service.set_status(users["supervisor"], referral, status)
    db.session.rollback()
    assert caught.value.status in (409, 422)
    assert db.session.get(type(referral), referral.id).status == ReferralStatus.SENT


@pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
def test_only_an_admin_adds_users(users, role):
    before = _count(User)
    with pytest.raises(Forbidden):
        accounts.create_user(users[role.value], "new.person@example.org", "New Person", Role.CASEWORKER, STRONG)
    db.session.rollback()
    assert _count(User) == before


@pytest.mark.parametrize(("email", "name", "role", "field"), [
    ("", "Name", "caseworker", "email"),
    ("not-an-address", "Name", "caseworker", "email"),
    ("x@" + "e" * 260 + ".org", "Name", "caseworker", "email"),
    ("ok@example.org", "  ", "caseworker", "name"),
    ("ok@example.org", "N" * 101, "caseworker", "name"),
    ("ok@example.org", "Name", "janitor", "role"),
])
def test_create_user_checks_its_input(users, email, name, role, field):
    before = _count(User)
    with pytest.raises(ValidationFailed) as caught:
        accounts.create_user(users["admin"], email, name, role, STRONG)
    db.session.rollback()
    assert field in caught.value.fields
    assert _count(User) == before


def test_an_admin_adds_a_user_directly(users):
    made = accounts.create_user(users["admin"], "dana@example.org", "Dana Rivera", "caseworker", STRONG)
    db.session.commit()
    assert (made.role, made.name) == (Role.CASEWORKER, "Dana Rivera")


def test_verbs_check_role_input_version_and_state_in_that_order(users, make_participant, make_forum):
    participant = make_participant(users["caseworker"])
    forum = make_forum()
    changes = _count(StatusChange)
    with pytest.raises(Forbidden):  # police may not invite, whatever else is wrong
        events.invite(users["police"], participant, 99, None, "nonsense")
    with pytest.raises(ValidationFailed) as caught:
        events.invite(users["caseworker"], participant, 99, forum.id, "nonsense")
    assert "method" in caught.value.fields
    with pytest.raises(StaleVersion):
        events.invite(users["caseworker"], participant, 99, forum.id, "letter")
    with pytest.raises(InvalidTransition):
        events.check_in(users["caseworker"], participant, participant.version)
    db.session.rollback()
    assert (_count(StatusChange), _count(Invitation)) == (changes, 0)


def test_enforce_refuses_a_date_in_the_future_and_a_missing_agency(users, make_participant):
    participant = make_participant(users["caseworker"])
    with pytest.raises(ValidationFailed) as caught:
        events.enforce(users["police"], participant, 1, "arrest", date.today() + timedelta(days=2))
    assert "occurred_on" in caught.value.fields
    with pytest.raises(ValidationFailed) as caught:
        events.enforce(users["supervisor"], participant, 1, "arrest", date.today())  # a supervisor has no agency
    assert "agency_id" in caught.value.fields
    db.session.rollback()
    assert _count(EnforcementAction) == 0


def test_a_verb_writes_the_event_and_its_rows_together(users, make_participant, make_forum):
    participant = make_participant(users["caseworker"])
    forum = make_forum()
    invitation = events.invite(users["caseworker"], participant, 1, forum.id, "letter")
    db.session.commit()
    assert (participant.state, participant.version, invitation.forum_id) == (State.INVITED, 2, forum.id)
    (last,) = db.session.scalars(
        sa.select(StatusChange).where(StatusChange.participant_id == participant.id).order_by(StatusChange.id.desc())
        .limit(1)
    )
    assert (last.event, last.from_state, last.to_state) == ("invite", State.IDENTIFIED, State.INVITED)


def test_an_api_read_writes_the_token_use_at_most_once_a_minute(users, make_participant, api_as, monkeypatch):
    """Every authenticated read used to write api_tokens.last_used_at, holding SQLite's write lock to the commit."""
    from ceasefire.models import ApiToken, base

    api = api_as(users["caseworker"])
    statements: list[str] = []
    sa.event.listen(db.engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *args: statements.append(statement))
    assert api.get("/participants")[0] == 200
    assert api.get("/participants")[0] == 200
    writes = [s for s in statements if s.lstrip().upper().startswith("UPDATE API_TOKENS")]
    assert len(writes) == 1
    first_use = db.session.scalar(sa.select(ApiToken.last_used_at))
    later = first_use + timedelta(minutes=1, seconds=1)
    monkeypatch.setattr(base, "utcnow", lambda: later)
    monkeypatch.setattr(accounts, "utcnow", lambda: later)
    assert api.get("/participants")[0] == 200
    db.session.expire_all()
    assert db.session.scalar(sa.select(ApiToken.last_used_at)) == later


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
