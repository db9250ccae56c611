"""Creating and changing participants; the pipeline's events are verbs of their own (ceasefire.services.events)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Any

import sqlalchemy as sa

from ceasefire import pipeline, policy
from ceasefire.errors import Forbidden, StaleVersion, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Consent, EnforcementAction, Group, Invitation, Organization, Participant, User
from ceasefire.models.base import Unindexed, today, utcnow
from ceasefire.models.enums import OrgKind, Role, State
from ceasefire.models.people import STATE_RANK
from ceasefire.services import audit, columns, retention, search

EDITABLE = (
    "first_name", "last_name", "aliases", "date_of_birth", "phone", "address", "group_id", "supervision_status",
    "supervising_agency", "identification_basis", "caseworker_id", "community_org_id", "consent_to_share",
    "criteria",
)


def check_settable(actor: User, fields: Iterable[str]) -> None:
    """403 for a field the actor's role may not see (and so may not set)."""
    visible = policy.visible_fields(actor.role)
    hidden = sorted(f for f in fields if f in EDITABLE and f not in visible)
    if hidden:
        raise Forbidden(
            "Your role may not set: " + ", ".join(hidden) + ".",
            dict.fromkeys(hidden, "Your role may not set this field."),
        )


def check_version(participant: Participant, version: int) -> None:
    if version != participant.version:
        raise StaleVersion(
            f"This participant was changed by someone else (version {participant.version}, you sent {version}). "
            "Reload and try again."
        )


def _check_references(data: dict[str, Any]) -> None:
    problems: dict[str, str] = {}
    if data.get("group_id") is not None and db.session.get(Group, data["group_id"]) is None:
        problems["group_id"] = "No such group."
    if data.get("caseworker_id") is not None:
        cw = db.session.get(User, data["caseworker_id"])
        if cw is None or cw.role not in (Role.CASEWORKER, Role.SUPERVISOR):
            problems["caseworker_id"] = "No such caseworker."
    if data.get("community_org_id") is not None:
        org = db.session.get(Organization, data["community_org_id"])
        if org is None or org.kind != OrgKind.COMMUNITY:
            problems["community_org_id"] = "No such community group."
    for field in ("first_name", "last_name"):
        if field in data and not (data[field] or "").strip():
            problems[field] = "This field is required."
    if data.get("date_of_birth") is not None and data["date_of_birth"] > today():
        problems["date_of_birth"] = "The date of birth is in the future."
    if problems:
        raise ValidationFailed("Some fields need attention.", problems)


def _set_consent(participant: Participant, given: bool, actor: User) -> None:
    current = participant.consent_in_force()
    if given and current is None:
        participant.consents.append(Consent(given_on=today(), recorded_by_id=actor.id))
    elif not given and current is not None:
        current.revoked_on = today()
        current.revoked_at = utcnow()
        current.revoked_by_id = actor.id


def _apply(participant: Participant, data: dict[str, Any], actor: User) -> list[str]:
    changed = []
    for field, value in data.items():
        if field == "consent_to_share":
            before = participant.consent_in_force() is not None
            _set_consent(participant, bool(value), actor)
            if before != bool(value):
                changed.append(field)
            continue
        if isinstance(value, str) and not isinstance(value, Enum):  # an enum member is a str too: keep it
            value = value.strip() or None
        if getattr(participant, field) != value:
            setattr(participant, field, value)
            changed.append(field)
    return changed


def create_participant(actor: User, data: dict[str, Any]) -> Participant:
    policy.require(actor, "participant.create")
    check_settable(actor, data)
    retention.refuse_review_date(data)
    _check_references(data)
    if actor.role == Role.POLICE and not (data.get("identification_basis") or "").strip():
        raise ValidationFailed(
            "Police must give the basis of identification.",
            {"identification_basis": "Required when police identify a participant."},
        )
    participant = Participant(version=1)
    if actor.role == Role.POLICE:
        participant.identifying_org_id = actor.organization_id
    participant.identified_on = today()
    retention.on_identification(actor, participant, data.get("criteria"))
    _apply(participant, {k: v for k, v in data.items() if k not in ("consent_to_share", "criteria")}, actor)
    retention.keep_age_band(participant)
    db.session.add(participant)
    if data.get("consent_to_share"):
        _set_consent(participant, True, actor)
    pipeline.record_create(participant, actor)
    db.session.flush()
    audit.record(actor, "create", "participant", participant.id)
    return participant


def update_participant(actor: User, participant: Participant, version: int, data: dict[str, Any]) -> Participant:
    """Every successful update adds one to the version, whatever it changed."""
    policy.require(actor, "participant.update")
    if "state" in data:
        raise ValidationFailed(
            "The state changes only through events.", {"state": "Use POST /participants/{id}/events."}
        )
    check_settable(actor, data)
    retention.refuse_review_date(data)
    if "criteria" in data:
        raise ValidationFailed("Criteria are ticked when a person is identified.", {"criteria": "Unknown field."})
    _check_references(data)
    check_version(participant, version)
    # No autoflush while applying: loading the consents midway would write the fields set so far as an UPDATE
    # of its own, and the version would move on twice.
    with db.session.no_autoflush:
        changed = _apply(participant, data, actor)
        if "date_of_birth" in changed:
            retention.keep_age_band(participant)
    participant.updated_at = utcnow()  # always an UPDATE, so the version moves on
    db.session.flush()
    audit.record(actor, "update", "participant", participant.id, ",".join(changed) or "no change")
    return participant


