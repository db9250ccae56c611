"""The records of the read side: what a user may see of each kind, as plain frozen dataclasses.

ceasefire.services.read builds them, asking ceasefire.policy; both faces take them as they are: the API encodes
them as JSON, the templates render them. A field the role may not see holds ABSENT, which carries nothing: it is
falsy, renders as an empty string, and the JSON leaves the field out. Fields marked PAGE_ONLY are for the pages
(a name to show beside an id, whom an invitation is for) and never part of the JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import Field, dataclass, field, fields
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from ceasefire.models.enums import (
    ActionType,
    ConsentMethod,
    DeliveryMethod,
    ForumStatus,
    NoteVisibility,
    OutreachKind,
    ReferralStatus,
    RemovalStatus,
    RequestedBy,
    State,
    SupervisionStatus,
)


class Absent:
    """A field the role may not see. There is one, ABSENT."""

    _one: Absent | None = None

    def __new__(cls) -> Absent:
        if cls._one is None:
            cls._one = super().__new__(cls)
        return cls._one

    def __bool__(self) -> bool:
        return False

    def __str__(self) -> str:
        return ""

    def __html__(self) -> str:
        return ""

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = Absent()


# The metadata of a field the pages show and the JSON leaves out.
PAGE_ONLY: Mapping[str, bool] = MappingProxyType({"json": False})


def in_json(f: Field) -> bool:
    return f.metadata.get("json", True)


class Record:
    """What every record answers: which of its fields the user may see."""

    def has(self, name: str) -> bool:
        return getattr(self, name, ABSENT) is not ABSENT

    @property
    def shown(self) -> frozenset[str]:
        return frozenset(f.name for f in fields(self) if getattr(self, f.name) is not ABSENT)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ConsentRecord(Record):
    given_on: date
    expires_on: date | None
    scope: str = ""
    method: ConsentMethod | None = None
    witness_name: str | None = None


@dataclass(frozen=True)
class EnforcementRecord(Record):
    id: int
    action_type: ActionType
    occurred_on: date
    agency_id: int
    group_id: int | None
    incident_ref: str | None
    description: str | None
    agency_name: str = field(default="", metadata=PAGE_ONLY)


@dataclass(frozen=True)
class ReferralSummary(Record):
    """A referral as a participant's record lists it."""

    id: int
    service_id: int
    service_name: str
    organization_id: int
    status: ReferralStatus
    sent_at: datetime
    organization_name: str = field(default="", metadata=PAGE_ONLY)
    reason: str | None = field(default=None, metadata=PAGE_ONLY)


@dataclass(frozen=True)
class HistoryRecord(Record):
    event: str
    from_state: State | None
    to_state: State
    actor_id: int | None
    at: datetime
    reason: str | None
    actor_name: str | None = field(default=None, metadata=PAGE_ONLY)


@dataclass(frozen=True)
class CriterionRecord(Record):
    """An identification criterion, as a participant's record lists it (retired ones stay, marked)."""

    id: int
    name: str
    retired: bool = False


@dataclass(frozen=True)
class ParticipantRecord(Record):
    """A participant as the user may see them: the fields of policy.visible_fields and nothing else."""

    id: int
    version: int
    first_name: str | Absent = ABSENT
    last_name: str | Absent = ABSENT
    aliases: str | Absent | None = ABSENT
    date_of_birth: date | Absent | None = ABSENT
    phone: str | Absent | None = ABSENT
    address: str | Absent | None = ABSENT
    state: State | Absent = ABSENT
    supervision_status: SupervisionStatus | Absent | None = ABSENT
    supervising_agency: str | Absent | None = ABSENT
    caseworker_id: int | Absent | None = ABSENT
    community_org_id: int | Absent | None = ABSENT
    group_id: int | Absent | None = ABSENT
    group_name: str | Absent | None = ABSENT
    identification_basis: str | Absent | None = ABSENT
    identifying_org_id: int | Absent | None = ABSENT
    identified_on: date | Absent | None = ABSENT
    enforcement_dates: tuple[date, ...] | Absent = ABSENT
    enforcement_actions: tuple[EnforcementRecord, ...] | Absent = ABSENT
    services_offered: bool | Absent = ABSENT
    consent_to_share: bool | Absent = ABSENT
    referrals: tuple[ReferralSummary, ...] | Absent = ABSENT
    outreach_contacts: tuple[Any, ...] | Absent = ABSENT
    review_due_on: date | Absent | None = ABSENT
    criteria: tuple[CriterionRecord, ...] | Absent = ABSENT
    # The participant page's own: names beside the ids, the consent in force, the history and the invitations.
    caseworker_name: str | Absent | None = field(default=ABSENT, metadata=PAGE_ONLY)
    community_org_name: str | Absent | None = field(default=ABSENT, metadata=PAGE_ONLY)
    identifying_org_name: str | Absent | None = field(default=ABSENT, metadata=PAGE_ONLY)
    consent: ConsentRecord | Absent | None = field(default=ABSENT, metadata=PAGE_ONLY)
    history: tuple[HistoryRecord, ...] | Absent = field(default=ABSENT, metadata=PAGE_ONLY)
    invitations: tuple[InvitationRecord, ...] | Absent = field(default=ABSENT, metadata=PAGE_ONLY)

    @property
    def full_name(self) -> str:
        return " ".join(str(part) for part in (self.first_name, self.last_name) if part)


