"""The reports of API.md (pipeline, cohorts, referral outcomes, who is identified), as SQL aggregates.

Every count is of distinct people (or referrals), never of summed rows. Each report runs a fixed number of
statements, however much data there is, and no row of a person is loaded here: medians (and the page's 90th
percentiles) are taken by the database too (services.percentiles), over one aggregate row per person (or per
referral) that never leaves it. Dates are the program's (TIMEZONE): a window's `from` and `to`
are whole days there, both inclusive, either left open when not given.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ceasefire import exports, policy
from ceasefire.errors import Forbidden, ValidationFailed
from ceasefire.extensions import db
from ceasefire.models import (
    ActivityDay,
    Forum,
    Invitation,
    Organization,
    Participant,
    Referral,
    Service,
    User,
    activity,
    cohort_tallies,
    counts,
    service_referrals,
)
from ceasefire.models.base import Likely, Unlikely, utcnow
from ceasefire.models.cohort_tallies import TALLIES
from ceasefire.models.enums import ForumStatus, ReferralStatus, State
from ceasefire.models.referrals import REACHED_BITS
from ceasefire.services import audit, percentiles, stage_report
from ceasefire.services.clock import local_date, zone
from ceasefire.services.identification_report import identification
from ceasefire.services.records import Page
from ceasefire.services.report_window import SUPPRESSED, Window, ratio, suppress, suppressed, without_jit
from ceasefire.services.stage_report import STEPS, stages_and_days, whole_history, windowed

REFERRAL_COUNTED = (
    ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.ENROLLED, ReferralStatus.COMPLETED,
    ReferralStatus.DROPPED, ReferralStatus.WITHDRAWN,
)


def _distinct(column, condition=None):
    if condition is None:
        return sa.func.count(sa.distinct(column))
    return sa.func.count(sa.distinct(sa.case((condition, column))))


# Pipeline


def pipeline(
    user: User, window: Window, group_id: int | None = None, forum_id: int | None = None, p90: bool = False,
) -> dict[str, Any]:
    """API.md's pipeline report; with `p90` (the page's, not the API's) also `p90_days`, the 90th percentile of the
    days of each step beside its median (see services.percentiles)."""
    policy.require(user, "report.pipeline")
    without_jit()
    if group_id is not None and not policy.sees(user.role, "group_id"):
        raise Forbidden("Your role may not filter by group.", {"group_id": "Your role does not see groups."})
    people = []
    if group_id is not None:
        people.append(Participant.group_id == group_id)
    if forum_id is not None:
        people.append(
            # the forum's invitees as a list (an EXISTS was checked person by person on SQLite)
            Participant.id.in_(sa.select(Invitation.participant_id).where(Invitation.forum_id == forum_id))
        )
    by_state = dict.fromkeys((s.value for s in State), 0)
    kept = counts.counted(db.session) if not people else None
    if kept is not None:
        # the counts kept with every change leave purged participants out; this report counts them in (a few,
        # found through their index)
        rows: Any = [*kept.items(), *db.session.execute(
            sa.select(Participant.state, sa.func.count(Participant.id))
            .where(Unlikely(Participant.purged_at.is_not(None))).group_by(Participant.state)
        )]
    else:
        rows = db.session.execute(
            sa.select(Participant.state, sa.func.count(Participant.id)).where(*people).group_by(Participant.state)
        )
    for state, n in rows:
        by_state[State(state).value] += n
    points = (percentiles.MEDIAN, percentiles.P90) if p90 else (percentiles.MEDIAN,)
    answer = None
    if not people:  # everyone: off what is kept, over the whole history or by day
        whole = window.start_at is None and window.end_at is None
        answer = whole_history(points) if whole else windowed(window, points)
    reached, days = answer if answer is not None else stages_and_days(people, window, points)
    report: dict[str, Any] = {
        "counts": {state: suppress(n) for state, n in by_state.items()} if suppressed(user) else by_state,
        **_funnel(user, reached),
        "median_days": {name: percentiles.rounded(days.get(i, {}).get(percentiles.MEDIAN))
                        for i, (name, _e, _l) in enumerate(STEPS)},
    }
    if p90:
        report["p90_days"] = {name: percentiles.rounded(days.get(i, {}).get(percentiles.P90))
                              for i, (name, _e, _l) in enumerate(STEPS)}
    return report


def _funnel(user: User, reached: dict[str, int]) -> dict[str, Any]:
    """The report's `funnel` and `conversion` from how many reached each stage (suppressed for community users)."""
    shown: dict[str, Any] = {
        "funnel": [{"stage": stage, "reached": n} for stage, n in reached.items()],
        "conversion": {
            "invited_to_attended": ratio(reached["attended"], reached["invited"]),
            "attended_to_services_offered": ratio(reached["services_offered"], reached["attended"]),
        },
    }
    if suppressed(user):
        hidden = {stage for stage, n in reached.items() if suppress(n) == SUPPRESSED}
        shown["funnel"] = [{"stage": stage, "reached": suppress(n)} for stage, n in reached.items()]
        for key, (top, bottom) in {
            "invited_to_attended": ("attended", "invited"),
            "attended_to_services_offered": ("services_offered", "attended"),
        }.items():
            if {top, bottom} & hidden:
                shown["conversion"][key] = None
    return shown


