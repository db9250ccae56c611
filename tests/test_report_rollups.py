"""What the reports keep beside the data (models/counts.py): the people identified by identifying agency, right after
every write and recounted after a bulk load; the identification report over the whole history reads them and
answers as the counted report does."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from helpers import Program

from ceasefire.extensions import db
from ceasefire.models import AgencyCount, Participant, counts
from ceasefire.models.enums import Role


def _kept_agencies() -> dict | None:
    with db.engine.connect() as conn:
        kept = counts.identified_by_agency(conn)
    return {org: n for org, _name, n in kept} if kept is not None else None


def _agency_rows() -> dict:
    with db.engine.connect() as conn:
        return dict(conn.execute(
            sa.select(Participant.identifying_org_id, sa.func.count(Participant.id))
            .group_by(Participant.identifying_org_id)
        ).all())


def test_agency_counts_follow_create_and_purge_and_the_report_reads_them(users, api_as, make_org, make_user):
    program = Program.build(users["supervisor"])
    police, other_police = users["police"], make_user(Role.POLICE, make_org("police", name="County sheriff"))
    basis = {"identification_basis": "Named in a shooting review."}
    people = [
        program.create(police, **basis), program.create(police, **basis), program.create(other_police, **basis),
        program.create(), program.create(date_of_birth=date(2000, 1, 1)),
    ]
    assert _kept_agencies() == _agency_rows() == {police.organization_id: 2, other_police.organization_id: 1, None: 2}
    api = api_as(users["supervisor"])
    _status, whole = api.get("/reports/identification")
    _status, counted = api.get("/reports/identification?from=1900-01-01")  # counted off the participants
    assert whole == counted
    assert whole["by_identifying_agency"] == [
        {"organization_id": other_police.organization_id, "name": "County sheriff", "count": 1},
        {"organization_id": police.organization_id, "name": police.organization.name, "count": 2},
        {"organization_id": None, "name": None, "count": 2},
    ]
    # a purged person stays identified, by the agency that identified them
    status, body = api.post(f"/participants/{people[2].id}/review", json={"decision": "purge", "reason": "Moved."})
    assert status == 200, body
    assert _kept_agencies() == _agency_rows()
    assert api.get("/reports/identification")[1] == api.get("/reports/identification?from=1900-01-01")[1]
    # community users: small counts suppressed, the same either way
    community = api_as(users["community"])
    small = community.get("/reports/identification")[1]
    assert small == community.get("/reports/identification?from=1900-01-01")[1]
    assert {row["count"] for row in small["by_identifying_agency"]} == {"<5"}


def test_a_bulk_load_is_counted_by_refresh(users, api_as):
    Program.build(users["supervisor"]).create(users["police"], identification_basis="Named in a review.")
    db.session.execute(sa.insert(Participant), [
        {"first_name": f"Bulk{n}", "last_name": "Copy", "state": "identified", "version": 1,
         "identifying_org_id": users["police"].organization_id if n % 2 else None}
        for n in range(5)
    ])
    db.session.commit()
    assert _kept_agencies() != _agency_rows()  # a load around the ORM is not seen ...
    counts.refresh(db.session)
    db.session.commit()
    assert _kept_agencies() == _agency_rows() == {users["police"].organization_id: 3, None: 3}


def test_without_the_kept_agency_counts_the_report_counts(users, api_as):
    Program.build(users["supervisor"]).create(users["police"], identification_basis="Named in a review.")
    db.session.execute(sa.delete(AgencyCount))
    db.session.commit()
    assert _kept_agencies() is None
    api = api_as(users["supervisor"])
    [row] = api.get("/reports/identification")[1]["by_identifying_agency"]
    assert (row["organization_id"], row["count"]) == (users["police"].organization_id, 1)
