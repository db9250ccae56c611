"""The JSON API's errors (API.md, "Errors"): who gets 401, the shape of every error, the order the checks run
in, and bad input of every kind on every request that writes: always a 400 or a 422 naming the field, never a
500, and nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from api_support import assert_error, records

from ceasefire.extensions import db
from ceasefire.models.base import today
from ceasefire.services import accounts, catalog, events
from ceasefire.services import participants as participant_service
from ceasefire.services import referrals as referral_service

# ---------------------------------------------------------------------------------------------------------------
# A small program, and every request that writes, with a body that is accepted as it stands.


class Tokens(dict):
    """An API client per role, each made the first time it is asked for."""

    def __init__(self, users, api_as):
        super().__init__()
        self.users, self.api_as = users, api_as

    def __missing__(self, role):
        self[role] = self.api_as(self.users[role])
        return self[role]


@pytest.fixture
def world(users, make_participant, make_forum, make_service, api_as):
    supervisor = users["supervisor"]
    participant = make_participant(supervisor, consent_to_share=True)
    closed = make_participant(supervisor)
    events.perform(supervisor, closed, closed.version, "close", {"reason": "moved"})
    service = make_service(users["provider"].organization)
    referral = referral_service.send_referral(supervisor, participant, service, None)
    group = catalog.create_group(supervisor, {"name": "North Side"})
    db.session.commit()
    return SimpleNamespace(
        users=users,
        api=Tokens(users, api_as),
        participant=participant,
        closed=closed,
        service=service,
        referral=referral,
        forum=make_forum(actor=supervisor),
        group=group,
        provider_org=users["provider"].organization,
        community_org=users["community"].organization,
        police_org=users["police"].organization,
    )


def _days_ago(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()


def _events(attr: str):
    return lambda w: f"/participants/{getattr(w, attr).id}/events"


# name: (role, method, path, body accepted as it stands)
ENDPOINTS = {
    "create_participant": ("supervisor", "POST", lambda w: "/participants",
                           lambda w: {"first_name": "Ann", "last_name": "Lee"}),
    "patch_participant": ("supervisor", "PATCH", lambda w: f"/participants/{w.participant.id}",
                          lambda w: {"version": 1}),
    "invite": ("supervisor", "POST", _events("participant"),
               lambda w: {"event": "invite", "version": 1, "forum_id": w.forum.id, "method": "letter"}),
    "enforce": ("supervisor", "POST", _events("participant"),
                lambda w: {"event": "enforce", "version": 1, "action_type": "arrest", "occurred_on": _days_ago(3),
                           "agency_id": w.police_org.id, "description": "Arrested on Oak St."}),
    "close": ("supervisor", "POST", _events("participant"),
              lambda w: {"event": "close", "version": 1, "reason": "moved"}),
    "reopen": ("supervisor", "POST", _events("closed"),
               lambda w: {"event": "reopen", "version": 2, "reason": "Back in the neighbourhood."}),
    "create_forum": ("supervisor", "POST", lambda w: "/forums",
                     lambda w: {"title": "Spring call-in", "scheduled_at": "2027-03-01T17:00:00Z",
                                "location": "Fieldhouse", "speakers": "Pastor Reed", "notes": "Bring chairs."}),
    "create_referral": ("supervisor", "POST", lambda w: "/referrals",
                        lambda w: {"participant_id": w.participant.id, "service_id": w.service.id,
                                   "note": "Wants work."}),
    "referral_status": ("provider", "POST", lambda w: f"/referrals/{w.referral.id}/status",
                        lambda w: {"status": "declined", "reason": "No places left."}),
    "create_user": ("admin", "POST", lambda w: "/users",
                    lambda w: {"email": "new.user@example.org", "name": "New User", "role": "provider",
                               "organization_id": w.provider_org.id, "password": "a long enough password"}),
    "create_organization": ("admin", "POST", lambda w: "/organizations",
                            lambda w: {"name": "Safe Streets", "kind": "community", "description": "Outreach.",
                                       "email": "info@safestreets.example", "phone": "555-0100",
                                       "url": "https://safestreets.example"}),
    "create_service": ("admin", "POST", lambda w: "/services",
                       lambda w: {"organization_id": w.provider_org.id, "name": "GED classes",
                                  "category": "education", "description": "Evening classes."}),
    "create_group": ("supervisor", "POST", lambda w: "/groups",
                     lambda w: {"name": "South Side", "aliases": "SS", "area": "South of 5th St."}),
}

# Each request's fields by kind; ("text", n): a string of at most n characters (API.md's longest strings).
NAME, ALIASES, PHONE, ADDRESS, EMAIL, TITLE, TEXT = 100, 500, 40, 300, 254, 200, 5000
PARTICIPANT_FIELDS = {
    "first_name": ("text", NAME), "last_name": ("text", NAME), "aliases": ("text", ALIASES),
    "date_of_birth": "date", "phone": ("text", PHONE), "address": ("text", ADDRESS), "group_id": "id",
    "supervision_status": "enum", "supervising_agency": ("text", TITLE), "identification_basis": ("text", TEXT),
    "caseworker_id": "id", "community_org_id": "id", "consent_to_share": "bool",
}
FIELDS = {
    "create_participant": PARTICIPANT_FIELDS,
    "patch_participant": PARTICIPANT_FIELDS | {"version": "int"},
    "invite": {"event": "enum", "version": "int", "forum_id": "id", "method": "enum"},
    "enforce": {"event": "enum", "version": "int", "action_type": "enum", "occurred_on": "date",
                "description": ("text", TEXT), "agency_id": "id"},
    "close": {"event": "enum", "version": "int", "reason": "enum"},
    "reopen": {"event": "enum", "version": "int", "reason": ("text", TEXT)},
    "create_forum": {"title": ("text", TITLE), "scheduled_at": "datetime", "location": ("text", TITLE),
                     "speakers": ("text", TEXT), "notes": ("text", TEXT)},
    "create_referral": {"participant_id": "id", "service_id": "id", "note": ("text", TEXT)},
    "referral_status": {"status": "enum", "reason": ("text", TEXT)},
    "create_user": {"email": ("email", EMAIL), "name": ("text", NAME), "role": "enum", "organization_id": "id",
                    "password": "password"},
    "create_organization": {"name": ("text", NAME), "kind": "enum", "description": ("text", TEXT),
                            "email": ("email", EMAIL), "phone": ("text", PHONE), "url": ("text", 300)},
    "create_service": {"organization_id": "id", "name": ("text", NAME), "category": "enum",
                       "description": ("text", TEXT), "eligibility": ("text", TEXT), "capacity": "int",
                       "active": "bool"},
    "create_group": {"name": ("text", NAME), "aliases": ("text", ALIASES), "area": ("text", TITLE)},
}
REQUIRED = {
    "create_participant": ("first_name", "last_name"),
    "patch_participant": ("version",),
    "invite": ("event", "version", "forum_id", "method"),
    "enforce": ("event", "version", "action_type", "occurred_on"),
    "close": ("event", "version", "reason"),
    "reopen": ("event", "version", "reason"),
    "create_forum": ("title", "scheduled_at"),
    "create_referral": ("participant_id", "service_id"),
    "referral_status": ("status", "reason"),  # reason: the base body declines
    "create_user": ("email", "name", "role", "password", "organization_id"),  # organization: a provider
    "create_organization": ("name", "kind"),
    "create_service": ("organization_id", "name", "category"),
    "create_group": ("name",),
}

BAD_VALUES = {
    "text": [5, 1.5, True, [], {}],
    "email": [5, True, [], "no-at-sign.example.org", "two words@example.org"],
    "password": [5, True, [], "short"],
    "int": ["1", True, 1.5, 2**40, [1], {}],
    "id": ["1", True, 1.5, 2**40, [1], {}, 999_999],
    "enum": ["bogus", "", 7, True, ["letter"]],
    "date": ["2026-13-01", "2026-02-30", "yesterday", 20260101, "2026-1-1", "01/02/2026",
             "2026-01-01T00:00:00Z", "", True],
    "datetime": ["2026-13-01T17:00:00Z", "2026-12-01T25:00:00Z", "tomorrow", 20261201, "2026-12-01", "",
                 "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", True],
    "bool": ["true", "yes", 1, 0, None, []],
}


def _kind(spec) -> str:
    return spec[0] if isinstance(spec, tuple) else spec


def _email(length: int) -> str:
    """A well-formed address of exactly `length` characters (64-character local part, labels up to 63)."""
    local = "a" * 64
    rest = length - len(local) - 1 - len(".org")
    labels = []
    while rest > 0:
        label = min(63, rest)
        labels.append("b" * label)
        rest -= label + 1
    return f"{local}@{'.'.join(labels)}.org"


def _base(world, endpoint: str) -> dict:
    return ENDPOINTS[endpoint][3](world)


def _send(world, endpoint: str, body=None):
    role, method, path, base = ENDPOINTS[endpoint]
    return world.api[role].request(method, path(world), json=base(world) if body is None else body)


def _refused(world, endpoint: str, body, status: int, code: str, field: str | None) -> None:
    before = records()
    got, answer = _send(world, endpoint, body)
    assert_error(got, answer, status, code, field)
    assert records() == before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_each_base_body_is_accepted(world, endpoint):
    status, body = _send(world, endpoint)
    assert status in (200, 201), body


# ---------------------------------------------------------------------------------------------------------------
# 401: no token, a malformed header, a wrong, revoked or expired token. Session cookies are not credentials.

REQUESTS = [
    ("GET", "/participants", None),
    ("POST", "/participants", {"first_name": "Ann", "last_name": "Lee"}),
    ("GET", "/participants/1", None),
    ("PATCH", "/participants/1", {"version": 1}),
    ("POST", "/participants/1/events", {"event": "close", "version": 1, "reason": "moved"}),
    ("GET", "/participants/1/history", None),
    ("GET", "/forums", None),
    ("GET", "/referrals", None),
    ("POST", "/users", {"email": "x@example.org"}),
    ("GET", "/organizations", None),
    ("GET", "/services", None),
    ("GET", "/groups", None),
]


def _raw(client, method, path, headers=None, json=None):
    response = client.open("/api/v1" + path, method=method, headers=headers or {}, json=json)
    return response.status_code, response.get_json(silent=True)


BAD_HEADERS = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Basic dXNlcjpwYXNzd29yZA==",
    "Token {token}",
    "{token}",
    "Bearer cf_not-a-real-token",
    "Bearer {token} extra",
    "Bearer {token}x",
    "Bearer " + "x" * 5000,
]


@pytest.mark.parametrize(("method", "path", "body"), REQUESTS)
def test_without_a_valid_token_the_answer_is_401(client, subtests, make_user, make_participant, method, path, body):
    supervisor = make_user("supervisor")
    make_participant(supervisor)
    _token, plain = accounts.create_token(supervisor)
    db.session.commit()
    before = records()
    for header in BAD_HEADERS:
        with subtests.test(header=header):
            headers = {} if header is None else {"Authorization": header.format(token=plain)}
            status, answer = _raw(client, method, path, headers, body)
            assert_error(status, answer, 401, "unauthorized")
            assert records() == before


@pytest.mark.parametrize("spoil", ["revoked", "expired", "inactive user"])
def test_revoked_and_expired_tokens_and_inactive_users_get_401(client, subtests, make_user, make_participant, spoil):
    user = make_user("supervisor")
    make_participant(user)
    token, plain = accounts.create_token(user)
    db.session.commit()
    headers = {"Authorization": f"Bearer {plain}"}
    assert _raw(client, "GET", "/participants", headers)[0] == 200

    moment = datetime.now(UTC) - timedelta(seconds=1)
    if spoil == "revoked":
        token.revoked_at = moment
    elif spoil == "expired":
        token.expires_at = moment
    else:
        user.active = False
    db.session.commit()
    before = records()
    for method, path, body in REQUESTS:
        with subtests.test(method=method, path=path):
            status, answer = _raw(client, method, path, headers, body)
            assert_error(status, answer, 401, "unauthorized")
            assert records() == before


def test_a_token_that_has_not_expired_yet_works(client, users):
    token, plain = accounts.create_token(users["caseworker"])
    token.expires_at = datetime.now(UTC) + timedelta(minutes=5)
    db.session.commit()
    status, body = _raw(client, "GET", "/participants", {"Authorization": f"Bearer {plain}"})
    assert status == 200, body


def test_a_signed_in_session_is_no_api_credential(client, auth, subtests, make_user, make_participant):
    supervisor = make_user("supervisor")
    make_participant(supervisor)
    response = auth.login(supervisor)
    assert response.status_code == 302
    assert client.get("/profile").status_code == 200  # the session works for the pages
    for method, path, body in REQUESTS:
        with subtests.test(method=method, path=path):
            status, answer = _raw(client, method, path, json=body)
            assert_error(status, answer, 401, "unauthorized")


def test_with_a_session_and_a_token_the_api_acts_as_the_tokens_user(client, auth, users, api_as, make_participant):
    make_participant(users["supervisor"])
    auth.login(users["supervisor"])
    status, body = api_as(users["admin"]).get("/participants")
    assert_error(status, body, 403, "forbidden")


def test_the_openapi_document_needs_no_token(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.get_json()["openapi"].startswith("3.")


# ---------------------------------------------------------------------------------------------------------------
# The order of the checks: 401, 404, 403, 400, 422 (the body), 409 stale_version, 409 invalid_transition,
# 422 (an event's preconditions).


def test_401_before_404(client):
    status, body = _raw(client, "GET", "/participants/424242")
    assert_error(status, body, 401, "unauthorized")


@pytest.mark.parametrize("role", ["provider", "community"])
@pytest.mark.parametrize(("method", "suffix", "body"), [
    ("GET", "", None),
    ("PATCH", "", {"version": 1, "identification_basis": "x"}),
    ("POST", "/events", {"event": "enforce", "version": 1}),
    ("POST", "/events", "not json"),
    ("GET", "/history", None),
])
def test_out_of_scope_is_404_before_403_and_400(world, role, method, suffix, body):
    """A participant outside a provider's or community user's scope does not exist for them."""
    before = records()
    api = world.api[role]
    if body == "not json":
        response = api.client.open(f"/api/v1/participants/{world.closed.id}{suffix}", method=method,
                                   data="{", content_type="application/json", headers=api.headers)
        status, answer = response.status_code, response.get_json()
    else:
        status, answer = api.request(method, f"/participants/{world.closed.id}{suffix}", json=body)
    assert_error(status, answer, 404, "not_found")
    assert records() == before


@pytest.mark.parametrize("role", ["provider", "community"])
def test_in_scope_a_role_that_fires_no_event_gets_403_even_for_a_broken_body(world, role):
    participant_service.update_participant(
        world.users["supervisor"], world.participant, 1, {"community_org_id": world.community_org.id}
    )
    db.session.commit()
    api = world.api[role]
    before = records()
    response = api.client.post(f"/api/v1/participants/{world.participant.id}/events", data="{",
                               content_type="application/json", headers=api.headers)
    assert_error(response.status_code, response.get_json(), 403, "forbidden")
    status, body = api.post(f"/participants/{world.participant.id}/events", json={"event": "close", "version": 2})
    assert_error(status, body, 403, "forbidden")
    assert records() == before


def test_403_before_400(world, subtests):
    """A role that may not make the request at all hears so, whatever its body."""
    for role, method, path in [
        ("provider", "POST", "/participants"),
        ("community", "POST", "/participants"),
        ("admin", "POST", "/participants"),
        ("police", "POST", "/forums"),
        ("provider", "POST", "/forums"),
        ("caseworker", "POST", "/users"),
        ("supervisor", "POST", "/organizations"),
        ("police", "POST", "/services"),
        ("caseworker", "POST", "/groups"),
        ("police", "POST", "/referrals"),
        ("admin", "PATCH", f"/participants/{world.participant.id}"),
        ("police", "POST", f"/referrals/{world.referral.id}/status"),
    ]:
        for body in ("{", "[]"):
            with subtests.test(role=role, method=method, path=path, body=body):
                api = world.api[role]
                response = api.client.open("/api/v1" + path, method=method, data=body,
                                           content_type="application/json", headers=api.headers)
                assert_error(response.status_code, response.get_json(), 403, "forbidden")


def test_a_hidden_field_is_403_before_the_body_is_judged(world):
    """A caseworker sends identification_basis with a missing last name, a bad group and a state."""
    api = world.api["caseworker"]
    before = records()
    status, body = api.post("/participants", json={"first_name": "Ann", "identification_basis": "seen"})
    assert_error(status, body, 403, "forbidden", "identification_basis")
    status, body = api.patch(f"/participants/{world.participant.id}", json={
        "version": 99, "state": "closed", "group_id": "x", "identification_basis": "seen",
    })
    assert_error(status, body, 403, "forbidden", "identification_basis")
    assert records() == before


def test_an_event_the_role_may_not_fire_is_403_before_its_fields_are_judged(world):
    status, body = world.api["caseworker"].post(f"/participants/{world.participant.id}/events",
                                                json={"event": "enforce", "version": 99, "action_type": "x"})
    assert_error(status, body, 403, "forbidden")


def test_400_before_422(world):
    api = world.api["supervisor"]
    response = api.client.patch(f"/api/v1/participants/{world.participant.id}", data='{"version": "x",',
                                content_type="application/json", headers=api.headers)
    assert_error(response.status_code, response.get_json(), 400, "bad_request")


def test_the_body_is_judged_before_the_version(world):
    api = world.api["supervisor"]
    before = records()
    status, body = api.patch(f"/participants/{world.participant.id}", json={"version": 99, "group_id": 999_999})
    assert_error(status, body, 422, "validation_failed", "group_id")
    status, body = api.post(f"/participants/{world.participant.id}/events", json={"event": "invite", "version": 99})
    assert_error(status, body, 422, "validation_failed", "forum_id")
    assert records() == before


def test_an_impossible_event_with_a_missing_field_is_422_for_the_field(world):
    """`closed` cannot be invited; the missing forum_id is reported first."""
    status, body = world.api["supervisor"].post(f"/participants/{world.closed.id}/events",
                                                json={"event": "invite", "version": 2, "method": "letter"})
    assert_error(status, body, 422, "validation_failed", "forum_id")


def test_a_stale_version_is_reported_before_an_impossible_event(world):
    before = records()
    status, body = world.api["supervisor"].post(f"/participants/{world.participant.id}/events",
                                                json={"event": "no_show", "version": 7})
    assert_error(status, body, 409, "stale_version")
    assert records() == before


def test_an_impossible_event_is_409_before_its_preconditions(world, make_forum):
    """offer_services needs an attended participant (409) before it needs a referral (422); an invitation to a
    forum that was held is refused for the state first."""
    held = make_forum(status="held")
    api = world.api["supervisor"]
    before = records()
    status, body = api.post(f"/participants/{world.closed.id}/events", json={"event": "offer_services", "version": 2})
    assert_error(status, body, 409, "invalid_transition")
    status, body = api.post(f"/participants/{world.closed.id}/events",
                            json={"event": "invite", "version": 2, "forum_id": held.id, "method": "letter"})
    assert_error(status, body, 409, "invalid_transition")
    status, body = api.post(f"/participants/{world.participant.id}/events",
                            json={"event": "invite", "version": 1, "forum_id": held.id, "method": "letter"})
    assert_error(status, body, 422, "validation_failed", "forum_id")
    assert records() == before


# ---------------------------------------------------------------------------------------------------------------
# Bodies that are not JSON objects: 400 on every request that takes one.

NOT_OBJECTS = {
    "truncated": (b'{"first_name": ', "application/json"),
    "array": (b'[{"first_name": "Ann"}]', "application/json"),
    "empty array": (b"[]", "application/json"),
    "null": (b"null", "application/json"),
    "number": (b"42", "application/json"),
    "string": (b'"Ann Lee"', "application/json"),
    "true": (b"true", "application/json"),
    "empty": (b"", "application/json"),
    "not utf-8": (b'{"first_name": "\xff\xfe"}', "application/json"),
    "deeply nested": (b"[" * 100_000 + b"]" * 100_000, "application/json"),
    "deeply nested object": (b'{"a": ' * 50_000 + b"1" + b"}" * 50_000, "application/json"),
    "not labelled json": (b'{"first_name": "Ann", "last_name": "Lee"}', "text/plain"),
    "form": (b"first_name=Ann&last_name=Lee", "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_body_that_is_not_a_json_object_is_400(world, subtests, endpoint):
    role, method, path, _base_body = ENDPOINTS[endpoint]
    api = world.api[role]
    before = records()
    for raw, (data, content_type) in NOT_OBJECTS.items():
        with subtests.test(body=raw):
            response = api.client.open("/api/v1" + path(world), method=method, data=data,
                                       content_type=content_type, headers=api.headers)
            assert_error(response.status_code, response.get_json(silent=True), 400, "bad_request")
            assert records() == before


# ---------------------------------------------------------------------------------------------------------------
# Bodies that are objects with something wrong: 422 naming the field, nothing written.


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_wrong_value_is_422_naming_the_field(world, subtests, endpoint):
    for field, spec in FIELDS[endpoint].items():
        for value in BAD_VALUES[_kind(spec)]:
            with subtests.test(field=field, value=value):
                _refused(world, endpoint, _base(world, endpoint) | {field: value}, 422, "validation_failed", field)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_twenty_thousand_characters_are_422_in_every_field(world, subtests, endpoint):
    for field in FIELDS[endpoint]:
        for value in ("x" * 20_000, "x" * 20_000 + "@example.org"):
            with subtests.test(field=field, length=len(value)):
                _refused(world, endpoint, _base(world, endpoint) | {field: value}, 422, "validation_failed", field)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_nul_character_is_422(world, subtests, endpoint):
    """PostgreSQL cannot store NUL in text; the API says so instead of failing."""
    for field, spec in FIELDS[endpoint].items():
        if _kind(spec) == "text":
            with subtests.test(field=field):
                _refused(world, endpoint, _base(world, endpoint) | {field: "Ann\x00Lee"}, 422, "validation_failed",
                         field)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_required_field_missing_null_or_blank_is_422(world, subtests, endpoint):
    for field in REQUIRED[endpoint]:
        for how in ("missing", "null", "blank"):
            with subtests.test(field=field, how=how):
                body = _base(world, endpoint)
                if how == "missing":
                    del body[field]
                else:
                    body[field] = "   " if how == "blank" and isinstance(body[field], str) else None
                _refused(world, endpoint, body, 422, "validation_failed", field)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_unknown_field_is_422(world, subtests, endpoint):
    for field in ("nickname", "id", "created_at", "state", ""):
        with subtests.test(field=field):
            _refused(world, endpoint, _base(world, endpoint) | {field: "x"}, 422, "validation_failed", field)


@pytest.mark.parametrize(("endpoint", "field", "limit"), [
    pytest.param(endpoint, field, spec[1], id=f"{endpoint}-{field}")
    for endpoint, fields in FIELDS.items() for field, spec in fields.items() if isinstance(spec, tuple)
])
def test_the_longest_strings_of_api_md_exactly(world, endpoint, field, limit):
    def value(n: int) -> str:
        text = _email(n) if _kind(FIELDS[endpoint][field]) == "email" else "x" * n
        assert len(text) == n
        return text

    _refused(world, endpoint, _base(world, endpoint) | {field: value(limit + 1)}, 422, "validation_failed",
             field)
    status, body = _send(world, endpoint, _base(world, endpoint) | {field: value(limit)})
    assert status in (200, 201), body
    if field in body:
        assert body[field] == value(limit)


@pytest.mark.parametrize(("endpoint", "field", "value"), [
    ("create_participant", "caseworker_id", "police"),
    ("create_participant", "community_org_id", "provider_org"),
    ("patch_participant", "community_org_id", "police_org"),
    ("enforce", "agency_id", "provider_org"),
    ("enforce", "agency_id", "community_org"),
    ("create_service", "organization_id", "community_org"),
    ("create_service", "organization_id", "police_org"),
    ("create_user", "organization_id", "community_org"),
])
def test_an_id_of_the_wrong_kind_of_record_is_422(world, endpoint, field, value):
    ident = world.users["police"].id if value == "police" else getattr(world, value).id
    _refused(world, endpoint, _base(world, endpoint) | {field: ident}, 422, "validation_failed", field)


@pytest.mark.parametrize("occurred_on", [1, 30])
def test_enforcement_in_the_future_is_422(world, occurred_on):
    body = ENDPOINTS["enforce"][3](world) | {"occurred_on": (today() + timedelta(days=occurred_on)).isoformat()}
    _refused(world, "enforce", body, 422, "validation_failed", "occurred_on")


def test_a_date_of_birth_in_the_future_is_422(world):
    body = ENDPOINTS["create_participant"][3](world) | {"date_of_birth": (today() + timedelta(days=1)).isoformat()}
    _refused(world, "create_participant", body, 422, "validation_failed", "date_of_birth")


@pytest.mark.parametrize("event", ["", "INVITE", "to_closed", "delete", "create", "x" * 300])
def test_an_unknown_event_is_422(world, event):
    _refused(world, "close", {"event": event, "version": 1}, 422, "validation_failed", "event")


def test_an_event_without_a_name_is_422(world):
    _refused(world, "close", {"version": 1, "reason": "moved"}, 422, "validation_failed", "event")


@pytest.mark.parametrize("status", ["sent", "SENT", "finished"])
def test_a_referral_status_outside_the_list_is_422(world, status):
    _refused(world, "referral_status", {"status": status}, 422, "validation_failed", "status")


# ---------------------------------------------------------------------------------------------------------------
# Query strings and paths.

LISTS = ["/participants", "/forums", "/referrals", "/organizations", "/services", "/groups"]


BAD_PAGING = [
    ("page=0", "page"),
    ("page=-1", "page"),
    ("page=abc", "page"),
    ("page=1.5", "page"),
    ("page=99999999999999999999999", "page"),
    ("per_page=0", "per_page"),
    ("per_page=-5", "per_page"),
    ("per_page=many", "per_page"),
]


@pytest.mark.parametrize("path", LISTS)
def test_bad_paging_is_422(world, subtests, path):
    for query, field in BAD_PAGING:
        with subtests.test(query=query):
            status, body = world.api["supervisor"].get(f"{path}?{query}")
            assert_error(status, body, 422, "validation_failed", field)


@pytest.mark.parametrize(("path", "query", "field"), [
    ("/participants", "state=bogus", "state"),
    ("/participants", "state=IDENTIFIED", "state"),
    ("/participants", "group_id=abc", "group_id"),
    ("/participants", "group_id=99999999999999999999999", "group_id"),
    ("/participants", "q=" + "x" * 20_000, "q"),
    ("/participants", "q=Ann%00Lee", "q"),
    ("/services", "category=bogus", "category"),
    ("/services", "category=" + "x" * 20_000, "category"),
])
def test_bad_filters_are_422(world, path, query, field):
    status, body = world.api["supervisor"].get(f"{path}?{query}")
    assert_error(status, body, 422, "validation_failed", field)


@pytest.mark.parametrize(("role", "method", "path", "body"), [
    ("supervisor", "GET", "/participants/{}", None),
    ("supervisor", "PATCH", "/participants/{}", {"version": 1}),
    ("supervisor", "POST", "/participants/{}/events", {"event": "close", "version": 1, "reason": "moved"}),
    ("supervisor", "GET", "/participants/{}/history", None),
    ("supervisor", "GET", "/forums/{}", None),
    ("supervisor", "POST", "/referrals/{}/status", {"status": "withdrawn"}),
    ("provider", "POST", "/referrals/{}/status", {"status": "accepted"}),
])
def test_no_such_record_is_404(world, subtests, role, method, path, body):
    before = records()
    for ident in ("0", "424242", "2147483648", "99999999999999999999999"):
        with subtests.test(id=ident):
            status, answer = world.api[role].request(method, path.format(ident), json=body)
            assert_error(status, answer, 404, "not_found")
            assert records() == before