def pipeline_funnel(user: User) -> dict[str, Any]:
    """The pipeline report's `funnel` and `conversion` over the whole history (the supervisor's home), read off the
    kept counts of stages (one statement), or taken from the report when they are not kept."""
    policy.require(user, "report.pipeline")
    reached = stage_report.funnel()
    if reached is None:
        report = pipeline(user, Window())
        return {"funnel": report["funnel"], "conversion": report["conversion"]}
    return _funnel(user, reached)


# Cohorts


EPOCH = cohort_tallies.EPOCH
add_months = cohort_tallies.add_months


def day_number(column):
    """A date column as a whole number of days since 1970-01-01, in SQL (as `day.toordinal() - EPOCH` here)."""
    return cohort_tallies.day_number(column, db.session.get_bind().dialect.name)


def _listed_forums(window: Window) -> sa.Select:
    """The forums the cohort report lists (held, or not cancelled and with a check-in, scheduled in the window),
    oldest first, each with its kept counts (models.cohort_tallies; none when not kept). Whether a forum has a
    check-in is read off its kept count of people who attended (the invitations searched only for a forum whose
    counts are not kept)."""
    checked_in = sa.or_(TALLIES.c.attended > 0, sa.and_(TALLIES.c.forum_id.is_(None), (
        sa.select(Invitation.id).where(Invitation.forum_id == Forum.id, Invitation.attended.is_(True)).exists()
    )))
    return (
        sa.select(Forum.id, Forum.title, Forum.scheduled_at,
                  *(TALLIES.c[name] for name in ("held", *cohort_tallies.MEASURES)))
        .outerjoin(TALLIES, TALLIES.c.forum_id == Forum.id)
        .where(
            sa.or_(Forum.status == ForumStatus.HELD, sa.and_(Forum.status != ForumStatus.CANCELLED, checked_in)),
            *window.moments(Forum.scheduled_at),
        )
        .order_by(Forum.scheduled_at, Forum.id)
    )


