"""All tables, imported here so that Alembic and create_all see every one."""

from ceasefire.models.audit import AuditCount, AuditEvent
from ceasefire.models.counts import IdentificationCount, ParticipantCount, ReferralCount
from ceasefire.models.directory_counts import DirectoryCount
from ceasefire.models.dueprocess import IdentificationCriterion, RemovalRequest, Review, participant_criteria
from ceasefire.models.enforcement import EnforcementAction, GroupEnforcement
from ceasefire.models.fieldwork import CustomNotification, Note, OutreachContact
from ceasefire.models.forums import Forum, Invitation
from ceasefire.models.outcomes import Outcome
from ceasefire.models.people import Consent, Group, Participant, StatusChange
from ceasefire.models.referrals import Referral, ReferralEvent, Service
from ceasefire.models.sessions import StoredSession, UserSession
from ceasefire.models.users import ApiToken, Organization, RecoveryCode, User

__all__ = [
    "ApiToken",
    "AuditCount",
    "AuditEvent",
    "Consent",
    "CustomNotification",
    "DirectoryCount",
    "EnforcementAction",
    "Forum",
    "Group",
    "GroupEnforcement",
    "IdentificationCount",
    "IdentificationCriterion",
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
    "Service",
    "StatusChange",
    "StoredSession",
    "User",
    "UserSession",
    "participant_criteria",
]
