"""A forum's roster: inviting several people at once, the roster read a page at a time (with a search), its counts,
the people who may still be invited, and closing a forum out after it was held.

The verbs call the pipeline's own (services.events) once per person, inside the caller's one transaction: a refusal
names the person and, since the caller rolls back, writes nothing. The read functions answer in a fixed number of
queries whatever the size of the forum, with the fields policy.INVITATION_FIELDS grants.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ceasefire import pipeline, policy
from ceasefire.errors import InvalidTransition, NotFound, ServiceError, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import Forum, Invitation, Participant, User
from ceasefire.models.enums import ForumStatus, State
from ceasefire.services import catalog, events, read, search
from ceasefire.services.records import InvitationRecord, Page, ParticipantRecord

NAME_FIELDS = ("first_name", "last_name", "aliases")


@dataclass(frozen=True)
class Choice:
    """One person to invite: who, the version of their record the inviter saw, and how the invitation goes."""

    participant_id: Any
    version: Any
    method: Any


@dataclass(frozen=True)
class Counts:
    expected: int
    checked_in: int
    no_show: int


def may(user: User, event: str) -> bool:
    """Whether the user's role may ever fire the pipeline event (the pipeline's table says)."""
    return user.role in pipeline.EVENTS_BY_NAME[event].roles


def _whole(value: Any, field: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("Not a number.", {field: "Must be a whole number."}) from None
    if not 0 < number < 2**31:
        raise NotFound("No such participant.")
    return number


def _named(participant: Participant, exc: ServiceError) -> ServiceError:
    """The same refusal, naming the person it was about."""
    named = type(exc)(f"{participant.full_name}: {exc.message}", exc.fields)
    return named


def invite_many(actor: User, forum: Forum, choices: list[Choice]) -> list[Invitation]:
    """Invite each chosen person to the forum, each by their own means of delivery, all or none: the first refusal
    is raised naming the person (the caller rolls back, so nothing is written)."""
    pipeline.authorize("invite", actor)
    if not choices:
        raise ValidationFailed("Choose at least one person to invite.", {"participant_id": "Choose someone."})
    seen: set[int] = set()
    invitations = []
    for choice in choices:
        participant_id = _whole(choice.participant_id, "participant_id")
        if participant_id in seen:
            continue
        seen.add(participant_id)
        participant = policy.get_participant(actor, participant_id)
        try:
            version = _whole(choice.version, "version")
            invitations.append(events.invite(actor, participant, version, forum.id, choice.method or None))
        except ServiceError as exc:
            raise _named(participant, exc) from exc
    return invitations


def check_in_at(actor: User, forum: Forum, participant_id: Any, version: Any) -> Invitation:
    """Check a person in at this forum's door: their open invitation must be to this forum (the pipeline's guard
    then says whether the forum's day has come)."""
    pipeline.authorize("attend", actor)
    participant = policy.get_participant(actor, _whole(participant_id, "participant_id"))
    try:
        invitation = events.open_invitation(participant)
        if participant.state == State.INVITED and (invitation is None or invitation.forum_id != forum.id):
            raise ValidationFailed("Not on this forum's roster.",
                                   {"participant_id": "Their open invitation is to another forum."})
        return events.check_in(actor, participant, _whole(version, "version"))
    except ServiceError as exc:
        raise _named(participant, exc) from exc


def _open_invitees(forum: Forum) -> list[Any]:
    """Invitations of the forum neither checked in nor settled, with their participants (everyone: the roles that
    close a forum out see every participant)."""
    return list(db.session.execute(
        sa.select(Invitation, Participant).join(Participant, Invitation.participant_id == Participant.id)
        .where(Invitation.forum_id == forum.id, Invitation.attended.is_(None))
        .order_by(Participant.last_name, Participant.first_name, Participant.id)
    ).all())