# The list's filters beyond the name search: (the field the role must see, the condition). forum_id is the
# invitations' own: whoever sees a participant's invitations may ask who was invited to a forum.
FILTERS = {
    "caseworker_id": ("caseworker_id", lambda v: Participant.caseworker_id == v),
    "supervision_status": ("supervision_status", lambda v: Participant.supervision_status == v),
}
# The list's orders: (the field the role must see, the ORDER BY). "changed" is the last change, newest first.
# "state" is the pipeline's order, read off its index (models.people.STATE_RANK).
SORTS = {
    "name": (None, (Participant.last_name, Participant.first_name, Participant.id)),
    "state": ("state", (STATE_RANK, Participant.last_name, Participant.first_name, Participant.id)),
    "changed": ("state", (Participant.updated_at.desc(), Participant.id.desc())),
}


def list_query(actor: User, state: str | None = None, group_id: int | None = None, q: str | None = None,
               sort: str | None = None, forum_id: int | None = None, counted: bool = False,
               found: tuple[int, int] | None = None, matches: int | None = None, **more: Any) -> sa.Select:
    """The participants the actor may see, filtered and ordered; 403 for a filter or an order on a field the
    actor's role does not see (the pages offer only those it does). `counted`: the caller has counted the matches
    of `q` already (the list page's tabs: `matches` of them in the list), so the search sorts them rather than count
    them again to choose; `found` (how many match within the filters, and how many there are) chooses instead
    (services/search.py)."""
    query = filtered_query(actor, sa.select(Participant), state=state, group_id=group_id, forum_id=forum_id, **more)
    field, order = SORTS.get(sort or "name", SORTS["name"])
    if field is not None and not policy.sees(actor.role, field):
        raise Forbidden("Your role may not sort by this.", {"sort": "Your role does not see this field."})
    if sort == "state" and state:  # one state: its order is the name's, read off the index of that state
        field, order = SORTS["name"]
    if q and field is None:  # by name: walked down the name index or sorted from the matches (services/search.py)
        condition, by_name = search.for_page(q, decide=not counted, found=found, state=state,
                                             broad=not _narrow(actor, group_id, forum_id, more), matches=matches)
        query, order = query.where(condition), tuple(by_name)
    elif q:
        query = query.where(name_clause(q))
    return query.order_by(*order)


def search_total(actor: User, q: str | None = None, **filters: Any) -> int | None:
    """The list's total when it is a name search and nothing else, for a role that sees everyone: counted off the
    search index alone (services/search.py). None otherwise (the list is counted as it is)."""
    if not q or not search.needle(q) or policy.SCOPES.get(actor.role) != "all":
        return None
    if any(value is not None and value != "" for name, value in filters.items() if name != "sort"):
        return None
    return search.count(q)


_BROAD = ("state", "supervision_status")  # filters that keep a large share of everyone


def _narrow(actor: User, group_id: int | None, forum_id: int | None, more: dict[str, Any]) -> bool:
    """Whether the list is narrowed to a few people beyond its broad filters: the role's scope (a provider's or a
    community group's people), a group, a forum's invitees, a caseworker's caseload."""
    return policy.SCOPES.get(actor.role) != "all" or group_id is not None or forum_id is not None or any(
        value not in (None, "") for name, value in more.items() if name not in _BROAD)


def whole_list(actor: User, **filters: Any) -> bool:
    """Whether the list is everyone or one state of them: a role that sees everyone (and the state, when the list
    is one state), and no filter but the state given (`q` and the order aside)."""
    if policy.SCOPES.get(actor.role) != "all":
        return False
    if filters.get("state") and not policy.sees(actor.role, "state"):
        return False
    return all(value in (None, "") for name, value in filters.items() if name not in ("q", "state", "sort"))


def search_kept(actor: User, q: str | None = None, state: str | None = None, sort: str | None = None,
                **filters: Any) -> tuple[int, int] | None:
    """For a name search of a few letters (services/search.py: kept) alone or within a state, for a role that sees
    everyone: how many match and how many there are (in that state), off the kept counts of the search's piece,
    in at most one statement (none when the request has read them already). None otherwise."""
    if not q or not whole_list(actor, state=state, **filters):
        return None
    return search.kept_within(q, state or None)


def search_tabs(actor: User, q: str | None = None, sort: str | None = None,
                **filters: Any) -> dict[State, int] | None:
    """The list's tabs (how many match in each state) for a name search of a few letters, alone or within a state,
    for a role that sees everyone and the state: off the kept counts (search.kept). None otherwise."""
    if not q or not policy.sees(actor.role, "state") or not whole_list(actor, **filters):
        return None
    rows = search.kept(q)
    return {state: n for state, (n, _everyone) in rows.items()} if rows is not None else None


