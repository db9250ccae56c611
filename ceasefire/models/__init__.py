"""All tables, imported here so that Alembic and create_all see every one."""

import sqlalchemy as sa

from ceasefire.models import (
    cohort_tallies,  # the forums' kept cohort counts, and their hooks
    participant_names,  # PostgreSQL's narrow copy of the names for the search, and its DDL
    referral_outcomes,  # what each referral's events reached, kept on it, and its hooks
)
from ceasefire.models.activity import ActivityDay, ActivityMonth
from ceasefire.models.audit import AuditCount, AuditEvent
from ceasefire.models.counts import (
    AgencyCount,
    IdentificationAgencyDay,
    IdentificationCount,
    IdentificationDay,
    ParticipantCount,
    ReferralCount,
    TableCount,
)
from ceasefire.models.directory_counts import DirectoryCount
from ceasefire.models.dueprocess import IdentificationCriterion, RemovalRequest, Review, participant_criteria
from ceasefire.models.enforcement import EnforcementAction, GroupEnforcement
from ceasefire.models.fieldwork import CustomNotification, Note, OutreachContact
from ceasefire.models.forums import Forum, Invitation
from ceasefire.models.funder_days import FunderCount, FunderDay
from ceasefire.models.outcomes import Outcome
from ceasefire.models.people import Consent, Group, Participant, StatusChange
from ceasefire.models.referrals import Referral, ReferralEvent, Service
from ceasefire.models.search_counts import SearchGramCount, SearchNameCount
from ceasefire.models.service_referrals import ServiceReferralCount, ServiceReferralMonth
from ceasefire.models.sessions import StoredSession, UserSession
from ceasefire.models.stage_counts import SpanCount, StageCount
from ceasefire.models.stage_days import StageDay
from ceasefire.models.stages import CohortMember, StageEntry
from ceasefire.models.users import ApiToken, Organization, RecoveryCode, User

__all__ = [
    "ActivityDay",
    "ActivityMonth",
    "AgencyCount",
    "ApiToken",
    "AuditCount",
    "AuditEvent",
    "CohortMember",
    "Consent",
    "CustomNotification",
    "DirectoryCount",
    "EnforcementAction",
    "Forum",
    "FunderCount",
    "FunderDay",
    "Group",
    "GroupEnforcement",
    "IdentificationAgencyDay",
    "IdentificationCount",
    "IdentificationCriterion",
    "IdentificationDay",
    "Invitation",
    "Note",
    "Organization",
    "Outcome",
    "OutreachContact",
    "Participant",
    "ParticipantCount",
    "RecoveryCode",
    "Referral",
    "ReferralCount",
    "ReferralEvent",
    "RemovalRequest",
    "Review",
    "SearchGramCount",
    "SearchNameCount",
    "Service",
    "ServiceReferralCount",
    "ServiceReferralMonth",
    "SpanCount",
    "StageCount",
    "StageDay",
    "StageEntry",
    "StatusChange",
    "StoredSession",
    "TableCount",
    "User",
    "UserSession",
    "cohort_tallies",
    "participant_criteria",
    "participant_names",
    "referral_outcomes",
]

# Looking a row up by its typed name (ceasefire.services.lookup): each chosen table's lowered name (a forum's place
# and title), then its id. Indexes on an expression, which Alembic does not compare (people.name_search_index): their
# revision makes them, and this makes them for create_all.
LOOKUP_INDEXES = {f"ix_{model.__tablename__}_{column}_lower": (model.__table__, column) for model, column in (
    (Group, "name"), (Organization, "name"), (User, "name"), (Service, "name"), (Forum, "title"), (Forum, "location"),
)}
for _index, (_table, _column) in LOOKUP_INDEXES.items():
    sa.event.listen(_table, "after_create", sa.DDL(f"CREATE INDEX {_index} ON %(table)s (lower({_column}), id)"))
