"""API.md's report of who is identified: participants whose date of identification falls in a window, by supervision
status, by age band at identification and by identifying agency, read off the counts kept with every change
(models.counts) or counted when they are not kept."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ceasefire import policy
from ceasefire.extensions import db
from ceasefire.models import Organization, Participant, User, counts
from ceasefire.models.counts import AGE_BANDS
from ceasefire.models.enums import SupervisionStatus
from ceasefire.services.report_window import Window, suppress, suppressed


def _band(name: str):
    return sa.literal_column(f"'{name}'", sa.String)


def age_band_sql():
    """age_band() in SQL: whole years completed at the date of identification, as a band's name."""
    born, on = Participant.date_of_birth, Participant.identified_on

    def part(name, column):
        return sa.cast(sa.extract(name, column), sa.Integer)

    years = part("year", on) - part("year", born) - sa.case(
        (part("month", on) * 100 + part("day", on) < part("month", born) * 100 + part("day", born), 1), else_=0
    )
    return sa.case(
        (born.is_(None), _band("unknown")), (years < 18, _band("under_18")), (years <= 24, _band("18_24")),
        (years <= 34, _band("25_34")), else_=_band("35_plus"),
    )


def identification(user: User, window: Window, agencies: bool = True) -> dict[str, Any]:
    """Who is identified in the window, by supervision status and age band at identification and, with `agencies`,
    by identifying agency: read off the counts kept with every change (models.counts: over the whole history a row
    each, over a window the window's days), or, when they are not kept, counted (one statement each)."""
    policy.require(user, "report.identification")
    if window != Window():
        days = counts.identified_between(db.session, window.start, window.end, agencies)
        if days is not None:
            return _identified(user, *days)
    when = window.days(Participant.identified_on)
    by_supervision = dict.fromkeys((s.value for s in SupervisionStatus), 0)
    by_age = dict.fromkeys(AGE_BANDS, 0)
    # A purge erases the date of birth and keeps the band it gave at identification (Participant.age_band).
    band = sa.case(
        (sa.and_(Participant.date_of_birth.is_(None), Participant.age_band.is_not(None)), Participant.age_band),
        else_=age_band_sql(),
    ).label("band")
    # Over everyone ever identified (as beside the participant list): the counts kept with every change, if kept.
    kept = counts.identified(db.session) if window == Window() else None
    grouped = ((s, b, n) for (s, b), n in kept.items()) if kept is not None else db.session.execute(
        sa.select(Participant.supervision_status, band, sa.func.count(Participant.id))
        .where(*when).group_by(Participant.supervision_status, band)
    )
    for status, name, n in grouped:
        by_supervision[SupervisionStatus(status).value] += n
        by_age[name] += n
    kept_agencies = counts.identified_by_agency(db.session) if agencies and window == Window() else None
    rows = kept_agencies if kept_agencies is not None else db.session.execute(
        sa.select(Organization.id, Organization.name, sa.func.count(Participant.id))
        .select_from(Participant)
        .outerjoin(Organization, Organization.id == Participant.identifying_org_id)
        .where(*when)
        .group_by(Organization.id, Organization.name)
    ).all() if agencies else []
    return _identification_report(user, by_supervision, by_age, rows)


def _identified(user: User, bands: list[Any], agencies: list[Any]) -> dict[str, Any]:
    """The report from the kept days' sums: (supervision status, age band, n) and (agency or NO_AGENCY, n)."""
    by_supervision = dict.fromkeys((s.value for s in SupervisionStatus), 0)
    by_age = dict.fromkeys(AGE_BANDS, 0)
    for status, name, n in bands:
        by_supervision[SupervisionStatus(status).value] += n
        by_age[name] += n
    names = dict(db.session.execute(sa.select(Organization.id, Organization.name).where(
        Organization.id.in_([a for a, _n in agencies if a != counts.NO_AGENCY]))).all()) if agencies else {}
    rows = [(None, None, n) if a == counts.NO_AGENCY else (a, names.get(a), n) for a, n in agencies if n]
    return _identification_report(user, by_supervision, by_age, rows)


def _identification_report(user: User, by_supervision: dict[str, int], by_age: dict[str, int],
                           rows: Sequence[Any]) -> dict[str, Any]:
    rows = sorted(rows, key=lambda r: (r[0] is None, r[1] or "", r[0] or 0))
    report: dict[str, Any] = {
        "total": sum(by_supervision.values()),
        "by_age": by_age,
        "by_supervision": by_supervision,
        "by_identifying_agency": [{"organization_id": i, "name": name, "count": n} for i, name, n in rows],
    }
    if suppressed(user):
        report["total"] = suppress(report["total"])
        report["by_age"] = {k: suppress(v) for k, v in by_age.items()}
        report["by_supervision"] = {k: suppress(v) for k, v in by_supervision.items()}
        for row in report["by_identifying_agency"]:
            row["count"] = suppress(row["count"])
    return report


def identified_counts(user: User) -> dict[str, Any] | None:
    """Who is identified, over everyone identified so far, to show beside a list of participants; None for a role
    without the report (providers)."""
    if not policy.can(user, "report.identification"):
        return None
    return identification(user, Window(), agencies=False)