def _cohort_items(user: User, forums: Sequence[Any]) -> list[dict[str, Any]]:
    """The report's rows of these forums (rows of _listed_forums): their kept counts, and counted here (one
    statement) for those whose counts are not kept, or were kept for another day (the time zone changed)."""
    here = zone()
    held_on = [local_date(f.scheduled_at, here) for f in forums]
    epoch = cohort_tallies.EPOCH
    stale = {f.id: day for f, day in zip(forums, held_on, strict=True) if f.held != day.toordinal() - epoch}
    counted = {fid: tuple(n.values()) for fid, n in cohort_tallies.count(db.session.connection(), stale).items()}
    kinds = cohort_tallies.KINDS
    after_six = 8 + len(kinds)
    hide = suppressed(user)
    items = []
    for f, day in zip(forums, held_on, strict=True):
        # the counts in MEASURES' order: 8 measures, then each outcome type's 6 months, then each type's 12
        forum_id = f[0]
        n = counted.get(forum_id) or f[4:]
        n_invited, n_attended = n[0], n[1]
        row: dict[str, Any] = {
            "forum_id": forum_id,
            "title": f[1],
            "held_on": day.isoformat(),
            "invited": n_invited,
            "attended": n_attended,
            "attendance_rate": n_attended / n_invited if n_invited else None,
            "cohort": n[2],
            "services_offered": n[3],
            "referrals_accepted": n[4],
            "referrals_completed": n[5],
            "enforced_6m": n[6],
            "enforced_12m": n[7],
            "outcomes_6m": dict(zip(kinds, n[8:after_six], strict=True)),
            "outcomes_12m": dict(zip(kinds, n[after_six:], strict=True)),
        }
        if hide:
            if suppress(n_invited) == SUPPRESSED or suppress(n_attended) == SUPPRESSED:
                row["attendance_rate"] = None
            for key, value in row.items():
                if key in ("forum_id", "title", "held_on", "attendance_rate"):
                    continue
                row[key] = {k: suppress(v) for k, v in value.items()} if isinstance(value, dict) else suppress(value)
        items.append(row)
    return items


def cohorts(user: User, window: Window) -> dict[str, Any]:
    """API.md's cohort report: every forum of the window, its counts read off the kept rows (models.cohort_tallies)
    in one statement."""
    policy.require(user, "report.cohorts")
    without_jit()
    return {"items": _cohort_items(user, db.session.connection().execute(_listed_forums(window)).all())}


def cohort_page(user: User, window: Window, page: int, per_page: int) -> Page[dict[str, Any]]:
    """One page of the cohort report's rows (the page's: a program's whole history holds thousands of forums), in
    the report's order, a page past the end showing the last one; only that page's forums are read."""
    policy.require(user, "report.cohorts")
    without_jit()
    listed = _listed_forums(window)
    total = _listed_total(listed, window)
    page = Page.shown(page, total, per_page)
    rows = db.session.execute(listed.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(tuple(_cohort_items(user, rows)), total, page, per_page)


def latest_cohorts(user: User, window: Window, n: int) -> dict[str, Any]:
    """The report's rows of the window's latest `n` forums (oldest first, as the report), and `total`, how many
    forums the window has: what the page's chart draws, reading those forums alone."""
    policy.require(user, "report.cohorts")
    without_jit()
    listed = _listed_forums(window)
    days = _latest_days(window, n)
    rows = db.session.execute(
        _listed_forums(days).order_by(None).order_by(Forum.scheduled_at.desc(), Forum.id.desc()).limit(n)
    ).all() if days is not None else []
    return {"items": _cohort_items(user, rows[::-1]), "total": _listed_total(listed, window)}


def _latest_days(window: Window, n: int) -> Window | None:
    """The window narrowed to the days of its latest `n` forums, when the activity report's days of forums held are
    kept: the latest n days with a forum held hold n forums or more, and after them the window has none. Walking the
    forums back from the newest would pass every forum still planned (4,341 at a million) before the first held. None:
    the window lists no forum."""
    if not activity.kept(db.session):
        return window
    days = list(db.session.scalars(
        sa.select(ActivityDay.day)
        .where(ActivityDay.measure == activity.FORUMS_HELD, ActivityDay.n > 0, *window.days(ActivityDay.day))
        .order_by(ActivityDay.day.desc()).limit(n)
    ))
    if not days:
        return None
    return Window(days[-1], days[0])


def _listed_total(listed: sa.Select, window: Window) -> int:
    """How many forums the window lists. A listed forum is a forum held as the activity report counts them, which
    keeps them by the program's day (models.activity, `forums_held`): when the days are kept in the program's zone the
    window's days are summed (a row a day, at any size), else the listed forums are counted (27,612 at a million)."""
    if activity.kept(db.session):
        return int(db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(ActivityDay.n), 0))
            .where(ActivityDay.measure == activity.FORUMS_HELD, *window.days(ActivityDay.day))
        ) or 0)
    return db.session.scalar(sa.select(sa.func.count()).select_from(
        listed.with_only_columns(Forum.id).order_by(None).subquery())) or 0


