"""The participants counted per state (ceasefire.models.counts) equal a count of the rows after every kind of change
(create, each event, purge by review and by a granted removal request, a bulk load and refresh), and the lists'
totals and tabs, which read them for a viewer who sees everyone, stay right; without them the lists count."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa
from helpers import REASONS, Program, counting, text

from ceasefire.extensions import db
from ceasefire.models import (
    IdentificationAgencyDay,
    IdentificationDay,
    Participant,
    ParticipantCount,
    Referral,
    counts,
)
from ceasefire.models.base import today
from ceasefire.models.enums import ReferralStatus, State


def _rows() -> dict[State, int]:
    """A count of the rows, on a connection of its own: what the kept counts must say."""
    with db.engine.connect() as conn:
        found = dict(conn.execute(
            sa.select(Participant.state, sa.func.count(Participant.id))
            .where(Participant.purged_at.is_(None)).group_by(Participant.state)
        ).all())
    return {s: found.get(s, 0) for s in State}


def _kept() -> dict[State, int] | None:
    with db.engine.connect() as conn:
        return counts.counted(conn)


def _check(api) -> None:
    """The kept counts equal the rows, and the API's totals (all, and each state) say the same."""
    assert _kept() == _rows()
    assert api.get("/participants?per_page=1")[1]["total"] == sum(_rows().values())
    for state, n in _rows().items():
        assert api.get(f"/participants?per_page=1&state={state.value}")[1]["total"] == n, state


def test_counts_follow_create_every_event_and_purge(users, api_as):
    program = Program.build(users["supervisor"])
    api = api_as(users["supervisor"])
    _check(api)
    status, created = api_as(users["caseworker"]).post(
        "/participants", json={"first_name": "Andre", "last_name": "Mills"}
    )
    assert status == 201, created
    _check(api)
    for state in State:
        program.bring_to(state)
        _check(api)
    invited = program.bring_to(State.INVITED)
    status, body = api.post(f"/participants/{invited.id}/events", json={"event": "no_show", "version": invited.version})
    assert (status, body["state"]) == (200, "identified"), body
    _check(api)
    closed = program.bring_to(State.CLOSED)
    status, body = api.post(f"/participants/{closed.id}/events",
                            json={"event": "reopen", "version": closed.version, "reason": REASONS["reopen"]})
    assert (status, body["state"]) == (200, "identified"), body
    _check(api)
    status, body = api.post(f"/participants/{created['id']}/review",
                            json={"decision": "purge", "reason": "Moved away."})
    assert status == 200, body
    _check(api)
    retained = program.bring_to(State.ATTENDED)
    status, body = api.post(f"/participants/{retained.id}/review",
                            json={"decision": "retain", "reason": "Still at risk."})
    assert status == 200, body
    _check(api)
    status, request = api.post(f"/participants/{retained.id}/removal-requests",
                               json={"received_on": today().isoformat(), "requested_by": "self", "grounds": "Moved."})
    assert status == 201, request
    status, body = api.post(f"/removal-requests/{request['id']}/decision",
                            json={"decision": "granted", "reason": "No longer at risk."})
    assert status == 200, body
    _check(api)
    assert sum(_rows().values()) == 2 + len(State)  # the purged two have left the counts and the lists


def test_the_list_page_tabs_and_total_read_the_kept_counts(users, client, auth):
    program = Program.build(users["supervisor"])
    for state in (State.IDENTIFIED, State.INVITED, State.INVITED, State.CLOSED):
        program.bring_to(state)
    auth.login(users["caseworker"])
    client.get("/participants/")
    db.session.expunge_all()
    with counting() as statements:
        page = text(client.get("/participants/?state=invited"))
    assert "2 participants found." in page
    assert 'Invited <span class="count-badge">2</span>' in page
    assert 'All <span class="count-badge">4</span>' in page
    counted = [s for s in statements if "count(" in s.lower() and "participant_counts" not in s
               and "FROM participants" in s and "GROUP BY participants.state" in s]
    assert counted == [], "the tabs were counted off the participants, not read"


def test_without_kept_counts_the_lists_count_and_stay_right(users, api_as, client, auth):
    program = Program.build(users["supervisor"])
    for state in (State.IDENTIFIED, State.INVITED, State.ENFORCED):
        program.bring_to(state)
    db.session.execute(sa.delete(ParticipantCount).where(ParticipantCount.state == State.CLOSED))
    db.session.commit()
    assert _kept() is None
    program.bring_to(State.CLOSED)  # a change while they are not kept leaves them not kept
    assert _kept() is None
    api = api_as(users["caseworker"])
    assert api.get("/participants?per_page=1")[1]["total"] == 4
    assert api.get("/participants?per_page=1&state=closed")[1]["total"] == 1
    auth.login(users["caseworker"])
    assert 'Closed <span class="count-badge">1</span>' in text(client.get("/participants/"))
    counts.refresh(db.session)
    db.session.commit()
    assert _kept() == _rows()


