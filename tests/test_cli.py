"""The flask commands of API.md (create-user, create-token, seed-demo), and db-grant."""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from ceasefire.extensions import db
from ceasefire.models import ApiToken, Consent, Forum, Invitation, Outcome, Participant, Referral, StatusChange, User
from ceasefire.models.enums import ForumStatus, OrgKind, ReferralStatus, Role, State
from ceasefire.services import accounts

PASSWORD = "a long enough password"


def _user(email: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(sa.select(User).where(User.email == email))


def _counts() -> dict[str, int]:
    db.session.expire_all()
    return {t.name: db.session.scalar(sa.select(sa.func.count()).select_from(t)) for t in db.metadata.sorted_tables}


# create-user


@pytest.mark.parametrize("role", [r for r in Role if accounts.ROLE_ORG_KINDS[r] is None])
def test_create_user_prints_the_new_id(runner, role):
    result = runner.invoke(args=["create-user", "dana@example.org", "--role", str(role), "--name", "Dana Rivera",
                                 "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    user = _user("dana@example.org")
    assert user is not None
    assert result.output.strip() == str(user.id)
    assert (user.name, user.role, user.organization_id) == ("Dana Rivera", role, None)
    assert accounts.verify_password(user, PASSWORD)
    assert user.password_hash != PASSWORD


@pytest.mark.parametrize(("role", "kind"), [(Role.PROVIDER, OrgKind.PROVIDER), (Role.COMMUNITY, OrgKind.COMMUNITY),
                                            (Role.POLICE, OrgKind.POLICE), (Role.POLICE, OrgKind.PAROLE)])
def test_create_user_with_an_organization(runner, make_org, role, kind):
    org = make_org(kind)
    result = runner.invoke(args=["create-user", "lena@example.org", "--role", str(role), "--organization", str(org.id),
                                 "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    user = _user("lena@example.org")
    assert result.output.strip() == str(user.id)
    assert user.organization_id == org.id


def test_create_user_refuses_a_bad_role(runner):
    result = runner.invoke(args=["create-user", "x@example.org", "--role", "janitor", "--password", PASSWORD])
    assert result.exit_code == 2
    assert "--role" in result.output
    assert "janitor" in result.output
    assert _user("x@example.org") is None


@pytest.mark.parametrize("role", [r for r in Role if accounts.ROLE_ORG_KINDS[r] is not None])
def test_create_user_refuses_a_missing_organization(runner, role):
    before = _counts()
    result = runner.invoke(args=["create-user", "x@example.org", "--role", str(role), "--password", PASSWORD])
    assert result.exit_code == 1
    assert "organization" in result.output
    assert "Traceback" not in result.output
    assert _counts() == before


def test_create_user_refuses_the_wrong_kind_of_organization(runner, make_org):
    community = make_org(OrgKind.COMMUNITY)
    result = runner.invoke(args=["create-user", "x@example.org", "--role", "provider",
                                 "--organization", str(community.id), "--password", PASSWORD])
    assert result.exit_code == 1
    assert "provider organization" in result.output
    assert _user("x@example.org") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "short"], "12 characters"),
        (["--organization", "999999", "--password", PASSWORD], "No such organization"),
    ],
)
def test_create_user_refuses_bad_values(runner, args, message):
    result = runner.invoke(args=["create-user", "x@example.org", "--role", "caseworker", *args])
    assert result.exit_code == 1
    assert message in result.output
    assert _user("x@example.org") is None


def test_create_user_refuses_a_taken_email(runner, make_user):
    existing = make_user(Role.CASEWORKER, email="dana@example.org")
    result = runner.invoke(args=["create-user", "DANA@example.org", "--role", "caseworker", "--password", PASSWORD])
    assert result.exit_code == 1
    assert "already in use" in result.output
    assert db.session.scalars(sa.select(User.id)).all() == [existing.id]  # the one user there was, kept


def test_create_user_asks_for_the_password(runner):
    result = runner.invoke(args=["create-user", "dana@example.org", "--role", "caseworker"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Password" in result.output
    assert PASSWORD not in result.output, "the password was echoed"
    user = _user("dana@example.org")
    assert result.output.splitlines()[-1] == str(user.id)
    assert accounts.verify_password(user, PASSWORD)


def test_create_user_asks_again_when_the_passwords_differ(runner):
    result = runner.invoke(args=["create-user", "dana@example.org", "--role", "caseworker"],
                           input=f"{PASSWORD}\nsomething else entirely\n{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "do not match" in result.output
    assert accounts.verify_password(_user("dana@example.org"), PASSWORD)


# create-token


def test_create_token_prints_a_working_token_last(runner, make_user, client):
    user = make_user(Role.POLICE)
    result = runner.invoke(args=["create-token", user.email])
    assert result.exit_code == 0, result.output
    token = result.output.splitlines()[-1]
    assert token == token.strip()
    assert token
    assert " " not in token
    stored = db.session.scalars(sa.select(ApiToken).where(ApiToken.user_id == user.id)).all()
    assert len(stored) == 1
    assert token not in stored[0].token_hash
    response = client.get("/api/v1/organizations", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()
    assert client.get("/api/v1/organizations", headers={"Authorization": f"Bearer {token}x"}).status_code == 401


def test_create_token_gives_a_new_token_each_time(runner, make_user):
    user = make_user(Role.CASEWORKER)
    first = runner.invoke(args=["create-token", user.email]).output.splitlines()[-1]
    second = runner.invoke(args=["create-token", user.email.upper()]).output.splitlines()[-1]
    assert first != second
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 2


def test_create_token_for_nobody(runner):
    result = runner.invoke(args=["create-token", "nobody@example.org"])
    assert result.exit_code == 1
    assert "No user" in result.output
    assert db.session.scalar(sa.select(sa.func.count(ApiToken.id))) == 0


# seed-demo


def test_seed_demo_fills_an_empty_database(runner, client):
    from ceasefire import demo

    writers: list[str] = []

    def on_set(target, value, oldvalue, initiator):
        module = next(
            name for f in inspect.stack()[1:]
            if not (name := f.frame.f_globals.get("__name__", "")).startswith("sqlalchemy")
        )
        writers.append(module)

    sa.event.listen(Participant.state, "set", on_set)
    try:
        result = runner.invoke(args=["seed-demo", "--participants", "40"])
    finally:
        sa.event.remove(Participant.state, "set", on_set)
    assert result.exit_code == 0, result.output
    assert set(writers) == {"ceasefire.pipeline"}, "the demo changed a state outside the pipeline"
    db.session.expire_all()

    participants = db.session.scalars(sa.select(Participant)).all()
    assert len(participants) == 40
    assert {p.state for p in participants} == set(State)
    assert set(db.session.scalars(sa.select(Referral.status))) == set(ReferralStatus)
    users = db.session.scalars(sa.select(User)).all()
    assert {u.role for u in users} == set(Role)
    assert sorted(db.session.scalars(sa.select(Forum.status))) == sorted([ForumStatus.HELD] * 4 + [ForumStatus.PLANNED])
    for p in participants:
        rows = db.session.scalars(
            sa.select(StatusChange).where(StatusChange.participant_id == p.id).order_by(StatusChange.id)
        ).all()
        assert (rows[0].event, rows[0].from_state, rows[0].to_state) == ("create", None, State.IDENTIFIED)
        assert all(a.to_state == b.from_state for a, b in pairwise(rows)), f"history of {p.id} has a gap"
        assert all(a.at <= b.at for a, b in pairwise(rows)), f"history of {p.id} runs backwards"
        assert rows[-1].to_state == p.state
        assert p.version >= len(rows)

    # The printed sign-ins work: one per role at least, each with the demo password.
    printed = {line.split()[0]: line.split()[1] for line in result.output.splitlines()[1:] if line.strip()}
    assert set(printed) == {r.value for r in Role}
    assert demo.PASSWORD in result.output
    for email in printed.values():
        assert accounts.verify_password(accounts.user_by_email(email), demo.PASSWORD)


@pytest.mark.parametrize("app_config", [{"TIMEZONE": "America/Los_Angeles"}], indirect=True)
def test_seed_demo_history_reads_like_a_program(runner):
    """Check-ins on the forum's evening, referrals answered after they were sent and none left unanswered for over a
    month, outcomes after the person's forum, consents that expire (a few within 30 days)."""
    result = runner.invoke(args=["seed-demo", "--participants", "120"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    zone = ZoneInfo("America/Los_Angeles")
    now = datetime.now(UTC)

    invitations = db.session.scalars(sa.select(Invitation).where(Invitation.attended.is_(True))).all()
    assert invitations
    for invitation in invitations:
        forum_day = invitation.forum.scheduled_at.astimezone(zone).date()
        assert invitation.checked_in_at.astimezone(zone).date() == forum_day
        assert invitation.delivered_at < invitation.forum.scheduled_at

    referrals = db.session.scalars(sa.select(Referral)).all()
    waiting = [now - r.sent_at for r in referrals if r.status == ReferralStatus.SENT]
    assert waiting
    assert max(waiting) <= timedelta(days=31)
    assert any(w > timedelta(days=14) for w in waiting), "some referrals wait past 14 days"
    assert any(w > timedelta(days=7) for w in waiting)
    for referral in referrals:
        assert all(referral.sent_at <= e.at <= now for e in referral.events), f"referral {referral.id} out of order"
        assert referral.sent_at > min(i.forum.scheduled_at for i in invitations)

    first_forum = {}
    for invitation in db.session.scalars(sa.select(Invitation).order_by(Invitation.id)):
        first_forum.setdefault(invitation.participant_id, invitation.forum.scheduled_at.astimezone(zone).date())
    outcomes = db.session.scalars(sa.select(Outcome)).all()
    assert outcomes
    assert all(first_forum[o.participant_id] < o.occurred_on <= now.astimezone(zone).date() for o in outcomes)

    consents = db.session.scalars(sa.select(Consent)).all()
    assert consents
    assert all(c.expires_on is not None and c.expires_on > c.given_on for c in consents)
    soon = now.astimezone(zone).date() + timedelta(days=30)
    assert any(c.expires_on <= soon for c in consents)


def test_seed_demo_refuses_a_database_that_has_data(runner, make_user):
    make_user(Role.ADMIN)
    before = _counts()
    result = runner.invoke(args=["seed-demo", "--participants", "5"])
    assert result.exit_code == 1
    assert "only fills an empty database" in result.output
    assert "Traceback" not in result.output
    assert _counts() == before


# db-grant (its work on PostgreSQL is in tests/test_audit_role.py)


def test_db_grant_says_sqlite_has_no_roles(make_app, tmp_path):
    sqlite_app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'roles.sqlite'}")
    with sqlite_app.app_context():
        result = sqlite_app.test_cli_runner().invoke(args=["db-grant", "ceasefire_app"])
    assert result.exit_code == 1
    assert "SQLite has none" in result.output
    assert "Traceback" not in result.output
