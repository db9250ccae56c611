"""The program reports beside API.md's four: street groups, activity by month and the funder's period report.

As in services.reports, each is a fixed number of SQL aggregate statements, whatever the amount of data: counts are
of distinct people (or records), months and the program's days are cut in Python into UTC instants and the
database groups rows by them, so no row of a person is ever loaded here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from ceasefire import policy
from ceasefire.errors import ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import (
    ActivityDay,
    ActivityMonth,
    CustomNotification,
    EnforcementAction,
    Forum,
    Group,
    Invitation,
    Outcome,
    OutreachContact,
    Participant,
    Referral,
    ReferralEvent,
    StatusChange,
    User,
    counts,
    funder_days,
)
from ceasefire.models import activity as activity_days
from ceasefire.models.enums import ForumStatus, OutcomeType, State
from ceasefire.services import funder_kept
from ceasefire.services.clock import local_date, program_today, zone
from ceasefire.services.records import Page
from ceasefire.services.report_window import SUPPRESSED, Window, suppress, without_jit
from ceasefire.services.reports import EPOCH, day_number

MOST_MONTHS = 600  # fifty years of months: a longer window is refused, not drawn
OUTCOME_NAMES = tuple(t.value for t in OutcomeType)


def _hidden(user: User) -> bool:
    return user.role in policy.REPORT_SUPPRESSED


def _distinct(column, condition=None):
    if condition is None:
        return sa.func.count(sa.distinct(column))
    return sa.func.count(sa.distinct(sa.case((condition, column))))


def _midnight(day: date) -> datetime:
    """The start of a program day as a UTC instant (the first or last instant there is, at the calendar's ends)."""
    try:
        return datetime.combine(day, time.min, tzinfo=zone()).astimezone(UTC)
    except OverflowError:
        return (datetime.min if day.year == date.min.year else datetime.max).replace(tzinfo=UTC)


def _held():
    """A forum that took place: set held, or not cancelled and somebody was checked in (as the cohort report)."""
    checked_in = sa.select(Invitation.id).where(Invitation.forum_id == Forum.id, Invitation.attended.is_(True)).exists()
    return sa.or_(Forum.status == ForumStatus.HELD, sa.and_(Forum.status != ForumStatus.CANCELLED, checked_in))


def _suppress_all(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _suppress_all(v) for k, v in value.items()}
    if isinstance(value, int) and not isinstance(value, bool):
        return suppress(value)
    return value


# Street groups


def _outcome_counts() -> dict[str, int]:
    return dict.fromkeys((t.value for t in OutcomeType), 0)


def groups(user: User, window: Window) -> dict[str, Any]:
    """Per street group: members identified, called in, attended, enforcement actions on the group or a member, and
    members with each outcome before the group's first call-in (the earliest forum a member was checked in at) and
    after it (from the day after, as the cohort windows). Street groups are police intelligence: no community user
    gets this report. `window` narrows identification, forums and enforcement."""
    policy.require(user, "report.groups")
    rows = db.session.execute(
        sa.select(Group.id, Group.name, sa.func.count(Participant.id))
        .outerjoin(Participant, sa.and_(Participant.group_id == Group.id, *window.days(Participant.identified_on)))
        .group_by(Group.id, Group.name)
        .order_by(Group.name, Group.id)
    ).all()
    if not rows:
        return {"items": []}
    return {"items": _group_items(window, [(gid, name, n) for gid, name, n in rows])}


def groups_page(user: User, window: Window, page: int, per_page: int) -> Page[dict[str, Any]]:
    """One page of the groups report (the page's view): the rows of groups(), in its order, for the page's groups
    alone, each measure counted for those groups only (off the indexes by group and by member), so a page costs
    the same whatever the number of groups. A page past the end shows the last one."""
    policy.require(user, "report.groups")
    total = counts.table_rows(db.session, Group)
    if total is None:
        total = db.session.scalar(sa.select(sa.func.count(Group.id))) or 0
    page = Page.shown(page, total, per_page)
    shown = db.session.execute(
        sa.select(Group.id, Group.name).order_by(Group.name, Group.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    if not shown:
        return Page((), total, page, per_page)
    ids = [gid for gid, _name in shown]
    identified = dict(db.session.execute(
        sa.select(Participant.group_id, sa.func.count(Participant.id))
        .where(Participant.group_id.in_(ids), *window.days(Participant.identified_on))
        .group_by(Participant.group_id)
    ).all())
    rows = [(gid, name, identified.get(gid, 0)) for gid, name in shown]
    return Page(tuple(_group_items(window, rows, ids)), total, page, per_page)


def _group_items(window: Window, rows: list[tuple[int, str, int]], only: list[int] | None = None) -> list[dict]:
    """The report's rows for `rows` (group id, name, members identified), in their order; with `only`, every
    measure is counted for those groups alone."""
    forum_ok = [Forum.status != ForumStatus.CANCELLED, *window.moments(Forum.scheduled_at)]
    of_groups = [Participant.group_id.in_(only)] if only is not None else [Participant.group_id.is_not(None)]
    called = {
        gid: (invited, attended, first)
        for gid, invited, attended, first in db.session.execute(
            sa.select(
                Participant.group_id, _distinct(Invitation.participant_id),
                _distinct(Invitation.participant_id, Invitation.attended.is_(True)),
                sa.func.min(sa.case((Invitation.attended.is_(True), Forum.scheduled_at))),
            )
            .join(Participant, Participant.id == Invitation.participant_id)
            .join(Forum, Forum.id == Invitation.forum_id)
            .where(*of_groups, *forum_ok)
            .group_by(Participant.group_id)
        )
    }
    enforced = _enforced(window, only)
    first_day = {gid: local_date(first) for gid, (_i, _a, first) in called.items() if first is not None}
    before: dict[int, dict[str, int]] = {gid: _outcome_counts() for gid in first_day}
    after: dict[int, dict[str, int]] = {gid: _outcome_counts() for gid in first_day}
    if first_day:
        # Each group's first call-in as a table of whole numbers written into the statement (not a CASE of
        # parameters, which tens of thousands of groups take past PostgreSQL's limit of 65,535).
        firsts = sa.values(
            sa.column("group_id", sa.Integer), sa.column("first_day", sa.Integer), name="group_firsts",
            literal_binds=True,
        ).data([(gid, d.toordinal() - EPOCH) for gid, d in first_day.items()]).cte("group_firsts")
        occurred = day_number(Outcome.occurred_on)
        for gid, kind, n_before, n_after in db.session.execute(
            sa.select(
                Participant.group_id, Outcome.type,
                _distinct(Outcome.participant_id, occurred < firsts.c.first_day),
                _distinct(Outcome.participant_id, occurred > firsts.c.first_day),
            )
            .join(Participant, Participant.id == Outcome.participant_id)
            .join(firsts, firsts.c.group_id == Participant.group_id)
            .where(*([Participant.group_id.in_(list(first_day))] if only is not None else []))
            .group_by(Participant.group_id, Outcome.type)
        ):
            before[gid][OutcomeType(kind).value] = n_before
            after[gid][OutcomeType(kind).value] = n_after
    items = []
    for gid, name, identified in rows:
        invited, attended, _first = called.get(gid, (0, 0, None))
        item: dict[str, Any] = {
            "group_id": gid,
            "name": name,
            "identified": identified,
            "called_in": invited,
            "attended": attended,
            "enforcement_actions": enforced.get(gid, 0),
            "first_call_in": first_day[gid].isoformat() if gid in first_day else None,
            # no call-in yet: no before or after (empty cells, not zeros)
            "outcomes_before": before.get(gid, dict.fromkeys(OUTCOME_NAMES)),
            "outcomes_after": after.get(gid, dict.fromkeys(OUTCOME_NAMES)),
        }
        items.append(item)
    return items


def _enforced(window: Window, only: list[int] | None) -> dict[int, int]:
    """Enforcement actions a group, on the group or on a member (an action names a group, or else counts for its
    participant's group); with `only`, of those groups alone: the actions naming one of them and those of their
    members naming none, each found off its index."""
    member = aliased(Participant)
    when = window.days(EnforcementAction.occurred_on)
    if only is None:
        group_of_action = sa.func.coalesce(EnforcementAction.group_id, member.group_id)
        return dict(db.session.execute(
            sa.select(group_of_action, _distinct(EnforcementAction.id))
            .select_from(EnforcementAction)
            .outerjoin(member, member.id == EnforcementAction.participant_id)
            .where(group_of_action.is_not(None), *when)
            .group_by(group_of_action)
        ).all())
    # The actions naming one of the groups, and each member's naming none: two disjoint sets of actions, so their
    # counts add up. A member's are counted a member at a time off the index by participant (joined, they were
    # planned as a scan of every action at a million participants).
    of_member = (
        sa.select(sa.func.count(EnforcementAction.id))
        .where(EnforcementAction.participant_id == member.id, EnforcementAction.group_id.is_(None), *when)
        .scalar_subquery()
    )
    actions = sa.union_all(
        sa.select(EnforcementAction.group_id.label("gid"), sa.func.count(EnforcementAction.id).label("n"))
        .where(EnforcementAction.group_id.in_(only), *when).group_by(EnforcementAction.group_id),
        sa.select(member.group_id, sa.func.sum(of_member)).where(member.group_id.in_(only)).group_by(member.group_id),
    ).subquery("actions")
    return {gid: int(n) for gid, n in db.session.execute(
        sa.select(actions.c.gid, sa.func.sum(actions.c.n)).group_by(actions.c.gid)
    ) if n}


# Activity by month


def _activity_measures() -> list[tuple[str, Any, list]]:
    """(name, the timestamp a record is counted by, conditions): what the program did, month by month."""
    measures: list[tuple[str, Any, list]] = [
        ("forums_held", Forum.scheduled_at, [_held()]),
        ("invitations", Invitation.delivered_at, []),
    ]
    measures += _fieldwork_measures()
    measures.append(("referrals", Referral.sent_at, []))
    return measures


def _fieldwork_measures() -> list[tuple[str, Any, list]]:
    """Custom notifications delivered and outreach contacts made."""
    return [
        ("custom_notifications", CustomNotification.delivered_at, []),
        ("outreach_contacts", OutreachContact.contacted_at, []),
    ]


def _month_count(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _months(first: date, last: date) -> list[tuple[str, date]]:
    months = []
    day = first.replace(day=1)
    while day <= last:
        months.append((f"{day:%Y-%m}", day))
        if day.year == date.max.year and day.month == 12:
            break
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return months


def activity(user: User, window: Window) -> dict[str, Any]:
    """Each month of the window (from the first activity recorded when `from` is left open, to today when `to`
    is): forums held, invitations delivered, custom notifications, outreach contacts and referrals sent."""
    policy.require(user, "report.activity")
    measures = _activity_measures()
    days_kept = activity_days.kept(db.session)
    if days_kept:
        # each measure's first and last day with a count, each read off one end of its days (a min and a max over
        # all the measures together read every day of the history)
        kept = ActivityDay
        days = [d for d in db.session.execute(sa.select(*[
            sa.select(kept.day).where(kept.measure == name, kept.n > 0)
            .order_by(kept.day.desc() if latest else kept.day).limit(1).scalar_subquery()
            for name, _c, _w in measures for latest in (False, True)
        ])).one() if d is not None]
    else:
        bounds = db.session.execute(sa.select(*[
            sa.select(agg(column)).where(*conditions).scalar_subquery()
            for _name, column, conditions in measures for agg in (sa.func.min, sa.func.max)
        ])).one()
        days = [local_date(m) for m in bounds if m is not None]
    today = program_today()
    earliest = min(days) if days else today
    latest = max(today, max(days)) if days else today
    first, last = window.start or earliest, window.end or latest
    if _month_count(first, last) > MOST_MONTHS:  # a window far wider than the history: the history's months
        first, last = max(first, earliest), min(last, latest)
    if _month_count(first, last) > MOST_MONTHS:
        raise ValidationFailed("Choose a shorter period.", {"from": f"At most {MOST_MONTHS // 12} years of months."})
    months = _months(first, last) if first <= last else []
    if not months:
        return {"items": []}
    counts = {label: dict.fromkeys((name for name, _c, _w in measures), 0) for label, _s in months}
    if days_kept:
        _kept_months(first, last, counts)
        return _activity_items(user, counts)
    cuts = [_midnight(max(start, first)) for _label, start in months] + [_midnight_after(last)]
    for name, column, conditions in measures:
        month = sa.case(
            *[(column < cuts[i + 1], sa.literal_column(f"'{label}'")) for i, (label, _s) in enumerate(months)]
        ).label("month")
        for label, n in db.session.execute(
            sa.select(month, sa.func.count()).where(*conditions, column >= cuts[0], column < cuts[-1]).group_by(month)
        ):
            counts[label][name] = n
    return _activity_items(user, counts)


def _kept_months(first: date, last: date, counts: dict[str, dict[str, int]]) -> None:
    """The months' counts, in one statement: the months the window holds whole off the months kept
    (models.activity.ActivityMonth), the days of a month it cuts off the days kept."""
    whole_from = first if first.day == 1 else _month_after(first)
    after = date.fromordinal(last.toordinal() + 1) if last < date.max else None
    whole_until = after if after is not None and after.day == 1 else last.replace(day=1)  # the first month not whole
    names = list(ACTIVITY_MEASURES)
    month, day = ActivityMonth, ActivityDay
    parts = []
    if whole_from < whole_until:
        parts.append(sa.select(month.measure, month.month, month.n)
                     .where(month.measure.in_(names), month.month >= whole_from, month.month < whole_until))
        cut = [(first, whole_from), (whole_until, None)]
    else:
        cut = [(first, None)]
    for start, before in cut:
        within = [day.day >= start, day.day <= last, *([day.day < before] if before is not None else [])]
        parts.append(sa.select(day.measure, day.day, day.n).where(day.measure.in_(names), *within))
    for name, on, n in db.session.execute(sa.union_all(*parts)):
        counts[f"{on:%Y-%m}"][name] += int(n)


def _month_after(day: date) -> date:
    """The first day of the next month (the calendar's last day in its last month)."""
    if (day.year, day.month) == (date.max.year, 12):
        return date.max
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def _activity_items(user: User, counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    items = [{"month": label, **values} for label, values in counts.items()]
    if _hidden(user):
        items = [_suppress_all(item) for item in items]
    return {"items": items}


def _midnight_after(day: date) -> datetime:
    return _midnight(date.fromordinal(day.toordinal() + 1)) if day < date.max else datetime.max.replace(tzinfo=UTC)


# The funder's report for a period


def _engagements(window: Window) -> list:
    """Selects of participant ids engaged in the period, one per way of engaging (CVIPI's first measure)."""
    return [
        ("attended_forum", sa.select(Invitation.participant_id.label("pid"))
         .join(Forum, Forum.id == Invitation.forum_id)
         .where(Invitation.attended.is_(True), Forum.status != ForumStatus.CANCELLED,
                *window.moments(Forum.scheduled_at))),
        ("referral_taken_up", sa.select(Referral.participant_id.label("pid"))
         .join(ReferralEvent, ReferralEvent.referral_id == Referral.id)
         .where(ReferralEvent.to_status.in_(funder_days.ENGAGING), *window.moments(ReferralEvent.at))),
        *_fieldwork_engagements(window),
    ]


def _fieldwork_engagements(window: Window) -> list:
    """People with an outreach contact in the period."""
    return [("outreach_contact", sa.select(OutreachContact.participant_id.label("pid"))
             .where(*window.moments(OutreachContact.contacted_at)))]


def _implementation(window: Window) -> list:
    measures = [("forums_held", sa.select(sa.func.count(Forum.id)).where(_held(), *window.moments(Forum.scheduled_at)))]
    return measures + _fieldwork_implementation(window)


def _fieldwork_implementation(window: Window) -> list:
    """Custom notifications delivered in the period (CVIPI's second measure, with the forums held)."""
    return [("custom_notifications", sa.select(sa.func.count(CustomNotification.id))
             .where(*window.moments(CustomNotification.delivered_at)))]


def _days_between(later_moment, earlier_day):
    """Whole days from a date to the program date of a timestamp, in SQL. PostgreSQL reads the moment in the
    program's zone; SQLite keeps no zone database, so it takes the zone's offset of today."""
    if db.engine.dialect.name == "postgresql":
        zone_name = current_app.config.get("TIMEZONE") or "UTC"
        # the column holds naive UTC: read it as UTC, then as the program's wall clock
        local = sa.cast(sa.func.timezone(zone_name, sa.func.timezone("UTC", later_moment)), sa.Date)
        return local - earlier_day
    offset = datetime.now(zone()).utcoffset()
    seconds = int(offset.total_seconds()) if offset else 0
    return sa.func.julianday(sa.func.date(later_moment, f"{seconds:+d} seconds")) - sa.func.julianday(earlier_day)


def funder(user: User, window: Window) -> dict[str, Any]:
    """The period's figures a funder asks for: the federal CVIPI measures (at-risk people engaged; forums held and
    custom notifications delivered) and the caseload (carried over plus new; days from identification to closure)."""
    policy.require(user, "report.funder")
    without_jit()
    if funder_days.kept(db.session):
        report = funder_kept.report(db.session, window, _implementation(window))
    else:
        report = _funder_counted(window)
    if _hidden(user):
        report = _suppress_all(report)
        if report["cases_closed"] == SUPPRESSED:
            report["average_days_to_closure"] = None
    return report


def _funder_counted(window: Window) -> dict[str, Any]:
    """The funder's report counted off the records (when the rows kept for it are not, in the program's zone)."""
    ways = _engagements(window)
    # The people engaged, each once with a flag for each way they engaged (one pass over each way's rows, grouped
    # once), then counted: the same numbers as a count of distinct people of each way and of them all.
    union = sa.union_all(*[
        select.add_columns(sa.literal(i, sa.Integer).label("way")) for i, (_name, select) in enumerate(ways)
    ]).subquery("engagements")
    person = sa.select(union.c.pid, *[
        sa.func.max(sa.case((union.c.way == i, 1), else_=0)).label(f"way_{i}") for i in range(len(ways))
    ]).group_by(union.c.pid).subquery("engaged_people")
    people_engaged = sa.select(sa.func.count().label("engaged"), *[
        sa.func.coalesce(sa.func.sum(person.c[f"way_{i}"]), 0).label(f"way_{i}") for i in range(len(ways))
    ]).select_from(person).subquery("engaged")
    implementation = _implementation(window)
    # A person carried over was identified before the period and was not closed when it began: their last
    # pipeline step before it (the latest, the highest id among those at the same moment) did not close them.
    # Counted as those identified before it less those whose last step before it closed them: a close with no
    # later step before the period, looked up a closed case at a time (few cases are closed), never a ranking of
    # every status change.
    open_at_start: Any = sa.literal(0)
    if window.start_at is not None:
        later = aliased(StatusChange)
        closed_last = (
            sa.select(sa.func.count(StatusChange.id))
            .join(Participant, Participant.id == StatusChange.participant_id)
            .where(
                StatusChange.to_state == State.CLOSED.value, StatusChange.at < window.start_at,
                Participant.identified_on < window.start,
                ~sa.select(later.id).where(
                    later.participant_id == StatusChange.participant_id, later.at < window.start_at,
                    sa.or_(later.at > StatusChange.at,
                           sa.and_(later.at == StatusChange.at, later.id > StatusChange.id)),
                ).exists(),
            )
            .scalar_subquery()
        )
        open_at_start = (
            sa.select(sa.func.count(Participant.id)).where(Participant.identified_on < window.start).scalar_subquery()
            - closed_last
        )
    new = sa.select(sa.func.count(Participant.id)).where(*window.days(Participant.identified_on)).scalar_subquery()
    closing = (
        sa.select(
            sa.func.count(StatusChange.id), sa.func.avg(_days_between(StatusChange.at, Participant.identified_on))
        )
        .join(Participant, Participant.id == StatusChange.participant_id)
        .where(StatusChange.to_state == State.CLOSED.value, *window.moments(StatusChange.at))
    ).subquery()
    row = db.session.execute(sa.select(
        *people_engaged.c,
        *[select.scalar_subquery() for _name, select in implementation],
        open_at_start, new, closing.c[0], closing.c[1],
    ).select_from(people_engaged.join(closing, sa.true()))).one()  # two rows of one row each
    values = list(row)
    engaged = values.pop(0)
    by_way = {name: values.pop(0) for name, _s in ways}
    done = {name: values.pop(0) for name, _s in implementation}
    carried, new_n, closed, average = values
    report: dict[str, Any] = {
        "engaged": engaged,
        "engaged_by": by_way,
        "implementation": done,
        "caseload": {"carried_over": carried, "new": new_n, "total": carried + new_n},
        "cases_closed": closed,
        "average_days_to_closure": round(float(average), 1) if closed and average is not None else None,
    }
    return report


ACTIVITY_MEASURES = ("forums_held", "invitations", "custom_notifications", "outreach_contacts", "referrals")
PROGRAM_REPORTS = {"groups": groups, "activity": activity, "funder": funder}

