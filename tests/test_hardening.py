"""Issue #6, findings 3 and 5: odd input never answers 500 and writes nothing, errors carry their headers, and a
role that never sees a kind of record cannot learn which of its ids exist. The sweeps walk the app's own url_map
and form classes, so a page or endpoint added later is swept too."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

import pyotp
import pytest
import sqlalchemy as sa
from api_support import assert_error, records
from flask_wtf import FlaskForm
from helpers import PASSWORD
from wtforms.fields.core import UnboundField

from ceasefire import config as settings
from ceasefire import limits
from ceasefire.extensions import db
from ceasefire.models import AuditEvent, Participant, User
from ceasefire.services import accounts, catalog, retention
from ceasefire.services import referrals as referral_service

# Which record each id in a route names. A route with an id not listed here fails the first test: add it.
KINDS = {"participant_id": "participant", "referral_id": "referral", "forum_id": "forum", "token_id": "token",
         "user_id": "user", "organization_id": "organization", "service_id": "service",
         "removal_request_id": "removal_request", "group_id": "group"}
# The other arguments of routes, filled with a value the route takes.
OTHER_ARGS = {"name": "invite", "kind": "group"}
# API.md: the roles that never see a kind of record, so get 403 whatever the id.
NEVER_SEES = {
    "participant": {"admin"},
    "referral": {"police", "community", "admin"},
    "forum": {"admin"},
    "removal_request": {"police", "provider", "community", "admin"},
    "group": {"provider", "community", "admin"},
}
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
NO_SUCH_ID = 987_654
TOO_BIG = (2**31, 2**31 + 1, 2**63, 10**30)
ARG = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


@dataclass
class World:
    ids: dict[str, int]
    users: dict[str, User]


@pytest.fixture
def world(users, make_participant, make_service, make_forum) -> World:
    """One record of each kind a route names, all visible to the supervisor."""
    participant = make_participant(users["caseworker"], consent_to_share=True)
    service = make_service(users["provider"].organization)
    referral = referral_service.send_referral(users["caseworker"], participant, service, "From a test")
    token, _plain = accounts.create_token(users["supervisor"], "sweep")
    request = retention.file_removal_request(users["caseworker"], participant, date(2026, 1, 5), "self", "No group.")
    db.session.commit()
    group = catalog.create_group(users["supervisor"], {"name": "Four Corner Hustlers"})
    db.session.commit()
    ids = {"participant": participant.id, "referral": referral.id, "forum": make_forum().id, "token": token.id,
           "user": users["caseworker"].id, "organization": service.organization_id, "service": service.id,
           "removal_request": request.id, "group": group.id}
    return World(ids, users)


def _rules(app, api: bool | None = None):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        if api is None or rule.rule.startswith("/api/") == api:
            yield rule


def _methods(rule) -> list[str]:
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


def _int_args(rule) -> list[str]:
    return [name for converter, name in ARG.findall(rule.rule) if converter == "int"]


def _path(rule, ids: dict[str, int], **given) -> str:
    """The rule's path with each id filled in (from `given`, else the world's record of that kind)."""

    def fill(match: re.Match) -> str:
        converter, name = match.group(1), match.group(2)
        if name in given:
            return str(given[name])
        if converter == "int":
            return str(ids[KINDS[name]])
        return OTHER_ARGS[name]

    return ARG.sub(fill, rule.rule)


def _web(auth, app, user: User):
    client = app.test_client()
    assert auth.login(user, client=client).status_code == 302
    return client


def _audit_count() -> int:
    with db.engine.connect() as conn:
        return conn.scalar(sa.select(sa.func.count(AuditEvent.id)))


def _form_field_names() -> set[str]:
    """Every field of every form the pages use."""
    names: set[str] = set()
    stack = [FlaskForm]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        names.update(n for n in dir(cls) if isinstance(getattr(cls, n, None), UnboundField))
    return names


def test_every_id_in_a_route_is_known_to_these_sweeps(app):
    for rule in _rules(app):
        for name in _int_args(rule):
            assert name in KINDS, f"{rule.rule}: add {name} to KINDS"
        for converter, name in ARG.findall(rule.rule):
            assert converter == "int" or name in OTHER_ARGS, f"{rule.rule}: add {name} to OTHER_ARGS"


# Finding 3: ids no INTEGER column holds are 404 on every route, before any query.


def test_ids_no_integer_column_holds_are_404_on_every_route(auth, app, world, api_as):
    supervisor = world.users["supervisor"]
    web, api = _web(auth, app, supervisor), api_as(supervisor)
    before, audited = records(), _audit_count()
    swept = 0
    for rule in _rules(app):
        for arg in _int_args(rule):
            for method in _methods(rule):
                for too_big in TOO_BIG:
                    path = _path(rule, world.ids, **{arg: too_big})
                    if path.startswith("/api/v1"):
                        status, body = api.request(method, path.removeprefix("/api/v1"), json={})
                        assert_error(status, body, 404, "not_found")
                    else:
                        response = web.open(path, method=method)
                        assert response.status_code == 404, (method, path)
                    swept += 1
    assert swept >= 15 * len(TOO_BIG)
    assert records() == before
    assert _audit_count() == audited


def test_the_largest_id_a_column_holds_is_an_ordinary_404(auth, app, world, api_as):
    api = api_as(world.users["supervisor"])
    assert_error(*api.get(f"/participants/{limits.ID_MAX}"), 404, "not_found")
    assert _web(auth, app, world.users["supervisor"]).get(f"/participants/{limits.ID_MAX}").status_code == 404


@pytest.mark.parametrize("arg", ["participant_id", "user_id"])
@pytest.mark.parametrize("value", [2**31, 2**63, 10**30])
def test_audit_filters_out_of_range_are_422_on_both_faces(auth, app, world, api_as, arg, value):
    supervisor = world.users["supervisor"]
    web = _web(auth, app, supervisor)
    for path in ("/audit/", "/audit/export.csv"):
        response = web.get(path, query_string={arg: value})
        assert response.status_code == 422, path
        assert "no such id" in response.get_data(as_text=True)
    assert_error(*api_as(supervisor).get("/audit", query_string={arg: value}), 422, "validation_failed", arg)


# Finding 3: a lone surrogate in a JSON string is refused when the body is decoded, whatever the route.

LONE_SURROGATES = [
    '{"name": "\\ud800"}',
    '{"first_name": "Ann\\udfffLee", "last_name": "Lee"}',
    '{"\\ud800": "a key"}',
    '{"note": ["fine", {"deep": ["\\udbff"]}]}',
    '{"title": "\\ude00\\ud83d"}',  # a pair in the wrong order is two lone halves
]


def test_a_lone_surrogate_in_a_json_body_is_400_on_every_endpoint(app, world, api_as):
    clients = {role: api_as(user) for role, user in world.users.items()}
    before = records()
    for rule in _rules(app, api=True):
        for method in set(_methods(rule)) & {"POST", "PATCH"}:
            path = _path(rule, world.ids).removeprefix("/api/v1")
            for body in LONE_SURROGATES:
                answers = {}
                for role, api in clients.items():
                    status, answer = api.request(
                        method, path, data=body.encode(), content_type="application/json"
                    )
                    answers[role] = (status, answer)
                    assert status in (400, 403, 404), (method, path, role, body, answer)
                refused = [a for a in answers.values() if a[0] == 400]
                assert refused, (method, path, body, answers)  # some role gets as far as the body
                for status, answer in refused:
                    assert_error(status, answer, 400, "bad_request")
                    assert "surrogate" in answer["error"]["message"]
    assert records() == before


def test_a_surrogate_pair_is_an_ordinary_character(world, api_as):
    status, body = api_as(world.users["caseworker"]).request(
        "POST", "/participants", data=b'{"first_name": "Ann \\ud83d\\ude00", "last_name": "Lee"}',
        content_type="application/json",
    )
    assert status == 201, body
    assert body["first_name"] == "Ann \U0001f600"


def test_every_answer_is_the_json_flask_would_write_keys_sorted(app, world, api_as):
    """The answers are written by orjson (ceasefire.jsonio): read back, the same values as Flask's own provider
    gives, dates in Flask's form, keys in sorted order; what orjson refuses (an integer beyond 64 bits) is still
    answered, by Python's json."""
    from flask.json.provider import DefaultJSONProvider

    flask_own = DefaultJSONProvider(app)
    value = {"b": [1, 2.5, None, True], "a": date(2026, 12, 1), "é": "Zoë \U0001f600", "7": "seven",
             "nested": {"z": 1, "y": {"x": "\u00ff"}}}
    written = app.json.response(value)
    assert written.mimetype == "application/json"
    text = written.get_data(as_text=True)
    assert json.loads(text) == json.loads(flask_own.response(value).get_data(as_text=True))
    assert json.loads(text)["a"] == "Tue, 01 Dec 2026 00:00:00 GMT"
    assert text.index('"7"') < text.index('"a"') < text.index('"b"') < text.index('"nested"') < text.index('"é"')
    assert json.loads(app.json.response({"big": 2 ** 70}).get_data(as_text=True)) == {"big": 2 ** 70}

    status, body = api_as(world.users["caseworker"]).request(
        "POST", "/participants", json={"first_name": "Zoë", "last_name": "Ñúñez \U0001f600"})
    assert status == 201, body
    assert (body["first_name"], body["last_name"]) == ("Zoë", "Ñúñez \U0001f600")
    assert list(body) == sorted(body)