# Referral outcomes


def _referral_scope(user: User) -> list:
    """A provider's referral statistics are its own organization's alone."""
    if user.role in policy.REPORT_OWN_ORGANIZATION:
        return [Service.organization_id == user.organization_id]
    return []


def referrals(user: User, window: Window) -> dict[str, Any]:
    policy.require(user, "report.referrals")
    without_jit()
    return {"items": _referral_items(_referral_scope(user), window)}


def referrals_page(user: User, window: Window, page: int, per_page: int) -> Page[dict[str, Any]]:
    """One page of the referral outcomes (the page's view): the rows of referrals(), in its order, for the page's
    services alone. How many services have a referral sent in the window is read off what is kept of each service's
    referrals (models.service_referrals), and the page's services, when the window has an open end, are those of
    them in the page's order; when it is not kept, or for a provider's few services, every service is probed
    (ix_referrals_service_sent), as are the services in order for the page of a closed window. Then only the
    page's services' referrals are counted (off that index alone on PostgreSQL: what the report reads of each
    referral is kept on it). A page past the end shows the last one."""
    policy.require(user, "report.referrals")
    without_jit()
    scope = _referral_scope(user)
    kept = service_referrals.sent_in(window.start_at, window.end_at) if not scope and counts.table_rows(
        db.session, Referral) is not None else None
    # The page's services: off what is kept of them when a window has an open end, as it then compares a row a
    # service (probing each service's referrals took twice as long at 150,000); else each service probed in the
    # page's order until the page is full (a closed window would probe the services it cannot tell by their rows
    # all, on PostgreSQL 1 -> 5 ms at a million)
    listed = Service.id.in_(kept) if kept is not None and None in (window.start_at, window.end_at) else (
        sa.select(Referral.id).where(Referral.service_id == Service.id, *window.moments(Referral.sent_at)).exists())
    services = (
        sa.select(Service.id).join(Organization, Organization.id == Service.organization_id).where(*scope, listed)
    )
    counted = kept if kept is not None else services
    total = db.session.scalar(sa.select(sa.func.count()).select_from(counted.subquery())) or 0
    page = Page.shown(page, total, per_page)
    ids = list(db.session.scalars(
        services.order_by(Organization.name, Service.name, Organization.id, Service.id)
        .limit(per_page).offset((page - 1) * per_page)
    ))
    items = _referral_items(scope, window, ids) if ids else []
    return Page(tuple(items), total, page, per_page)


