"""All tables, imported here so that Alembic and create_all see every one."""

import sqlalchemy as sa

from ceasefire.models.audit import AuditEvent
from ceasefire.models.counts import IdentificationCount, ParticipantCount, ReferralCount
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
    "AuditEvent",
    "Consent",
    "CustomNotification",
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

# Looking a row up by its typed name (ceasefire.services.lookup): each chosen table's lowered name, then its id. An
# index on an expression, which Alembic does not compare (people.name_search_index): its revision makes it, and this
# makes it for create_all.
LOOKUP_INDEXES = {model.__tablename__: f"ix_{model.__tablename__}_name_lower"
                  for model in (Group, Organization, User, Service)}
for _model in (Group, Organization, User, Service):
    sa.event.listen(_model.__table__, "after_create", sa.DDL(
        f"CREATE INDEX {LOOKUP_INDEXES[_model.__tablename__]} ON {_model.__tablename__} (lower(name), id)"
    ))
