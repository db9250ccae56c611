"""Every pipeline event x every state x every role, generated from ceasefire.pipeline.EVENTS, State and Role.

Each case walks a participant to the state through the services (a supervisor fires the events), then fires the
event over the API as the role, and checks the answer and what the database holds afterwards.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import REASONS, Program, put_in_scope, snapshot

from ceasefire import pipeline, policy
from ceasefire.extensions import db
from ceasefire.models import Participant
from ceasefire.models.enums import ForumStatus, ReferralStatus, Role, State
from ceasefire.services import referrals as referral_service

# Who fires: every role; the roles whose scope is narrower than "all" once with a participant in their scope
# (they see it, so the role rule answers) and once without (they cannot see it: 404).
ACTORS = [(role, True) for role in Role] + [
    (role, False) for role in Role if policy.SCOPES[role] not in ("all", None)
]


def _actor_id(role: Role, in_scope: bool) -> str:
    if policy.SCOPES[role] in ("all", None):
        return str(role)
    return f"{role}-{'in' if in_scope else 'out-of'}-scope"


CASES = [
    pytest.param(ev.name, state, role, in_scope, id=f"{ev.name}-from-{state}-as-{_actor_id(role, in_scope)}")
    for ev in pipeline.EVENTS
    for state in State
    for role, in_scope in ACTORS
]


def expectation(ev: pipeline.Event, state: State, role: Role, in_scope: bool) -> tuple[int, str | None]:
    """API.md's order: 404 (out of scope) before 403 (role) before 409 (state)."""
    if policy.SCOPES[role] is None:
        return 403, "forbidden"  # admins see no participant at all
    if not in_scope:
        return 404, "not_found"
    if role not in ev.roles:
        return 403, "forbidden"
    if state not in ev.sources:
        return 409, "invalid_transition"
    return 200, None


@pytest.fixture
def program(users) -> Program:
    return Program.build(users["supervisor"])


def _post_event(api, participant: Participant, name: str, data: dict) -> tuple[int, dict]:
    body = {"event": name, "version": participant.version} | data
    return api.post(f"/participants/{participant.id}/events", json=body)


def test_the_matrix_covers_every_event_state_and_role():
    assert len(CASES) == len(pipeline.EVENTS) * len(State) * len(ACTORS)
    assert {role for role, _ in ACTORS} == set(Role)


@pytest.mark.parametrize(("name", "state", "role", "in_scope"), CASES)
def test_event_matrix(program, users, api_as, name, state, role, in_scope):
    ev = pipeline.EVENTS_BY_NAME[name]
    actor = users[role]
    with program.batch():
        participant = program.bring_to(state)
        if in_scope:
            put_in_scope(program, participant, actor)
        program.prepare(participant, name)
        data = program.event_data(name)
    before = snapshot(participant.id)
    assert before.state == state

    status, answer = _post_event(api_as(actor), participant, name, data)

    after = snapshot(participant.id)
    expected_status, expected_code = expectation(ev, state, role, in_scope)
    assert status == expected_status, answer
    if expected_status != 200:
        assert answer["error"]["code"] == expected_code
        assert answer["error"]["message"].strip()
        assert after == before, "a refused event changed the participant"
        return

    assert after.state == ev.dest
    assert after.version == before.version + 1
    assert answer["state"] == ev.dest
    assert answer["version"] == after.version
    assert after.history[: len(before.history)] == before.history
    [(_id, event, from_state, to_state, actor_id, reason)] = after.history[len(before.history):]
    assert (event, from_state, to_state, actor_id) == (name, state, ev.dest, actor.id)
    assert reason == REASONS.get(name)

    # What the event brings with it, in the same transaction.
    if name == "invite":
        assert len(after.invitations) == len(before.invitations) + 1
        _id, forum_id, method, attended, _by = after.invitations[-1]
        assert (forum_id, method, attended) == (data["forum_id"], data["method"], None)
    elif name in ("attend", "no_show") or (name in ("enforce", "close") and state == State.INVITED):
        # Checked in, a no-show, or out of the pipeline while invited: the open invitation is settled.
        assert [i[0] for i in after.invitations] == [i[0] for i in before.invitations]
        _id, _forum, _method, attended, checked_in_by = after.invitations[-1]
        assert before.invitations[-1][3] is None
        assert attended is (name == "attend")
        assert checked_in_by == (actor.id if name == "attend" else None)
    else:
        assert after.invitations == before.invitations
    assert after.enforcement_actions == before.enforcement_actions + (name == "enforce")


# The table itself, against DESIGN.md §2 (written out once here, so a change to either shows up).
DESIGN_TABLE = {
    "invite": ({"identified"}, "invited", {"caseworker", "supervisor"}),
    "no_show": ({"invited"}, "identified", {"caseworker", "supervisor"}),
    "attend": ({"invited"}, "attended", {"caseworker", "police", "supervisor"}),
    "offer_services": ({"attended"}, "services_offered", {"caseworker", "supervisor"}),
    "enforce": ({"identified", "invited", "attended", "services_offered"}, "enforced", {"police", "supervisor"}),
    "close": ({s.value for s in State} - {"closed"}, "closed", {"caseworker", "supervisor"}),
    "reopen": ({"closed", "enforced"}, "identified", {"supervisor"}),
}


