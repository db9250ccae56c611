"""The API's shapes (API.md) as pydantic models, in one place: the request bodies and query strings, which the API
validates with them, and the records it answers, which only the OpenAPI document (and the tests) read.

A request field is declared with one of the types below; each carries its kind, which picks the message of API.md's
422 (`problems`), and its rule, which pydantic checks and writes into the document.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    ValidationError,
)

from ceasefire import limits
from ceasefire.api import rules
from ceasefire.models.enums import (
    ActionType,
    CloseReason,
    DeliveryMethod,
    ForumStatus,
    OrgKind,
    ReferralStatus,
    Role,
    ServiceCategory,
    State,
    SupervisionStatus,
)
from ceasefire.services import audit

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # what an INTEGER column holds on every database


@dataclass(frozen=True)
class Kind:
    """Annotated metadata naming a field's kind: text, email, int, bool, date, datetime, enum."""

    name: str


def _date(value: str) -> date:
    return date.fromisoformat(value)


def _datetime(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def Text(max_length: int) -> Any:  # noqa: N802 - reads as a type in the models
    return Annotated[str, StringConstraints(max_length=max_length, pattern=rules.NUL_FREE), Kind("text")]


def Required(max_length: int) -> Any:  # noqa: N802
    """Text that must not be blank: whitespace alone counts as missing."""
    return Annotated[str, StringConstraints(max_length=max_length, pattern=rules.NOT_BLANK), Kind("text")]


Email = Annotated[str, StringConstraints(max_length=limits.EMAIL, pattern=rules.EMAIL_OR_EMPTY), Kind("email")]
RequiredEmail = Annotated[str, StringConstraints(max_length=limits.EMAIL, pattern=rules.EMAIL), Kind("email")]
def _integral(value: Any) -> Any:
    """JSON Schema's integer is any number without a fraction: 452.0 is 452 (schemathesis sent it)."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


Whole = Annotated[int, Field(ge=INT_MIN, le=INT_MAX), BeforeValidator(_integral), Kind("int")]
Id = Whole
Flag = Annotated[bool, Kind("bool")]
Day = Annotated[
    str, StringConstraints(pattern=rules.DATE), Field(json_schema_extra={"format": "date"}), AfterValidator(_date),
    Kind("date"),
]
Moment = Annotated[
    str, StringConstraints(pattern=rules.DATETIME),
    Field(description="ISO 8601 with a time, e.g. 2026-11-23T17:00:00Z; UTC when no offset is given"),
    AfterValidator(_datetime), Kind("datetime"),
]


def Choice(enum: type) -> Any:  # noqa: N802
    return Annotated[enum, Strict(False), Kind("enum")]  # JSON brings the value, not the member


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# Participants

class ParticipantFields(Body):
    aliases: Text(limits.ALIASES) | None = None
    date_of_birth: Day | None = None
    phone: Text(limits.PHONE) | None = None
    address: Text(limits.ADDRESS) | None = None
    group_id: Id | None = None
    supervision_status: Choice(SupervisionStatus) = Field(default=None)
    supervising_agency: Text(limits.TITLE) | None = None
    identification_basis: Text(limits.TEXT) | None = Field(
        default=None, description="Required from police; refused (403) from roles that may not see it"
    )
    caseworker_id: Id | None = None
    community_org_id: Id | None = Field(default=None, description="The community group assigned for outreach")
    consent_to_share: Flag = Field(default=None)


class ParticipantCreate(ParticipantFields):
    first_name: Required(limits.NAME)
    last_name: Required(limits.NAME)
    criteria: list[Id] | None = Field(
        default=None, description="Ids of active identification criteria; at least one from police"
    )


class ParticipantPatch(ParticipantFields):
    version: Whole = Field(description="The version you read; another is 409 stale_version")
    first_name: Required(limits.NAME) = Field(default=None)
    last_name: Required(limits.NAME) = Field(default=None)


class EventBody(Body):
    version: Whole = Field(description="The version you read; another is 409 stale_version")


class InviteEvent(EventBody):
    event: Literal["invite"]
    forum_id: Id = Field(description="A planned forum")
    method: Choice(DeliveryMethod)


class NoShowEvent(EventBody):
    event: Literal["no_show"]


class AttendEvent(EventBody):
    event: Literal["attend"]


class OfferServicesEvent(EventBody):
    event: Literal["offer_services"]


class EnforceEvent(EventBody):
    event: Literal["enforce"]
    action_type: Choice(ActionType)
    occurred_on: Day = Field(description="Not in the future")
    description: Text(limits.TEXT) | None = None
    incident_ref: Text(limits.NAME) | None = None
    agency_id: Id | None = Field(default=None, description="A police, probation, parole or prosecutor organization")


class CloseEvent(EventBody):
    event: Literal["close"]
    reason: Choice(CloseReason)


class ReopenEvent(EventBody):
    event: Literal["reopen"]
    reason: Required(limits.TEXT)


EVENTS: dict[str, type[EventBody]] = {
    "invite": InviteEvent, "no_show": NoShowEvent, "attend": AttendEvent, "offer_services": OfferServicesEvent,
    "enforce": EnforceEvent, "close": CloseEvent, "reopen": ReopenEvent,
}


# Forums, referrals, users, organizations, services, groups

class ForumCreate(Body):
    title: Required(limits.TITLE)
    scheduled_at: Moment
    location: Text(limits.TITLE) | None = None
    speakers: Text(limits.TEXT) | None = None
    notes: Text(limits.TEXT) | None = None


class ReferralCreate(Body):
    participant_id: Id
    service_id: Id
    note: Text(limits.TEXT) | None = None


class ReferralStatusChange(Body):
    status: Choice(ReferralStatus) = Field(description="Any status but sent")
    reason: Text(limits.TEXT) | None = Field(default=None, description="Required when declining")


class UserCreate(Body):
    email: RequiredEmail
    name: Required(limits.NAME)
    role: Choice(Role)
    organization_id: Id | None = Field(default=None, description="Required for provider, community and police")
    password: Required(limits.PASSWORD_MAX) = Field(description=f"At least {limits.PASSWORD_MIN} characters")


class OrganizationCreate(Body):
    name: Required(limits.NAME)
    kind: Choice(OrgKind)
    description: Text(limits.TEXT) | None = None
    email: Email | None = None
    phone: Text(limits.PHONE) | None = None
    url: Text(limits.URL) | None = None


class ServiceCreate(Body):
    organization_id: Id = Field(description="A provider organization")
    name: Required(limits.NAME)
    category: Choice(ServiceCategory)
    description: Text(limits.TEXT) | None = None
    eligibility: Text(limits.TEXT) | None = None
    capacity: Whole | None = None
    active: Flag = Field(default=None)


class GroupCreate(Body):
    name: Required(limits.NAME)
    aliases: Text(limits.ALIASES) | None = None
    area: Text(limits.TITLE) | None = None


# Query strings: every value arrives as a string; whole numbers are read before the model sees them.

class Query(Body):
    pass


class Paging(Query):
    page: Annotated[int, Field(ge=1, le=INT_MAX), Kind("int")] = Field(default=None, description="From 1")
    per_page: Annotated[int, Field(ge=1), Kind("int")] = Field(
        default=None, description="50 by default; more than 200 is read as 200"
    )


class ParticipantQuery(Paging):
    state: Choice(State) = Field(default=None, description="Roles that do not see the state get 403")
    group_id: Id = Field(default=None, description="Roles that do not see groups get 403")
    q: Text(limits.NAME) = Field(default=None, description="Part of a name or alias")


class ServiceQuery(Paging):
    category: Choice(ServiceCategory) = Field(default=None)


AuditAction = Annotated[
    str, StringConstraints(max_length=32, pattern=rules.NUL_FREE), Kind("text"),
    Field(json_schema_extra={"enum": sorted(audit.ACTIONS)}),
]


class AuditQuery(Paging):
    participant_id: Id = Field(default=None)
    user_id: Id = Field(default=None)
    action: AuditAction = Field(default=None)


# Records the API answers, for the document: it is the JSON of ceasefire.api.serialize. A participant's fields beyond
# id and version are there only when the policy lets the caller see them (absent, never null, when hidden).

class Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class ReferralSummary(Record):
    id: int
    service_id: int
    service_name: str
    organization_id: int
    status: ReferralStatus
    sent_at: datetime


class EnforcementRecord(Record):
    id: int
    action_type: ActionType
    occurred_on: date
    agency_id: int | None
    group_id: int | None
    incident_ref: str | None
    description: str | None


class ParticipantRecord(Record):
    id: int
    version: int
    first_name: str = None
    last_name: str = None
    aliases: str | None = None
    date_of_birth: date | None = None
    phone: str | None = None
    address: str | None = None
    state: State = None
    supervision_status: SupervisionStatus = None
    supervising_agency: str | None = None
    caseworker_id: int | None = None
    community_org_id: int | None = None
    group_id: int | None = None
    group_name: str | None = None
    identification_basis: str | None = None
    identifying_org_id: int | None = None
    identified_on: date = None
    enforcement_dates: list[date] = None
    enforcement_actions: list[EnforcementRecord] = None
    services_offered: bool = None
    consent_to_share: bool = None
    referrals: list[ReferralSummary] = None
    outreach_contacts: list[dict[str, Any]] = None
    review_due_on: date | None = Field(default=None, description="Computed; setting it is 422")
    criteria: list[dict[str, Any]] = None


class HistoryRow(Record):
    event: str
    from_state: State | None
    to_state: State
    actor_id: int | None
    at: datetime
    reason: str | None


class ForumRecord(Record):
    id: int
    title: str
    scheduled_at: datetime
    location: str | None
    status: ForumStatus
    speakers: str | None
    notes: str | None


class InvitationRecord(Record):
    participant_id: int
    method: DeliveryMethod = None
    attended: bool | None = None
    checked_in_at: datetime | None = None


class ForumWithInvitations(ForumRecord):
    invitations: list[InvitationRecord] = Field(description="Only participants the caller may see; none for providers")


class ReferralEventRecord(Record):
    from_status: ReferralStatus | None
    to_status: ReferralStatus
    actor_id: int | None
    at: datetime
    reason: str | None


class ReferralRecord(Record):
    id: int
    participant_id: int
    service_id: int
    organization_id: int
    status: ReferralStatus
    note: str | None
    reason: str | None
    sent_at: datetime
    sent_by_id: int | None
    updated_at: datetime | None
    events: list[ReferralEventRecord]


class UserRecord(Record):
    id: int
    email: str
    name: str
    role: Role
    organization_id: int | None
    active: bool


class OrganizationRecord(Record):
    id: int
    name: str
    kind: OrgKind
    description: str | None
    email: str | None
    phone: str | None
    url: str | None


class ServiceRecord(Record):
    id: int
    organization_id: int
    name: str
    category: ServiceCategory
    description: str | None
    eligibility: str | None
    capacity: int | None
    active: bool


class GroupRecord(Record):
    """Police and supervisors see every field, caseworkers id and name."""

    id: int
    name: str
    aliases: str | None = None
    area: str | None = None


class AuditRecord(Record):
    at: datetime
    user_id: int | None
    action: str
    object_type: str | None
    object_id: int | None
    ip: str | None
    detail: str | None


class Page(Record):
    total: int = Field(ge=0)
    page: int = Field(ge=1)
    per_page: int = Field(ge=1, le=200)


class ParticipantPage(Page):
    items: list[ParticipantRecord]


class ForumPage(Page):
    items: list[ForumRecord]


class ReferralPage(Page):
    items: list[ReferralRecord]


class OrganizationPage(Page):
    items: list[OrganizationRecord]


class ServicePage(Page):
    items: list[ServiceRecord]


class GroupPage(Page):
    items: list[GroupRecord]


class AuditPage(Page):
    items: list[AuditRecord]


class History(Record):
    items: list[HistoryRow] = Field(description="Oldest first, the create row first")


class ErrorDetail(Record):
    code: Literal[
        "bad_request", "unauthorized", "forbidden", "not_found", "method_not_allowed", "stale_version",
        "invalid_transition", "validation_failed", "too_large", "too_many_requests",
    ]
    message: str
    fields: dict[str, str] = Field(description="Each field (or query parameter) named, with what is wrong with it")


class Error(Record):
    error: ErrorDetail


# Mapping pydantic's errors onto API.md's 422: one message a field, in today's words.

KIND_MESSAGES = {
    "text": "must be a string",
    "email": "must be a string",
    "int": "must be a whole number",
    "bool": "must be true or false",
    "date": "must be a date, YYYY-MM-DD",
    "datetime": "must be an ISO 8601 time, e.g. 2026-11-23T17:00:00Z",
}


def _parts(annotation: Any) -> list[Any]:
    """The metadata and types inside an annotation, through Annotated and `| None`."""
    found = [annotation]
    for arg in get_args(annotation):
        found += _parts(arg)
    if get_origin(annotation) is Annotated:
        found += list(annotation.__metadata__)
    return found


def describe(model: type[BaseModel], name: str) -> tuple[str, type[Enum] | None, bool]:
    """A field's kind, its enum (if any) and whether it takes null."""
    info = model.model_fields[name]
    parts = _parts(info.annotation) + list(info.metadata)
    kind = next((p.name for p in parts if isinstance(p, Kind)), "text")
    enum = next((p for p in parts if isinstance(p, type) and issubclass(p, Enum)), None)
    return kind, enum, type(None) in parts


def _message(model: type[BaseModel], name: str, error: Any) -> str:
    kind, enum, nullable = describe(model, name)
    kind_of_error, value = error["type"], error.get("input")
    if value is None:
        # a text field that may be left out but not emptied (a name) counts null as missing, like blank
        required = model.model_fields[name].is_required() or (kind == "text" and not nullable)
        return "This field is required." if required else "This field may not be null."
    if enum is not None:
        return "This field must be one of: " + ", ".join(m.value for m in enum) + "."
    if kind in ("date", "datetime", "bool"):
        return f"This field {KIND_MESSAGES[kind]}."
    if kind_of_error == "string_too_long":
        return f"This field must be at most {error['ctx']['max_length']} characters."
    if kind_of_error == "string_pattern_mismatch":
        if "\x00" in value:
            return "This field may not contain NUL characters."
        if kind == "email" and value:
            return "This field must be an email address."
        return "This field is required."
    if kind_of_error in ("greater_than_equal", "less_than_equal"):
        return "This field is out of range."
    return f"This field {KIND_MESSAGES[kind]}."


def problems(model: type[BaseModel], exc: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in exc.errors(include_url=False):
        name = str(error["loc"][0]) if error["loc"] else ""
        if name in found:
            continue
        found[name] = "Unknown field." if error["type"] == "extra_forbidden" else _message(model, name, error)
    return found


def validated(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """The fields sent, typed; ValueError carrying `problems` when the model refuses them."""
    try:
        instance = model.model_validate(data)
    except ValidationError as exc:
        raise ShapeError(problems(model, exc)) from None
    return {name: getattr(instance, name) for name in instance.model_fields_set}


class ShapeError(ValueError):
    def __init__(self, fields: dict[str, str]):
        super().__init__(fields)
        self.fields = fields