@dataclass(frozen=True)
class ForumRecord(Record):
    """A forum; `invitations` only where one forum is read (policy.INVITATION_FIELDS says which fields)."""

    id: int
    title: str
    scheduled_at: datetime
    location: str | None
    status: ForumStatus
    speakers: str | None
    notes: str | None
    invitations: tuple[InvitationRecord, ...] | Absent = ABSENT


@dataclass(frozen=True)
class InvitationRecord(Record):
    """An invitation with the fields of policy.INVITATION_FIELDS for the user's role."""

    participant_id: int
    method: DeliveryMethod | Absent = ABSENT
    attended: bool | Absent | None = ABSENT
    checked_in_at: datetime | Absent | None = ABSENT
    # On a forum page: whom it is for, and whether the user may check them in now. On a participant page: the forum.
    participant: ParticipantRecord | Absent = field(default=ABSENT, metadata=PAGE_ONLY)
    may_check_in: bool = field(default=False, metadata=PAGE_ONLY)
    forum: ForumRecord | Absent = field(default=ABSENT, metadata=PAGE_ONLY)


@dataclass(frozen=True)
class ReferralEventRecord(Record):
    from_status: ReferralStatus | None
    to_status: ReferralStatus
    actor_id: int | None
    at: datetime
    reason: str | None
    actor_name: str | None = field(default=None, metadata=PAGE_ONLY)
    note: str | None = field(default=None, metadata=PAGE_ONLY)


@dataclass(frozen=True)
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
    updated_at: datetime
    events: tuple[ReferralEventRecord, ...]
    # The referral pages' own: the participant as the user may see them, and names beside the ids.
    participant: ParticipantRecord | Absent = field(default=ABSENT, metadata=PAGE_ONLY)
    service_name: str = field(default="", metadata=PAGE_ONLY)
    organization_name: str = field(default="", metadata=PAGE_ONLY)
    sent_by_name: str | None = field(default=None, metadata=PAGE_ONLY)


@dataclass(frozen=True)
class AuditRecord(Record):
    at: datetime
    user_id: int | None
    action: str
    object_type: str | None
    object_id: int | None
    ip: str | None
    detail: str | None
    face: str | None = field(default=None, metadata=PAGE_ONLY)
    # The audit page's own: whom a row is about and the names a supervisor reads beside the ids.
    participant_id: int | None = field(default=None, metadata=PAGE_ONLY)
    user_name: str | None = field(default=None, metadata=PAGE_ONLY)
    participant_name: str | None = field(default=None, metadata=PAGE_ONLY)
    object_name: str | None = field(default=None, metadata=PAGE_ONLY)


@dataclass(frozen=True)
class NoteRecord(Record):
    id: int
    participant_id: int
    body: str | None
    visibility: NoteVisibility
    author_id: int | None
    created_at: datetime
    author_name: str | None = field(default=None, metadata=PAGE_ONLY)


@dataclass(frozen=True)
class OutreachRecord(Record):
    """An outreach contact; it sits in a participant's `outreach_contacts`."""

    id: int
    organization_id: int
    user_id: int | None
    contacted_at: datetime
    kind: OutreachKind
    outcome: str | None
    organization_name: str = field(default="", metadata=PAGE_ONLY)
    user_name: str | None = field(default=None, metadata=PAGE_ONLY)


@dataclass(frozen=True)
class CustomNotificationRecord(Record):
    id: int
    participant_id: int
    delivered_at: datetime
    place: str | None
    message: str | None
    response: str | None
    team_user_ids: tuple[int, ...]
    team_organization_ids: tuple[int, ...]
    recorded_by: int | None
    recorded_at: datetime
    team_names: tuple[str, ...] = field(default=(), metadata=PAGE_ONLY)


@dataclass(frozen=True)
class TimelineEntry(Record):
    """One line of a participant's timeline: when, what kind of record, what happened, by whom, and more."""

    at: datetime | date
    kind: str
    title: str
    who: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ReviewItem(Record):
    """A participant in the review queue (GET /reviews)."""

    participant_id: int
    review_due_on: date
    state: State
    days_overdue: int
    # The review queue page's own: who, on what basis and criteria, and what happened since.
    participant: ParticipantRecord | Absent = field(default=ABSENT, metadata=PAGE_ONLY)


@dataclass(frozen=True)
class RemovalRequestRecord(Record):
    """A removal request with the fields of policy.REMOVAL_REQUEST_FIELDS for the user's role."""

    id: int
    participant_id: int
    received_on: date
    requested_by: RequestedBy
    due_on: date
    status: RemovalStatus
    grounds: str | Absent | None = ABSENT
    overdue: bool | Absent = ABSENT
    # The pages' own: the decision, who recorded it and the participant's name (while there is one).
    decision_reason: str | None = field(default=None, metadata=PAGE_ONLY)
    decided_at: datetime | None = field(default=None, metadata=PAGE_ONLY)
    days_left: int = field(default=0, metadata=PAGE_ONLY)
    participant: ParticipantRecord | Absent = field(default=ABSENT, metadata=PAGE_ONLY)


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list, the same for both faces."""

    items: Sequence[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return Page.last(self.total, self.per_page)

    @staticmethod
    def last(total: int, per_page: int) -> int:
        """The number of the last page of `total` rows (1 when there are none)."""
        return max(1, -(-total // per_page))

    @staticmethod
    def shown(page: int, total: int, per_page: int) -> int:
        """The page shown when `page` is asked for: a page before the first shows the first, past the end the last."""
        return min(max(page, 1), Page.last(total, per_page))

    @classmethod
    def empty(cls, per_page: int) -> Page[T]:
        return cls((), 0, 1, per_page)