def test_event_table_is_the_design():
    table = {e.name: ({str(s) for s in e.sources}, str(e.dest), {str(r) for r in e.roles}) for e in pipeline.EVENTS}
    assert table == DESIGN_TABLE
    assert {Role.POLICE, Role.CASEWORKER, Role.SUPERVISOR} == pipeline.CREATE_ROLES


@pytest.mark.parametrize("state", list(State))
def test_machine_offers_exactly_the_table(state, program, users):
    """The machine (which pages ask for their buttons) and the table agree in every state, for every role."""
    participant = program.bring_to(state)
    for role in Role:
        offered = {e.name for e in pipeline.available_events(participant, users[role])}
        assert offered == {e.name for e in pipeline.EVENTS if state in e.sources and role in e.roles}
        for ev in pipeline.EVENTS:
            assert pipeline.may(participant, ev.name, users[role]) is (ev.name in offered)


# Guards: the preconditions of an event (422), after role and state.


@pytest.mark.parametrize("forum_status", [s for s in ForumStatus if s != ForumStatus.PLANNED])
def test_invite_to_a_forum_that_is_not_planned(forum_status, program, users, api_as):
    participant = program.bring_to(State.IDENTIFIED)
    forum = program.forum(forum_status)
    before = snapshot(participant.id)
    status, answer = _post_event(
        api_as(users["caseworker"]), participant, "invite", {"forum_id": forum.id, "method": "letter"}
    )
    assert status == 422, answer
    assert answer["error"]["code"] == "validation_failed"
    assert "forum_id" in answer["error"]["fields"]
    assert snapshot(participant.id) == before


def test_offer_services_without_a_referral(program, users, api_as):
    participant = program.bring_to(State.ATTENDED)
    program.consent(participant)
    before = snapshot(participant.id)
    status, answer = _post_event(api_as(users["caseworker"]), participant, "offer_services", {})
    assert status == 422, answer
    assert answer["error"]["code"] == "validation_failed"
    assert "referral" in answer["error"]["fields"]
    assert snapshot(participant.id) == before


def test_offer_services_with_only_a_withdrawn_referral(program, users, api_as):
    participant = program.bring_to(State.ATTENDED)
    referral = program.refer(participant)
    referral_service.set_status(users["caseworker"], referral, ReferralStatus.WITHDRAWN)
    db.session.commit()
    before = snapshot(participant.id)
    status, answer = _post_event(api_as(users["caseworker"]), participant, "offer_services", {})
    assert status == 422, answer
    assert "referral" in answer["error"]["fields"]
    assert snapshot(participant.id) == before


def test_offer_services_with_consent_revoked(program, users, api_as):
    participant = program.bring_to(State.ATTENDED)
    program.refer(participant)
    api = api_as(users["caseworker"])
    status, answer = api.patch(
        f"/participants/{participant.id}", json={"version": participant.version, "consent_to_share": False}
    )
    assert status == 200, answer
    assert answer["consent_to_share"] is False
    before = snapshot(participant.id)
    status, answer = _post_event(api, participant, "offer_services", {})
    assert status == 422, answer
    assert answer["error"]["code"] == "validation_failed"
    assert "consent_to_share" in answer["error"]["fields"]
    assert snapshot(participant.id) == before


def test_the_state_is_checked_before_the_preconditions(program, users, api_as):
    """409 invalid_transition comes before an event's precondition 422 (API.md's order)."""
    api = api_as(users["caseworker"])
    attended = program.bring_to(State.ATTENDED)
    held = program.forum(ForumStatus.HELD)
    status, answer = _post_event(api, attended, "invite", {"forum_id": held.id, "method": "letter"})
    assert (status, answer["error"]["code"]) == (409, "invalid_transition")
    identified = program.bring_to(State.IDENTIFIED)
    status, answer = _post_event(api, identified, "offer_services", {})
    assert (status, answer["error"]["code"]) == (409, "invalid_transition")


def test_a_stale_version_is_refused_before_the_state(program, users, api_as):
    participant = program.bring_to(State.CLOSED)
    before = snapshot(participant.id)
    status, answer = api_as(users["caseworker"]).post(
        f"/participants/{participant.id}/events",
        json={"event": "close", "version": participant.version - 1, "reason": "moved"},
    )
    assert (status, answer["error"]["code"]) == (409, "stale_version")
    assert snapshot(participant.id) == before


REQUIRED_FIELDS = {"invite": ("forum_id", "method"), "enforce": ("action_type", "occurred_on"),
                   "close": ("reason",), "reopen": ("reason",)}


