"""The closed vocabularies of the program, as the people who run it say them."""

from enum import StrEnum


class Role(StrEnum):
    CASEWORKER = "caseworker"
    POLICE = "police"
    PROVIDER = "provider"
    COMMUNITY = "community"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


class OrgKind(StrEnum):
    POLICE = "police"
    PROBATION = "probation"
    PAROLE = "parole"
    PROSECUTOR = "prosecutor"
    PROVIDER = "provider"
    COMMUNITY = "community"


LAW_ENFORCEMENT_KINDS = frozenset({OrgKind.POLICE, OrgKind.PROBATION, OrgKind.PAROLE, OrgKind.PROSECUTOR})


class State(StrEnum):
    IDENTIFIED = "identified"
    INVITED = "invited"
    ATTENDED = "attended"
    SERVICES_OFFERED = "services_offered"
    ENFORCED = "enforced"
    CLOSED = "closed"


class SupervisionStatus(StrEnum):
    NONE = "none"
    PROBATION = "probation"
    PAROLE = "parole"
    PRETRIAL = "pretrial"


class DeliveryMethod(StrEnum):
    CUSTOM_NOTIFICATION = "custom_notification"
    PROBATION_CONDITION = "probation_condition"
    PAROLE_CONDITION = "parole_condition"
    LETTER = "letter"
    OUTREACH = "outreach"


class CloseReason(StrEnum):
    COMPLETED = "completed"
    MOVED = "moved"
    INCARCERATED = "incarcerated"
    DECEASED = "deceased"
    AGED_OUT = "aged_out"
    DECLINED = "declined"
    OTHER = "other"


class ForumStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CANCELLED = "cancelled"


class ServiceCategory(StrEnum):
    EMPLOYMENT = "employment"
    EDUCATION = "education"
    SUBSTANCE_USE = "substance_use"
    MENTAL_HEALTH = "mental_health"
    HOUSING = "housing"
    RELOCATION = "relocation"
    MENTORING = "mentoring"
    TATTOO_REMOVAL = "tattoo_removal"
    LEGAL = "legal"
    FAMILY = "family"
    OTHER = "other"


class ReferralStatus(StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    ENROLLED = "enrolled"
    COMPLETED = "completed"
    DROPPED = "dropped"
    WITHDRAWN = "withdrawn"


OPEN_REFERRAL_STATUSES = frozenset({ReferralStatus.SENT, ReferralStatus.ACCEPTED, ReferralStatus.ENROLLED})


class ActionType(StrEnum):
    ARREST = "arrest"
    PROBATION_VIOLATION = "probation_violation"
    PAROLE_VIOLATION = "parole_violation"
    WARRANT = "warrant"
    FEDERAL_REFERRAL = "federal_referral"
    OTHER = "other"


class OutcomeType(StrEnum):
    ARRESTED = "arrested"
    ARRESTED_VIOLENT = "arrested_violent"
    SHOT = "shot"
    KILLED = "killed"
    INCARCERATED = "incarcerated"
    EMPLOYED = "employed"
    ENROLLED_EDUCATION = "enrolled_education"


class NoteVisibility(StrEnum):
    """Who may read a note, chosen when it is written (DESIGN.md §4)."""

    ALL_STAFF = "all_staff"
    POLICE_ONLY = "police_only"
    SERVICES_TEAM = "services_team"


class OutreachKind(StrEnum):
    VISIT = "visit"
    CALL = "call"
    EVENT = "event"


class ConsentMethod(StrEnum):
    """How a consent was given; a verbal consent names its witness."""

    WRITTEN = "written"
    VERBAL = "verbal"