def test_a_bulk_load_is_counted_by_refresh(users, api_as):
    Program.build(users["supervisor"]).bring_to(State.INVITED)
    db.session.execute(sa.insert(Participant), [
        {"first_name": f"Bulk{n}", "last_name": "Copy", "state": State.ATTENDED.value, "version": 1}
        for n in range(3)
    ])
    db.session.commit()
    assert _kept() != _rows()  # a load around the ORM is not seen ...
    counts.refresh(db.session)
    db.session.commit()
    assert _kept() == _rows() == {**dict.fromkeys(State, 0), State.INVITED: 1, State.ATTENDED: 3}


def test_scoped_and_filtered_lists_count_their_own_rows(users, api_as):
    program = Program.build(users["supervisor"])
    for state in (State.IDENTIFIED, State.INVITED, State.ATTENDED):
        program.bring_to(state)
    mine = program.bring_to(State.INVITED, community_org_id=users["community"].organization_id)
    community = api_as(users["community"])
    assert community.get("/participants")[1]["total"] == 1
    assert [p["id"] for p in community.get("/participants")[1]["items"]] == [mine.id]
    caseworker = api_as(users["caseworker"])
    assert caseworker.get("/participants?state=invited")[1]["total"] == 2
    assert caseworker.get("/participants?state=invited&q=Marcus")[1]["total"] == 2
    assert caseworker.get("/participants?state=invited&q=Nobody")[1]["total"] == 0


def _identification_both_ways(user) -> tuple[dict, dict]:
    """The identification report over everyone from the kept counts, and counted by SQL (a window from 1900)."""
    from ceasefire.services import reports

    kept = reports.identification(user, reports.Window(), agencies=False)
    counted = _identification_counted(user, reports.Window(date(1900, 1, 1), None), agencies=False)
    return kept, counted


def test_identification_counts_follow_create_update_and_purge(users, api_as):
    program = Program.build(users["supervisor"])
    supervisor = users["supervisor"]
    api = api_as(supervisor)
    born = {"date_of_birth": date(2000, 6, 1)}
    people = [
        program.create(**born, supervision_status="probation"),
        program.create(supervision_status="parole"),
        program.create(date_of_birth=today() - timedelta(days=365 * 16)),
        program.create(date_of_birth=date(1980, 1, 1), supervision_status="pretrial"),
    ]
    kept, counted = _identification_both_ways(supervisor)
    assert kept == counted
    assert kept["total"] == 4
    assert _kept_identification() == _identification_rows()
    first, second = people[0], people[1]
    status, body = api.patch(f"/participants/{first.id}", json={"version": first.version, "date_of_birth": None,
                                                                "supervision_status": "none"})
    assert status == 200, body
    status, body = api.patch(f"/participants/{second.id}", json={"version": second.version,
                                                                 "date_of_birth": "1995-03-04"})
    assert status == 200, body
    assert _identification_both_ways(supervisor)[0] == _identification_both_ways(supervisor)[1]
    status, body = api.post(f"/participants/{people[2].id}/review", json={"decision": "purge", "reason": "Moved."})
    assert status == 200, body
    kept, counted = _identification_both_ways(supervisor)
    assert kept == counted
    assert kept["total"] == 4  # a purged person is still counted, in the band kept
    assert kept["by_age"]["under_18"] == 1
    assert _kept_identification() == _identification_rows()


def _identification_counted(user, window, agencies: bool = True) -> dict:
    """The identification report counted off the participants: the kept days' mark taken away for the call."""
    from ceasefire.services import reports

    db.session.execute(sa.delete(IdentificationDay).where(IdentificationDay.age_band == ""))
    counted = reports.identification(user, window, agencies=agencies)
    db.session.execute(sa.insert(IdentificationDay).values(**counts.KEPT))
    return counted


def _kept_days() -> dict:
    found = {tuple(r[:4]): r[4] for r in db.session.execute(sa.select(
        IdentificationDay.grain, IdentificationDay.day, IdentificationDay.supervision_status,
        IdentificationDay.age_band, IdentificationDay.participants).where(IdentificationDay.participants != 0))}
    return found | {tuple(r[:3]): r[3] for r in db.session.execute(sa.select(
        IdentificationAgencyDay.grain, IdentificationAgencyDay.day, IdentificationAgencyDay.organization_id,
        IdentificationAgencyDay.participants).where(IdentificationAgencyDay.participants != 0))}