# Finding 3: a NUL character in any page's form field or query string is refused before any view runs.


def test_a_nul_in_any_form_field_of_any_page_is_400_and_writes_nothing(auth, app, world):
    names = _form_field_names() | {"next", "q"}
    assert {"first_name", "email", "code", "reason", "title"} <= names
    client = _web(auth, app, world.users["supervisor"])
    before, audited = records(), _audit_count()
    posted = 0
    for rule in _rules(app, api=False):
        if "POST" not in rule.methods:
            continue
        path = _path(rule, world.ids)
        for poisoned in sorted(names):
            data = dict.fromkeys(names, "1") | {poisoned: "Ann\x00Lee"}
            response = client.post(path, data=data)
            assert response.status_code == 400, (path, poisoned, response.status_code)
            assert "NUL" in response.get_data(as_text=True)
            posted += 1
        response = client.post(path, data={"Ann\x00Lee": "a field name"})
        assert response.status_code == 400, path
    assert posted >= 10 * len(names)
    assert records() == before
    assert _audit_count() == audited


def test_a_nul_in_the_query_string_of_any_page_is_400(auth, app, world):
    client = _web(auth, app, world.users["supervisor"])
    audited = _audit_count()
    for rule in _rules(app, api=False):
        if "GET" not in rule.methods:
            continue
        path = _path(rule, world.ids)
        for query in ("q=Ann%00Lee", "page=%00", "status=%00", "participant_id=1%00", "%00=1"):
            response = client.get(f"{path}?{query}")
            assert response.status_code == 400, (path, query)
            assert "NUL" in response.get_data(as_text=True)
    assert _audit_count() == audited