def _referral_items(scope: list, window: Window, only: list[int] | None = None) -> list[dict[str, Any]]:
    """One row a service with a referral sent in the window (in the scope), by provider and service name; with
    `only`, those services alone. What each referral's events reached, and its first answer, are read off the
    referral itself (models.referral_outcomes): no referral event is read."""
    sent_within = window.moments(Referral.sent_at)
    services = []
    if only is not None:
        services.append(Referral.service_id.in_(only))
    if scope:
        services.append(Referral.service_id.in_(sa.select(Service.id).where(*scope)))
    picked = [*sent_within, *services]
    now = utcnow()

    # count(*) FILTER (WHERE ...), not count(CASE WHEN ... THEN 1 END): SQLite counted every referral of the
    # program at 150,000 in 19 ms where it took 23 to 30 (PostgreSQL takes FILTER too)
    def reached(status: ReferralStatus) -> Any:
        return sa.func.count().filter(Referral.reached.op("&")(REACHED_BITS[status]) != 0)

    def waiting(days: int) -> Any:
        return sa.func.count().filter(
            Referral.status == ReferralStatus.SENT.value, Referral.sent_at < now - timedelta(days=days))

    span = percentiles.span_microseconds(Referral.answered_at, Referral.sent_at)
    middle = percentiles.middle_spans(span, Referral.answered_at.is_not(None))
    counted = (
        sa.select(Referral.service_id.label("service_id"), sa.func.count().label("sent"),
                  *[reached(s).label(s.value) for s in REFERRAL_COUNTED],
                  waiting(7).label("over_7"), waiting(14).label("over_14"),
                  *([sa.func.count(Referral.answered_at).label("answered")] if middle is None
                    else [c.label(f"middle_{i}") for i, c in enumerate(middle)]))
        .where(*picked)
        .group_by(Referral.service_id)
        .subquery("counted")
    )
    named = (
        sa.select(Organization.id, Organization.name, Service.id, Service.name,
                  *(c for c in counted.c if c.key != "service_id"))
        .select_from(counted)
        .join(Service, Service.id == counted.c.service_id)
        .join(Organization, Organization.id == Service.organization_id)
        .order_by(Organization.name, Service.name, Organization.id, Service.id)
    )
    if only is not None:  # the page's services named by their key, not found among every service by a hash
        named = named.where(Service.id.in_(only))
    rows: list[Any] = list(db.session.execute(named))
    if middle is None:
        medians = _medians_walked(
            {row[2]: row[-1] for row in rows}, [Likely(term) for term in sent_within])
        rows = [row[:-1] for row in rows]
    else:
        medians = {row[2]: percentiles.median_from_middle(*row[-3:]) for row in rows}
        rows = [row[:-3] for row in rows]
    items = []
    for org_id, org_name, service_id, service_name, sent, *rest in rows:
        statuses = dict(zip((s.value for s in REFERRAL_COUNTED), rest[: len(REFERRAL_COUNTED)], strict=True))
        over_7, over_14 = rest[len(REFERRAL_COUNTED):]
        answered = statuses["accepted"] + statuses["declined"]
        items.append({
            "organization_id": org_id,
            "organization_name": org_name,
            "service_id": service_id,
            "service_name": service_name,
            "sent": sent,
            **statuses,
            "acceptance_rate": statuses["accepted"] / answered if answered else None,
            "median_days_to_answer": percentiles.rounded(medians.get(service_id)),
            "waiting_over_7_days": over_7,
            "waiting_over_14_days": over_14,
        })
    return items


def _medians_walked(answered: dict[int, int], picked: list) -> dict[int, float | None]:
    """On SQLite: the median time to answer of each service, in days, from how many of its referrals sent in the
    window (`picked`) were answered (`answered`, counted with the rest; every service already in the scope). Each
    of the one or two answers a median needs is found by its place in the order of ix_referrals_answers (service,
    answer_us, sent_at: the window is read off the index too), LIMIT 1 OFFSET k, all in one statement. A page of
    services steps over half of their answers, where numbering every answer in a window function sorted them all.
    (`picked` likely(): SQLite would otherwise seek the window on ix_referrals_service_sent, which holds no
    answer_us, and read each referral's row.)"""
    median = (percentiles.MEDIAN,)
    values = percentiles.values_at_positions(answered, median, lambda key: (
        sa.select(Referral.answer_us).where(Referral.service_id == key, Referral.answer_us.is_not(None), *picked)
        .order_by(Referral.answer_us)))
    return {key: percentiles.at_positions(values[key], n, median)[percentiles.MEDIAN]
            for key, n in answered.items() if n}


REPORTS = {"pipeline": pipeline, "cohorts": cohorts, "referrals": referrals, "identification": identification}
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class ExportFile:
    body: Iterator[str] | Iterator[bytes]  # sent a chunk at a time (the response streams)
    filename: str
    content_type: str


def export_file(user: User, name: str, filters: dict[str, Any], fmt: str, report: dict[str, Any]) -> ExportFile:
    """A report as a CSV or XLSX file (API.md "Exports"), noted in the audit trail as an export."""
    if fmt not in FORMATS:
        raise ValidationFailed("Unknown format.", {"format": "Must be csv or xlsx."})
    shown = {key: value.isoformat() if isinstance(value, date) else value for key, value in filters.items()}
    lines = exports.report_table(shown, report)
    body = exports.report_xlsx(lines, name) if fmt == "xlsx" else exports.report_csv(lines)
    filename = "_".join([name, *(f"{key}-{value}" for key, value in shown.items())]) + "." + fmt
    audit.record(user, "export", "report", None, " ".join([f"{name}.{fmt}", *(f"{k}={v}" for k, v in shown.items())]))
    return ExportFile(body, filename, FORMATS[fmt])