def test_the_identification_report_over_a_window_sums_days_kept_with_every_change(users, api_as):
    """Over a window the report sums the days kept of everyone identified (by status, band and agency): the same as
    counting the participants, in every window, after people are identified, moved to another day, status, date of
    birth or agency, and purged; a load around the ORM is counted again by refresh()."""
    from ceasefire.services import reports

    program = Program.build(users["supervisor"])
    supervisor = users["supervisor"]
    people = [
        program.create(date_of_birth=date(2000, 6, 1), supervision_status="probation"),
        program.create(supervision_status="parole"),
        program.create(date_of_birth=today() - timedelta(days=365 * 16)),
        program.create(date_of_birth=date(1980, 1, 1), supervision_status="pretrial"),
        program.create(date_of_birth=date(2006, 3, 2)),
    ]
    windows = [reports.Window(date(1900, 1, 1), None), reports.Window(date(2025, 1, 1), date(2025, 6, 30)),
               reports.Window(None, date(2025, 3, 31)), reports.Window(date(2025, 4, 1), None),
               reports.Window(today(), today()), reports.Window(date(2025, 3, 2), date(2025, 3, 2)),
               # whole months and days around them; a month only partly inside
               reports.Window(date(2025, 2, 15), date(2025, 5, 20)),
               reports.Window(date(2025, 3, 3), date(2025, 5, 31)),
               reports.Window(date(2025, 3, 3), None), reports.Window(None, date(2025, 5, 8))]

    def check() -> dict:
        found = {}
        for window in windows:
            with counting() as seen:
                kept = reports.identification(supervisor, window)
            assert not [q for q in seen if "FROM participants" in q], seen  # off the kept days alone
            assert kept == _identification_counted(supervisor, window), window
            found[(window.start, window.end)] = kept
        return found

    found = check()
    assert found[(date(1900, 1, 1), None)]["total"] == 5
    assert found[(date(2025, 1, 1), date(2025, 6, 30))]["total"] == 0
    # identified earlier, by an agency (as a data correction or an import would)
    for person, day in zip(people[:3], (date(2025, 3, 2), date(2025, 3, 2), date(2025, 5, 9)), strict=True):
        person.identified_on = day
    people[1].identifying_org_id = program.police_org.id
    db.session.commit()
    found = check()
    spring = found[(date(2025, 1, 1), date(2025, 6, 30))]
    assert spring["total"] == 3
    assert found[(date(2025, 3, 3), date(2025, 5, 31))]["total"] == 1  # May's, not March 2's
    assert spring["by_identifying_agency"] == [
        {"organization_id": program.police_org.id, "name": "Metro Police", "count": 1},
        {"organization_id": None, "name": None, "count": 2}]
    assert found[(date(2025, 3, 2), date(2025, 3, 2))]["by_supervision"] == {
        "none": 0, "probation": 1, "parole": 1, "pretrial": 0}
    api = api_as(supervisor)
    status, body = api.patch(f"/participants/{people[0].id}", json={
        "version": people[0].version, "date_of_birth": None, "supervision_status": "none"})
    assert status == 200, body
    status, body = api.post(f"/participants/{people[2].id}/review", json={"decision": "purge", "reason": "Moved."})
    assert status == 200, body
    found = check()
    assert found[(date(2025, 1, 1), date(2025, 6, 30))]["by_age"] == {  # the purged keep their band
        "under_18": 1, "18_24": 0, "25_34": 0, "35_plus": 0, "unknown": 2}
    kept = _kept_days()
    counts.refresh(db.session)
    assert _kept_days() == kept
    db.session.execute(sa.delete(IdentificationDay))
    db.session.execute(sa.delete(IdentificationAgencyDay))
    db.session.commit()
    counts.refresh(db.session)
    db.session.commit()
    assert _kept_days() == kept
    check()


def _kept_identification() -> dict | None:
    with db.engine.connect() as conn:
        kept = counts.identified(conn)
    return {k: n for k, n in kept.items() if n} if kept is not None else None


def _identification_rows() -> dict:
    with db.engine.connect() as conn:
        rows = conn.execute(sa.select(Participant.supervision_status, Participant.date_of_birth,
                                      Participant.identified_on, Participant.age_band)).all()
    found: dict = {}
    for status, born, on, band in rows:
        key = (status, counts.age_band(born, on, band))
        found[key] = found.get(key, 0) + 1
    return found


def _referral_rows() -> dict:
    with db.engine.connect() as conn:
        found = dict(conn.execute(
            sa.select(Referral.status, sa.func.count(Referral.id))
            .join(Participant, Participant.id == Referral.participant_id)
            .where(Participant.purged_at.is_(None)).group_by(Referral.status)
        ).all())
    return {s: found.get(s, 0) for s in ReferralStatus}


def test_referral_counts_follow_send_status_and_purge(users, api_as):
    program = Program.build(users["supervisor"], users["provider"].organization)
    api, provider = api_as(users["supervisor"]), api_as(users["provider"])

    def check() -> None:
        with db.engine.connect() as conn:
            assert counts.referral_counts(conn) == _referral_rows()
        assert api.get("/referrals?per_page=1")[1]["total"] == sum(_referral_rows().values())

    people = [program.create(first_name=f"P{n}") for n in range(3)]
    referrals = [program.refer(p) for p in people]
    check()
    for referral, steps in zip(referrals, (["accepted", "enrolled"], ["declined"], []), strict=True):
        for step in steps:
            body = {"status": step} | ({"reason": "Full."} if step == "declined" else {})
            status, answer = provider.post(f"/referrals/{referral.id}/status", json=body)
            assert status == 200, answer
            check()
    status, answer = api.post(f"/referrals/{referrals[2].id}/status", json={"status": "withdrawn"})
    assert status == 200, answer
    check()
    status, answer = api.post(f"/participants/{people[0].id}/review", json={"decision": "purge", "reason": "Moved."})
    assert status == 200, answer
    check()
    assert sum(_referral_rows().values()) == 2