def test_a_complete_form_with_one_nul_writes_nothing(auth, app, world):
    client = _web(auth, app, world.users["caseworker"])
    data = {"first_name": "Ann", "last_name": "Lee", "aliases": "Little\x00Man", "supervision_status": "none"}
    assert client.post("/participants/new", data=data).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Participant.id))) == 1
    data["aliases"] = "Little Man"
    assert client.post("/participants/new", data=data).status_code == 302  # the same form, clean, is taken


def test_a_nul_in_the_sign_in_form_signs_nobody_in(client, world):
    response = client.post("/login", data={"email": world.users["police"].email + "\x00", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/profile").status_code == 302


# Finding 3: a second-factor code in other characters than ASCII digits is a wrong code, not a crash.

# Arabic-Indic and fullwidth digits (str.isdigit says yes to both), a letter with an accent, a no-break space.
ODD_CODES = ["\u0661\u0662\u0663\u0664\u0665\u0666", "\uff11\uff12\uff13\uff14\uff15\uff16", "12345\u00e9", "\u00df",
             "12 34 5\u00a06"]


@pytest.mark.parametrize("code", ODD_CODES)
def test_an_odd_code_at_enrolment_is_a_wrong_code(auth, app, world, code):
    user = world.users["police"]
    client = _web(auth, app, user)
    assert client.get("/profile/mfa").status_code == 200
    response = client.post("/profile/mfa", data={"code": code})
    assert response.status_code == 200
    assert "That code is not right." in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.totp_secret is None


@pytest.mark.parametrize("code", ODD_CODES)
def test_an_odd_code_at_sign_in_is_a_wrong_code(client, auth, world, code):
    user = world.users["police"]
    user.totp_secret = pyotp.random_base32()
    db.session.commit()
    assert "/login/verify" in auth.login(user).headers["Location"]
    response = client.post("/login/verify", data={"code": code})
    assert response.status_code == 200
    assert "That code is not right, or was already used." in response.get_data(as_text=True)
    assert client.get("/profile").status_code == 302  # not signed in


# Finding 5: 405 carries Allow, 429 carries Retry-After, 413 is the answer to a body over MAX_CONTENT_LENGTH.


def test_every_405_says_which_methods_the_address_takes(auth, app, world, api_as):
    supervisor = world.users["supervisor"]
    web, api = _web(auth, app, supervisor), api_as(supervisor)
    allowed: dict[str, set[str]] = {}
    for rule in _rules(app):
        allowed.setdefault(_path(rule, world.ids), set()).update(rule.methods)
    refused = 0
    for path, methods in allowed.items():
        for method in set(METHODS) - methods:
            if path.startswith("/api/v1"):
                response = api.client.open(path, method=method, headers=api.headers)
                assert_error(response.status_code, response.get_json(), 405, "method_not_allowed")
            else:
                response = web.open(path, method=method)
                assert response.status_code == 405, (method, path)
            allow = {m.strip() for m in response.headers.get("Allow", "").split(",") if m.strip()}
            assert allow == methods, (method, path)
            refused += 1
    assert refused >= 50


@pytest.mark.parametrize("path", ["/login", "/login/verify"])
def test_a_429_says_when_to_try_again(make_app, path):
    app = make_app(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    with app.app_context():
        statuses = [client.post(path, data={"email": "x@example.org", "password": "p"}) for _ in range(3)]
    assert [r.status_code for r in statuses] == [200 if path == "/login" else 302] * 2 + [429]
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 61
    assert "Too many attempts" in statuses[-1].get_data(as_text=True)


def test_the_size_limit_is_one_megabyte_unless_set(monkeypatch, tmp_path):
    monkeypatch.delenv("MAX_CONTENT_LENGTH", raising=False)
    assert settings.from_environment(str(tmp_path))["MAX_CONTENT_LENGTH"] == 1024 * 1024
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "2048")
    assert settings.from_environment(str(tmp_path))["MAX_CONTENT_LENGTH"] == 2048


def test_a_body_over_the_limit_is_413_on_both_faces(auth, app, world, api_as):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    before = records()
    big = "x" * (1024 * 1024)
    status, body = api_as(world.users["caseworker"]).post("/participants", json={"first_name": big, "last_name": "L"})
    assert_error(status, body, 413, "too_large")
    assert "1 MB" in body["error"]["message"]
    client = _web(auth, app, world.users["caseworker"])
    response = client.post("/participants/new", data={"first_name": "Ann", "last_name": "Lee", "aliases": big})
    assert response.status_code == 413
    assert "1 MB" in response.get_data(as_text=True)
    assert records() == before


def test_the_size_limit_is_a_setting(make_app, world, auth):
    app = make_app(MAX_CONTENT_LENGTH=2048)
    client = app.test_client()
    with app.app_context():
        auth.login(world.users["caseworker"], client=client)
        response = client.post("/participants/new", data={"first_name": "Ann", "last_name": "x" * 3000})
    assert response.status_code == 413
    assert "2 KB" in response.get_data(as_text=True)


# Finding 5: a role that never sees a kind of record gets 403 whatever the id, so ids do not leak.


def test_roles_that_never_see_a_kind_get_403_whatever_the_id(auth, app, world, api_as, subtests):
    before = records()
    checked = 0
    for kind, roles in NEVER_SEES.items():
        for role in roles:
            user = world.users[role]
            web, api = _web(auth, app, user), api_as(user)
            for rule in _rules(app):
                args = [a for a in _int_args(rule) if KINDS[a] == kind]
                for arg in args:
                    for method in _methods(rule):
                        for ident in (world.ids[kind], NO_SUCH_ID):
                            path = _path(rule, world.ids, **{arg: ident})
                            with subtests.test(role=role, method=method, path=path):
                                if path.startswith("/api/v1"):
                                    answer = api.request(method, path.removeprefix("/api/v1"), json={})
                                    assert_error(*answer, 403, "forbidden")
                                else:
                                    assert web.open(path, method=method).status_code == 403
                            checked += 1
    assert checked >= 40
    assert records() == before


def test_roles_that_see_a_kind_still_get_404_for_ids_that_do_not_exist(app, world, api_as):
    for role, path in [("caseworker", "/participants/{}"), ("provider", "/referrals/{}/status"),
                       ("police", "/forums/{}"), ("community", "/participants/{}/history")]:
        method = "POST" if path.endswith("status") else "GET"
        assert_error(*api_as(world.users[role]).request(method, path.format(NO_SUCH_ID), json={}), 404, "not_found")