def search_total_within(actor: User, q: str | None = None, sort: str | None = None,
                        **filters: Any) -> tuple[int, int] | None:
    """For a name search within a broad filter (a state, a supervision status), for a role that sees everyone: the
    list's total and the highest id, in one statement (search.count_within), which the page's choice of walking or
    sorting takes instead of counting every match. None otherwise: a narrow filter or scope is counted as it is."""
    if not q or not search.needle(q) or policy.SCOPES.get(actor.role) != "all":
        return None
    if any(value not in (None, "") for name, value in filters.items() if name not in _BROAD):
        return None
    state = filters.get("state")
    if state and whole_list(actor, **filters):
        found = search.count_in_state(q, state)  # off the narrow copy of the names, where there is one
        if found is not None:
            return found
    return search.count_within(q, filtered_query(actor, sa.select(Participant), **filters))


def filtered_query(actor: User, query: sa.Select, state: str | None = None, group_id: int | None = None,
                   q: str | None = None, forum_id: int | None = None, **more: Any) -> sa.Select:
    """`query` (over Participant) narrowed to the actor's scope and the filters given."""
    policy.require(actor, "participant.list")
    query = policy.scope(actor, query)
    for name, value in more.items():
        if value is None or value == "":
            continue
        if name not in FILTERS:
            raise ValidationFailed(f"Unknown filter: {name}.", {name: "Unknown filter."})
        field, condition = FILTERS[name]
        if not policy.sees(actor.role, field):
            raise Forbidden("Your role may not filter by this.", {name: "Your role does not see this field."})
        query = query.where(condition(value))
    if forum_id is not None:
        if not policy.invitation_fields(actor.role):
            raise Forbidden("Your role may not filter by forum.", {"forum_id": "Your role sees no invitations."})
        query = query.where(
            # the forum's invitees as a list (an EXISTS was checked person by person down the name order on SQLite)
            Participant.id.in_(sa.select(Invitation.participant_id).where(Invitation.forum_id == forum_id))
        )
    if state:
        if not policy.sees(actor.role, "state"):
            raise Forbidden("Your role may not filter by state.", {"state": "Your role does not see the state."})
        # a state holds a sixth of everyone: beside a narrower filter its index is not one SQLite may walk, which it
        # otherwise took for its order and read every invited person down the names for a group's three (31 ms at
        # 150,000)
        column = Unindexed(Participant.state) if _narrow(actor, group_id, forum_id, more) else Participant.state
        query = query.where(column == state)
    if group_id is not None:
        if not policy.sees(actor.role, "group_id"):
            raise Forbidden("Your role may not filter by group.", {"group_id": "Your role does not see groups."})
        query = query.where(Participant.group_id == group_id)
    if q:
        query = query.where(name_clause(q))
    return query


def name_clause(q: str) -> sa.ColumnElement[bool]:
    """Participants whose full name or aliases contain `q` (any case): the name search of every list (participants,
    a forum's roster), served by an index (services/search.py)."""
    return search.name_matches(q)


# The enforcement actions against some participants (`ids`) or their groups (`groups`), oldest first, as a record
# or a timeline shows them: the columns alone.
_ENFORCEMENT = (
    sa.select(
        EnforcementAction.id, EnforcementAction.participant_id, EnforcementAction.group_id,
        EnforcementAction.agency_id, EnforcementAction.action_type, EnforcementAction.occurred_on,
        EnforcementAction.incident_ref, EnforcementAction.description,
    )
    .where(sa.or_(columns.among(EnforcementAction.participant_id),
                  columns.among(EnforcementAction.group_id, sa.bindparam("groups", type_=columns.IdList()))))
    .order_by(EnforcementAction.occurred_on, EnforcementAction.id)
)


def enforcement_actions(participant: Participant) -> list[sa.Row]:
    """Actions against the participant and against their whole group, oldest first."""
    return enforcement_actions_for([participant])[participant.id]


def enforcement_actions_for(participants: list[Participant]) -> dict[int, list[sa.Row]]:
    """enforcement_actions() for a page of participants, in one query: each action's columns (_ENFORCEMENT)."""
    ids = [p.id for p in participants]
    group_ids = {p.group_id for p in participants if p.group_id is not None}
    found: dict[int, list[sa.Row]] = {p.id: [] for p in participants}
    rows = columns.rows(_ENFORCEMENT, ids=ids, groups=list(group_ids))
    members: dict[int, list[int]] = {}
    for p in participants:
        if p.group_id is not None:
            members.setdefault(p.group_id, []).append(p.id)
    for action in rows:  # each action once per participant it concerns, in the order read
        concerned = set(members.get(action.group_id, ())) if action.group_id is not None else set()
        if action.participant_id in found:
            concerned.add(action.participant_id)
        for pid in concerned:
            found[pid].append(action)
    return found
