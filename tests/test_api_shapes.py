"""The API's shapes (ceasefire.api.shapes): the rules the document states are the rules the API applies, the 422
messages are today's, the OpenAPI document describes every body, answer and parameter, and the answers have the
shapes it gives. The regressions of what schemathesis found are here too."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime

import pytest
from api_support import assert_error

from ceasefire.api import rules, shapes
from ceasefire.api.openapi import OPERATIONS

# ---------------------------------------------------------------------------------------------------------------
# The regular expressions against the rules they replace (the hand-written checks of api/schema.py).

OLD_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?")


def _old_date(value: str) -> bool:
    try:
        return len(value) == 10 and bool(date.fromisoformat(value))
    except ValueError:
        return False


def _old_datetime(value: str) -> bool:
    if not OLD_DATETIME.fullmatch(value):
        return False
    try:
        parsed = datetime.fromisoformat(value)
        (parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC))
    except (ValueError, OverflowError):
        return False
    return True


def _old_email(value: str) -> bool:
    local, at, domain = value.rpartition("@")
    return bool(at and local and "." in domain.strip(".") and not any(c.isspace() for c in value))


YEARS = ["0000", "0001", "0004", "0100", "0400", "1900", "2000", "2024", "2026", "2100", "9999"]
MONTHS = [f"{m:02}" for m in range(14)]
DAYS = ["00", "01", "28", "29", "30", "31", "32"]


def test_the_date_rule_is_the_old_one():
    for y, m, d in itertools.product(YEARS, MONTHS, DAYS):
        value = f"{y}-{m}-{d}"
        assert bool(re.fullmatch(rules.DATE, value)) == _old_date(value), value
    for value in ["2026-W01-1", "20260101", "2026-1-1", "2026-01-01T00:00:00Z", "", "2026-01-01\n"]:
        assert not re.fullmatch(rules.DATE, value), value


def test_the_datetime_rule_is_the_old_one_but_at_the_edges():
    """It refuses two things the old check took: an offset of 60 minutes or more (Python read +01:60 as two hours),
    and, on 0001-01-01 and 9999-12-31, an offset that moves the time towards the edge (some of which used to pass,
    some to overflow)."""
    times = ["00:00", "23:59:59", "24:00", "12:60", "12:00:60", "12:00:00.5", "12:00:00.123456", "12:00:00.1234567"]
    offsets = ["", "Z", "+00:00", "-00:00", "+01:00", "-01:00", "+23:59", "-23:59", "+24:00", "+01:60", "z"]
    for (y, m, d), t, o in itertools.product(itertools.product(YEARS, MONTHS, DAYS), times, offsets):
        value = f"{y}-{m}-{d}T{t}{o}"
        new, old = bool(re.fullmatch(rules.DATETIME, value)), _old_datetime(value)
        if new != old:
            assert not new, value
            first, last = value.startswith("0001-01-01T"), value.startswith("9999-12-31T")
            edge = (first and o[:1] == "+") or (last and o[:1] == "-")
            assert edge or o.endswith(":60"), value


@pytest.mark.parametrize("value", [
    "a@b.c", "a@b@c.d", "a.b@c..d", "a@.b.", "a@b.", "a@.b", "@b.c", "a@", "a b@c.d", "a@b.c\t", "", "a\u3000@b.c",
    "a@b\x1c.c", "a@b.c\n", ".@..x", "a@x.y.z", "a@@b.c",
])
def test_the_email_rule_is_the_old_one(value):
    assert bool(re.fullmatch(rules.EMAIL, value)) == _old_email(value)


@pytest.mark.parametrize("value", ["", " ", "\t\n", "\u3000", "\x1c", "\x85", "\u2028 ", "x", " x ", "\u200b"])
def test_blank_is_what_strip_removes(value):
    assert bool(re.fullmatch(rules.NOT_BLANK, value)) == bool(value.strip())


# ---------------------------------------------------------------------------------------------------------------
# Today's messages.


@pytest.mark.parametrize(("field", "value", "message"), [
    ("first_name", 5, "This field must be a string."),
    ("first_name", "x" * 101, "This field must be at most 100 characters."),
    ("first_name", "Ann\x00", "This field may not contain NUL characters."),
    ("first_name", "  ", "This field is required."),
    ("first_name", None, "This field is required."),
    ("supervision_status", None, "This field may not be null."),
    ("supervision_status", "bogus", "This field must be one of: none, probation, parole, pretrial."),
    ("date_of_birth", "2026-02-30", "This field must be a date, YYYY-MM-DD."),
    ("group_id", True, "This field must be a whole number."),
    ("group_id", 2**40, "This field is out of range."),
    ("consent_to_share", "true", "This field must be true or false."),
    ("nickname", "x", "Unknown field."),
])
def test_the_422_messages_are_todays(world_api, field, value, message):
    status, body = world_api.post("/participants", json={"first_name": "Ann", "last_name": "Lee", field: value})
    assert assert_error(status, body, 422, "validation_failed", field)[field] == message


@pytest.mark.parametrize(("query", "field"), [
    ("page=%2B1", "page"), ("page=%201", "page"), ("per_page=1_0", "per_page"), ("group_id=%2B3", "group_id"),
])
def test_a_query_number_is_digits_alone(world_api, query, field):
    """int() would read '+1', ' 1' and '1_0'; the document says integer, and so does the API now."""
    status, body = world_api.get(f"/participants?{query}")
    assert_error(status, body, 422, "validation_failed", field)


@pytest.fixture
def world_api(users, api_as):
    return api_as(users["supervisor"])


# ---------------------------------------------------------------------------------------------------------------
# The document.


@pytest.fixture
def doc(client):
    return client.get("/api/v1/openapi.json").get_json()


def _resolve(doc, schema):
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def test_every_body_and_every_answer_has_a_schema_with_its_required_fields(app, doc):
    documented = {(m, e) for m, e in OPERATIONS}
    routes = {(method, rule.endpoint) for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api.")
              for method in rule.methods - {"HEAD", "OPTIONS"} if rule.endpoint != "api.openapi_document"}
    assert routes == documented
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            if path == "/openapi.json":
                continue
            success = [code for code in op["responses"] if code.startswith("2")]
            assert len(success) == 1, (method, path)
            answer = _resolve(doc, op["responses"][success[0]]["content"]["application/json"]["schema"])
            assert answer["type"] == "object", (method, path)
            assert answer["required"], (method, path)
            if method in ("post", "patch"):
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                for one in schema.get("oneOf", [schema]):
                    body = _resolve(doc, one)
                    assert body["additionalProperties"] is False, (method, path)
                    assert set(body.get("required", ())) <= set(body["properties"]), (method, path)


def test_the_required_fields_are_api_mds(doc):
    def required(name):
        return set(doc["components"]["schemas"][name]["required"])

    assert required("ParticipantCreate") == {"first_name", "last_name"}
    assert required("ParticipantPatch") == {"version"}
    assert required("InviteEvent") == {"event", "version", "forum_id", "method"}
    assert required("EnforceEvent") == {"event", "version", "action_type", "occurred_on"}
    assert required("CloseEvent") == {"event", "version", "reason"}
    assert required("UserCreate") == {"email", "name", "role", "password"}
    assert required("ParticipantRecord") == {"id", "version"}
    assert required("ParticipantPage") == {"items", "total", "page", "per_page"}
    events = doc["paths"]["/participants/{participant_id}/events"]["post"]["requestBody"]["content"]
    assert set(events["application/json"]["schema"]["discriminator"]["mapping"]) == set(shapes.EVENTS)


def test_every_query_parameter_is_declared(doc):
    def names(path):
        return {p["name"] for p in doc["paths"][path]["get"]["parameters"] if p["in"] == "query"}

    paging = {"page", "per_page"}
    assert names("/participants") == paging | {"state", "group_id", "q"}
    assert names("/services") == paging | {"category"}
    assert names("/audit") == paging | {"participant_id", "user_id", "action"}
    for path in ("/forums", "/referrals", "/organizations", "/groups"):
        assert names(path) == paging


def test_every_error_code_is_listed_with_the_error_schema(doc):
    codes = set(doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"])
    assert codes >= {"bad_request", "unauthorized", "forbidden", "not_found", "method_not_allowed", "stale_version",
                     "invalid_transition", "validation_failed", "too_large", "too_many_requests"}
    patch = doc["paths"]["/participants/{participant_id}"]["patch"]["responses"]
    assert set(patch) == {"200", "400", "401", "403", "404", "405", "409", "413", "422", "429"}
    assert set(doc["paths"]["/forums"]["get"]["responses"]) == {"200", "401", "403", "405", "422", "429"}
    for code, response in patch.items():
        if code != "200":
            assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


# ---------------------------------------------------------------------------------------------------------------
# The answers have the shapes the document gives (validated here, in the tests, not in the API).


@pytest.mark.parametrize("role", ["supervisor", "caseworker", "police", "provider", "community"])
def test_participant_answers_fit_their_models(users, api_as, make_participant, make_service, role):
    from ceasefire.extensions import db
    from ceasefire.services import referrals

    participant = make_participant(users["supervisor"], consent_to_share=True,
                                   community_org_id=users["community"].organization_id)
    referrals.send_referral(users["supervisor"], participant, make_service(users["provider"].organization), "n")
    db.session.commit()
    api = api_as(users[role])
    status, body = api.get("/participants")
    assert status == 200, body
    shapes.ParticipantPage.model_validate(body)
    assert body["items"], role
    status, body = api.get(f"/participants/{participant.id}")
    assert status == 200, body
    shapes.ParticipantRecord.model_validate(body)


def test_other_answers_fit_their_models(users, api_as, make_participant, make_forum, make_service):
    supervisor = api_as(users["supervisor"])
    participant = make_participant(users["supervisor"], consent_to_share=True)
    forum = make_forum(actor=users["supervisor"])
    service = make_service(users["provider"].organization)
    status, referral = supervisor.post("/referrals", json={"participant_id": participant.id, "service_id": service.id})
    assert status == 201, referral
    shapes.ReferralRecord.model_validate(referral)
    for path, model in [
        ("/forums", shapes.ForumPage), (f"/forums/{forum.id}", shapes.ForumWithInvitations),
        ("/referrals", shapes.ReferralPage), ("/organizations", shapes.OrganizationPage),
        ("/services", shapes.ServicePage), ("/groups", shapes.GroupPage), ("/audit", shapes.AuditPage),
        (f"/participants/{participant.id}/history", shapes.History),
    ]:
        status, body = supervisor.get(path)
        assert status == 200, (path, body)
        model.model_validate(body)


# ---------------------------------------------------------------------------------------------------------------
# What schemathesis found.


@pytest.mark.parametrize("path", ["/api/v1/audit", "/api/v1/participants/1", "/api/v1/forums"])
def test_a_method_the_path_does_not_take_is_405_with_allow(client, path):
    response = client.open(path, method="TRACE")
    assert_error(response.status_code, response.get_json(), 405, "method_not_allowed")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "GET" in allowed
    assert "TRACE" not in allowed


@pytest.mark.parametrize(("path", "name"), [("/participants?state=", "state"), ("/services?category=", "category"),
                                            ("/participants?group_id=&page=&per_page=", "group_id")])
def test_an_empty_query_value_is_left_out_and_the_document_says_so(world_api, doc, path, name):
    status, body = world_api.get(path)
    assert status == 200, body
    params = {p["name"]: p for p in doc["paths"][path.split("?")[0]]["get"]["parameters"]}
    assert {"type": "string", "maxLength": 0} in params[name]["schema"]["anyOf"]


def test_a_whole_number_written_with_a_point_is_that_number(users, api_as, make_participant, make_service):
    """JSON Schema's integer is any number without a fraction; schemathesis sent 452.0 for an id and got 422."""
    participant = make_participant(users["supervisor"], consent_to_share=True)
    service = make_service(users["provider"].organization)
    status, body = api_as(users["supervisor"]).post(
        "/referrals", json={"participant_id": float(participant.id), "service_id": float(service.id)})
    assert status == 201, body
    assert (body["participant_id"], body["service_id"]) == (participant.id, service.id)
    status, body = api_as(users["supervisor"]).post(
        "/referrals", json={"participant_id": participant.id + 0.5, "service_id": service.id})
    assert_error(status, body, 422, "validation_failed", "participant_id")