@pytest.mark.parametrize(
    ("name", "field"), [(name, field) for name, fields in REQUIRED_FIELDS.items() for field in fields]
)
def test_an_event_without_its_fields(name, field, program, users, api_as):
    ev = pipeline.EVENTS_BY_NAME[name]
    participant = program.bring_to(ev.sources[0])
    data = program.event_data(name)
    del data[field]
    before = snapshot(participant.id)
    status, answer = _post_event(api_as(users["supervisor"]), participant, name, data)
    assert status == 422, answer
    assert field in answer["error"]["fields"]
    assert snapshot(participant.id) == before


def test_an_unknown_event(program, users, api_as):
    participant = program.bring_to(State.IDENTIFIED)
    before = snapshot(participant.id)
    status, answer = _post_event(api_as(users["supervisor"]), participant, "promote", {})
    assert status == 422, answer
    assert "event" in answer["error"]["fields"]
    assert snapshot(participant.id) == before


def test_state_is_never_set_through_patch_or_create(program, users, api_as):
    participant = program.bring_to(State.IDENTIFIED)
    api = api_as(users["supervisor"])
    before = snapshot(participant.id)
    status, answer = api.patch(f"/participants/{participant.id}", json={"version": participant.version,
                                                                        "state": "closed"})
    assert status == 422, answer
    assert "state" in answer["error"]["fields"]
    assert snapshot(participant.id) == before
    status, answer = api.post("/participants", json={"first_name": "A", "last_name": "B", "state": "closed"})
    assert status == 422, answer
    assert "state" in answer["error"]["fields"]


# The pipeline module is the only writer of Participant.state.

PACKAGE = Path(pipeline.__file__).resolve().parent


def _state_writes(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute) and part.attr == "state":
                    lines.append(node.lineno)
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            args = node.args
            if name == "setattr" and len(args) >= 2 and isinstance(args[1], ast.Constant) and args[1].value == "state":
                lines.append(node.lineno)
            if name in ("Participant", "values") and any(k.arg == "state" for k in node.keywords):
                lines.append(node.lineno)
    return lines


def test_only_the_pipeline_module_writes_the_state():
    offenders = []
    sources = sorted(PACKAGE.rglob("*.py"))
    assert any(p.name == "participants.py" for p in sources)
    for path in sources:
        text = path.read_text()
        if path == Path(pipeline.__file__).resolve():
            assert _state_writes(ast.parse(text)), "the check should see the pipeline's own writes"
            continue
        offenders += [f"{path.relative_to(PACKAGE.parent)}:{line}" for line in _state_writes(ast.parse(text))]
        if "set state" in text.lower():
            offenders.append(f"{path.relative_to(PACKAGE.parent)}: SQL that sets the state")
    assert offenders == []


def test_every_state_change_at_run_time_comes_from_the_pipeline(program, users, api_as):
    """Listen to every write of Participant.state while every road of the pipeline is walked over the API: each
    must come from ceasefire.pipeline (tests/test_cli.py does the same over the demo seed)."""
    writers: list[str] = []

    def on_set(target, value, oldvalue, initiator):
        for frame in inspect.stack()[1:]:
            module = frame.frame.f_globals.get("__name__", "")
            if not module.startswith("sqlalchemy"):
                writers.append(module)
                return

    sa.event.listen(Participant.state, "set", on_set)
    try:
        for ev in pipeline.EVENTS:
            for source in ev.sources:
                participant = program.bring_to(source)
                program.prepare(participant, ev.name)
                status, answer = _post_event(
                    api_as(users["supervisor"]), participant, ev.name, program.event_data(ev.name)
                )
                assert status == 200, answer
    finally:
        sa.event.remove(Participant.state, "set", on_set)
    assert writers
    assert set(writers) == {"ceasefire.pipeline"}


# Optimistic locking: one successful change, one step of the version (API.md), whatever the change carried.

PATCHES = [
    {"phone": "(312) 555-0199"},
    {"consent_to_share": True},
    {"phone": "(312) 555-0199", "consent_to_share": True, "address": "200 Kedzie Ave"},
    {"address": "200 Kedzie Ave", "consent_to_share": False},
    {"consent_to_share": True, "community_org_id": "community"},
    {},
]


@pytest.mark.parametrize("body", PATCHES, ids=lambda body: "+".join(body) or "nothing")
@pytest.mark.parametrize("consent_before", [False, True], ids=["without-consent", "with-consent"])
def test_every_patch_adds_one_to_the_version(program, users, api_as, body, consent_before):
    participant = program.bring_to(State.ATTENDED)
    if consent_before:
        program.consent(participant)
    body = {k: users["community"].organization_id if v == "community" else v for k, v in body.items()}
    before = snapshot(participant.id)
    status, answer = api_as(users["caseworker"]).patch(
        f"/participants/{participant.id}", json={"version": before.version} | body
    )
    assert status == 200, answer
    assert answer["version"] == snapshot(participant.id).version == before.version + 1
    assert snapshot(participant.id).history == before.history