def close_out(actor: User, forum: Forum, confirmed: list[Any]) -> list[Participant]:
    """After the forum: every invitee not checked in is marked a no-show, then the forum is held. `confirmed` are
    the ids of the people the actor was shown and confirmed; should anyone have been checked in or invited since,
    nothing is done (409) and the page shows the list as it is now."""
    policy.require(actor, "forum.close_out")
    if not pipeline.forum_day_has_come(forum.scheduled_at):
        raise ValidationFailed("A forum that has not happened cannot be closed out.",
                               {"forum": "Close the forum out on its day or after it."})
    if forum.status != ForumStatus.PLANNED:
        raise InvalidTransition(f"This forum is {forum.status.value}; only a planned forum is closed out.")
    rows = _open_invitees(forum)
    wanted = {_whole(value, "participant_id") for value in confirmed}
    if wanted != {p.id for _, p in rows}:
        raise InvalidTransition("The roster changed since you looked: check the list again and confirm.",
                                {"participant_id": "The roster changed."})
    missed = []
    for invitation, participant in rows:
        latest = events.open_invitation(participant) if participant.state == State.INVITED else None
        if latest is not None and latest.id == invitation.id:
            try:
                events.mark_no_show(actor, participant, participant.version)
            except ServiceError as exc:
                raise _named(participant, exc) from exc
        else:  # an older invitation the pipeline no longer waits on: it alone is settled
            invitation.attended = False
        missed.append(participant)
    catalog.update_forum(actor, forum, {"status": ForumStatus.HELD.value})
    return missed


# Read side


def day_has_come(forum: Forum) -> bool:
    """Whether check-in is open: the forum's day (program time zone) has come (the pipeline's rule)."""
    return pipeline.forum_day_has_come(forum.scheduled_at)


def _name_clause(q: str | None) -> sa.ColumnElement[bool] | None:
    """The roster's search: the same match as every list's, tested on the forum's own invitees (found by the
    invitations' index on the forum) rather than by finding everyone in the program who matches."""
    return search.row_matches(q) if q and q.strip() else None


def counts(user: User, forum: Forum) -> Counts:
    """How many of the invitees the user may see were invited, checked in, marked no-show: one query."""
    policy.require(user, "forum.roster")
    checked = sa.func.coalesce(sa.func.sum(sa.case((Invitation.attended.is_(True), 1), else_=0)), 0)
    missed = sa.func.coalesce(sa.func.sum(sa.case((Invitation.attended.is_(False), 1), else_=0)), 0)
    row = db.session.execute(policy.scope(user, (
        sa.select(sa.func.count(Invitation.id), checked, missed)
        .select_from(Invitation).join(Participant, Invitation.participant_id == Participant.id)
        .where(Invitation.forum_id == forum.id)
    ))).one()
    return Counts(int(row[0]), int(row[1]), int(row[2]))


def roster_page(user: User, forum: Forum, page: int, per_page: int, q: str | None = None) -> Page[InvitationRecord]:
    """One page of the forum's invitations the user may see, by name, searched by name or alias; each with whom it
    is for and whether the user may check them in now. Four queries, whatever the page size."""
    policy.require(user, "forum.roster")
    query = policy.scope(user, (
        sa.select(Invitation).join(Participant, Invitation.participant_id == Participant.id)
        .where(Invitation.forum_id == forum.id)
    ))
    clause = _name_clause(q)
    if clause is not None:
        query = query.where(clause)
    query = query.order_by(sa.func.lower(Participant.last_name), sa.func.lower(Participant.first_name),
                           Participant.id, Invitation.id)
    open_for_check_in = day_has_come(forum)

    def build(rows: list[Invitation]) -> list[InvitationRecord]:
        people_rows = list(db.session.scalars(
            sa.select(Participant).where(Participant.id.in_({inv.participant_id for inv in rows}))
        )) if rows else []
        by_id = {p.id: p for p in people_rows}
        people = {r.id: r for r in read.participant_records(user, people_rows, NAME_FIELDS)}
        open_now = read.latest_open_invitations(user, people_rows) if open_for_check_in else {}
        return [
            read.invitation_record(
                user, inv, participant=people[inv.participant_id],
                may_check_in=(inv.attended is None and open_now.get(inv.participant_id) == inv.id
                              and pipeline.may(by_id[inv.participant_id], "attend", user)),
            )
            for inv in rows
        ]

    return read.paginate(query, page, per_page, build, clamp=True)


def candidates(user: User, page: int, per_page: int, q: str | None = None) -> Page[ParticipantRecord]:
    """People the user may invite now (identified, in scope), by name, searched by name or alias."""
    pipeline.authorize("invite", user)
    return read.participant_page(user, page, per_page, clamp=True, only=(*NAME_FIELDS, "date_of_birth"),
                                 state=State.IDENTIFIED.value, q=q)


def open_invitees(user: User, forum: Forum) -> list[ParticipantRecord]:
    """Whom a close-out would mark no-show: every invitee neither checked in nor settled."""
    policy.require(user, "forum.close_out")
    rows = _open_invitees(forum)
    return read.participant_records(user, [p for _, p in rows], NAME_FIELDS)
