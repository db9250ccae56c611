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

from ceasefire.models.enums import ActionType, DeliveryMethod, ForumStatus, ReferralStatus, State, SupervisionStatus


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
        return max(1, -(-self.total // self.per_page))

    @classmethod
    def empty(cls, per_page: int) -> Page[T]:
        return cls((), 0, 1, per_page)
