"""What the pipeline and cohort reports keep of each participant (ceasefire.models.stages: stage_entries, each
stage's first and last entry and each step's span; cohort_members, each person's cohort forum and whether they
entered services_offered after it and ever had a referral accepted or completed) equals a recomputation from the
rows themselves (status_changes, invitations, forums, referrals and their events), and the counts kept of them
(ceasefire.models.stage_counts: each stage's participants and spans, each step's spans by bucket) equal a count of
the stage entries, after every kind of change:
create, each pipeline event and the roads back (no-show, reopen), history moved in time, check-in and no-show, a
forum cancelled or moved, a referral answered, moved or deleted, a purge, a participant deleted, an UPDATE run
through the session, the bulk seed and its refresh, and the migrations that fill the tables for data already
there."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import flask_migrate
import pytest
import sqlalchemy as sa
from flask import current_app
from helpers import REASONS, Program, at, check_tallies, set_history
from test_migrations import BACKENDS, seeded_at_head

from ceasefire.extensions import db
from ceasefire.models import (
    CohortMember,
    Forum,
    Invitation,
    Participant,
    Referral,
    ReferralEvent,
    SpanCount,
    StageCount,
    StageDay,
    StageEntry,
    StatusChange,
    stage_counts,
)
from ceasefire.models.enums import DeliveryMethod, ForumStatus, ReferralStatus, State
from ceasefire.models.stages import STEPS
from ceasefire.services import catalog
from ceasefire.services import referrals as referral_service

MICROSECOND = timedelta(microseconds=1)


def _recomputed(conn) -> tuple[dict, dict, dict]:
    """The rows the kept tables must hold, worked out here from the history."""
    firsts: dict[tuple[int, str], list] = {}
    for pid, state, moment in conn.execute(sa.select(StatusChange.participant_id, StatusChange.to_state,
                                                     StatusChange.at)):
        entry = firsts.setdefault((pid, State(state).value), [moment, moment, 0])
        entry[0], entry[1], entry[2] = min(entry[0], moment), max(entry[1], moment), entry[2] + 1
    stages = {}
    for (pid, stage), (first, last, entries) in firsts.items():
        earlier = STEPS.get(State(stage))
        before = firsts.get((pid, earlier.value)) if earlier is not None else None
        stages[(pid, stage)] = (first, last, (first - before[0]) // MICROSECOND if before else None, entries)
    attended = defaultdict(list)
    for pid, fid, scheduled in conn.execute(
        sa.select(Invitation.participant_id, Forum.id, Forum.scheduled_at)
        .join(Forum, Forum.id == Invitation.forum_id)
        .where(Invitation.attended.is_(True), Forum.status != ForumStatus.CANCELLED.value)
    ):
        attended[pid].append((scheduled, fid))
    cohorts = {pid: min(forums) for pid, forums in attended.items()}
    offered = defaultdict(list)
    for pid, moment in conn.execute(sa.select(StatusChange.participant_id, StatusChange.at)
                                    .where(StatusChange.to_state == State.SERVICES_OFFERED.value)):
        offered[pid].append(moment)
    reached = defaultdict(set)
    for pid, status in conn.execute(sa.select(Referral.participant_id, ReferralEvent.to_status)
                                    .join(ReferralEvent, ReferralEvent.referral_id == Referral.id)):
        reached[pid].add(ReferralStatus(status))
    flags = {
        pid: (any(moment >= scheduled for moment in offered[pid]), ReferralStatus.ACCEPTED in reached[pid],
              ReferralStatus.COMPLETED in reached[pid])
        for pid, (scheduled, _fid) in cohorts.items()
    }
    return stages, {pid: fid for pid, (_scheduled, fid) in cohorts.items()}, flags


def _kept(conn) -> tuple[dict, dict, dict]:
    stages = {
        (pid, State(stage).value): (first, last, span, entries)
        for pid, stage, first, last, span, entries in conn.execute(sa.select(
            StageEntry.participant_id, StageEntry.stage, StageEntry.first_at, StageEntry.last_at, StageEntry.span,
            StageEntry.entries,
        ))
    }
    members = conn.execute(sa.select(
        CohortMember.participant_id, CohortMember.forum_id, CohortMember.services_offered,
        CohortMember.referral_accepted, CohortMember.referral_completed,
    )).all()
    return (stages, {pid: fid for pid, fid, *_flags in members},
            {pid: tuple(bool(flag) for flag in flags) for pid, _fid, *flags in members})


def _counts_recomputed(conn) -> tuple[dict, dict, dict]:
    """The kept counts of stages and spans (models.stage_counts) worked out here from the stage entries: each
    stage's participants and spans, and each (stage, width, bucket)'s spans; and their days (models.stage_days):
    entries by the program's day and month of their first and of their last moment, spans by the day and month of
    their first and by bucket at two widths, with the row saying they are kept in the program's zone."""
    stages = {s.value: (0, 0) for s in State}
    buckets: dict[tuple[str, int, int], int] = defaultdict(int)
    days: dict[tuple, int] = defaultdict(int)
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    for stage, span, first_at, last_at in conn.execute(
            sa.select(StageEntry.stage, StageEntry.span, StageEntry.first_at, StageEntry.last_at)):
        stage = State(stage).value
        n, spans = stages[stage]
        stages[stage] = (n + 1, spans + (span is not None))
        if span is not None:
            for width in (stage_counts.WIDE, stage_counts.NARROW):
                buckets[(stage, width, span // 2**width)] += 1
        first, last = first_at.astimezone(zone).date(), last_at.astimezone(zone).date()
        for grain, on_first, on_last in (("d", first, last), ("m", first.replace(day=1), last.replace(day=1))):
            days[(stage, "f", grain, on_first, 0)] += 1
            days[(stage, "l", grain, on_last, 0)] += 1
            if span is not None:
                for width, kind in ((40, "w"), (36, "n")):
                    days[(stage, kind, grain, on_first, span // 2**width)] += 1
    days[("", "@" + zone.key, "d", date(1, 1, 1), 0)] = 0
    return stages, dict(buckets), dict(days)


def _counts_kept(conn) -> tuple[dict, dict, dict]:
    stages = {State(stage).value: (n, spans) for stage, n, spans in conn.execute(
        sa.select(StageCount.stage, StageCount.participants, StageCount.spans))}
    buckets = {(State(stage).value, width, bucket): n for stage, width, bucket, n in conn.execute(
        sa.select(SpanCount.stage, SpanCount.width, SpanCount.bucket, SpanCount.spans)) if n}
    days = {tuple(key): n for *key, n in conn.execute(sa.select(
        StageDay.stage, StageDay.kind, StageDay.grain, StageDay.day, StageDay.bucket, StageDay.n))
        if n or key[0] == ""}
    return stages, buckets, days


def _check() -> None:
    """The kept rows, read on a connection of their own (what is committed), equal the recomputation; and so do the
    kept counts of stages and spans."""
    with db.engine.connect() as conn:
        kept, recomputed = _kept(conn), _recomputed(conn)
        counts_kept, counts_recomputed = _counts_kept(conn), _counts_recomputed(conn)
    assert kept[0] == recomputed[0]
    assert kept[1] == recomputed[1]
    assert kept[2] == recomputed[2]
    assert counts_kept == counts_recomputed
    check_tallies()


def _forum(program: Program, when: datetime) -> Forum:
    forum = catalog.create_forum(program.supervisor, "Call-in", when, location="Fieldhouse")
    db.session.commit()
    return forum


def test_kept_rows_follow_create_every_event_and_the_roads_back(users, api_as):
    program = Program.build(users["supervisor"])
    api = api_as(users["supervisor"])
    _check()
    for state in State:
        program.bring_to(state)
        _check()
    # a no-show, re-invited to a later forum and checked in there: identified twice, invited twice
    again = program.bring_to(State.INVITED)
    program.fire(again, "no_show")
    _check()
    program.fire(again, "invite", forum_id=program.forum().id, method="letter")
    program.fire(again, "attend")
    _check()
    closed = program.bring_to(State.CLOSED)
    status, body = api.post(f"/participants/{closed.id}/events",
                            json={"event": "reopen", "version": closed.version, "reason": REASONS["reopen"]})
    assert status == 200, body
    _check()
    # history moved in time (as a program entering its past does): first and last entries and spans move with it
    set_history(again, at("2025-01-02"), at("2025-01-05"), at("2025-01-09"), at("2025-02-01"), at("2025-02-03"))
    db.session.commit()
    _check()
    with db.engine.connect() as conn:
        kept = _kept(conn)[0]
    assert kept[(again.id, "identified")][:2] == (at("2025-01-02"), at("2025-01-09"))
    assert kept[(again.id, "invited")] == (at("2025-01-05"), at("2025-02-01"), 3 * 86_400 * 10**6, 2)
    assert kept[(again.id, "attended")][2] == (at("2025-02-03") - at("2025-01-05")) // MICROSECOND
    # purged (by review): the history stays, and so do the kept rows
    status, body = api.post(f"/participants/{again.id}/review", json={"decision": "purge", "reason": "Moved away."})
    assert status == 200, body
    _check()


def test_the_cohort_follows_check_ins_and_forums_cancelled_or_moved(users):
    program = Program.build(users["supervisor"])
    early = _forum(program, datetime.now(UTC) - timedelta(days=3))
    late = _forum(program, datetime.now(UTC) - timedelta(hours=1))
    ann, bo, cy = (program.create(first_name=name) for name in ("Ann", "Bo", "Cy"))
    with program.batch():
        for p in (ann, bo, cy):
            program.fire(p, "invite", forum_id=early.id, method="letter")
            program.fire(p, "attend" if p is not bo else "no_show")
        program.fire(bo, "invite", forum_id=late.id, method="letter")
        program.fire(bo, "attend")
    _check()
    # check-ins entered on a roster afterwards (a program entering its history)
    for p in (ann, cy):
        db.session.add(Invitation(forum_id=late.id, participant_id=p.id, method=DeliveryMethod.LETTER, attended=True))
    db.session.commit()
    _check()
    with db.engine.connect() as conn:
        assert _kept(conn)[1] == {ann.id: early.id, bo.id: late.id, cy.id: early.id}
    # a check-in undone moves the person to their next forum
    invitation = db.session.scalars(sa.select(Invitation).where(
        Invitation.participant_id == ann.id, Invitation.forum_id == early.id)).one()
    invitation.attended = False
    db.session.commit()
    _check()
    # the earlier forum cancelled: its people go to the later one; then held, but moved after the later one
    early.status = ForumStatus.CANCELLED
    db.session.commit()
    _check()
    early.status = ForumStatus.HELD
    early.scheduled_at = late.scheduled_at + timedelta(minutes=5)
    db.session.commit()
    _check()
    with db.engine.connect() as conn:
        assert _kept(conn)[1] == {ann.id: late.id, bo.id: late.id, cy.id: late.id}


def test_the_members_referrals_and_services_offered_follow_every_change(users):
    program = Program.build(users["supervisor"])
    provider = users["provider"]
    program.service.organization_id = provider.organization_id
    db.session.commit()
    ann, bo = (program.bring_to(State.SERVICES_OFFERED) for _ in range(2))
    _check()
    with db.engine.connect() as conn:
        assert _kept(conn)[2] == {ann.id: (True, False, False), bo.id: (True, False, False)}
    first = db.session.scalars(sa.select(Referral).where(Referral.participant_id == ann.id)).one()
    referral_service.set_status(provider, first, ReferralStatus.ACCEPTED)
    db.session.commit()
    _check()
    referral_service.set_status(provider, first, ReferralStatus.ENROLLED)
    referral_service.set_status(provider, first, ReferralStatus.COMPLETED)
    db.session.commit()
    _check()
    with db.engine.connect() as conn:
        assert _kept(conn)[2][ann.id] == (True, True, True)
    # a second referral of Bo's, declined; then Ann's referral moved to Bo
    declined = program.refer(bo)
    referral_service.set_status(provider, declined, ReferralStatus.DECLINED, "No places left.")
    db.session.commit()
    _check()
    first.participant_id = bo.id
    db.session.commit()
    _check()
    with db.engine.connect() as conn:
        assert _kept(conn)[2] == {ann.id: (True, False, False), bo.id: (True, True, True)}
    # an event changed and one deleted through the session, then the referral deleted with its events
    db.session.execute(sa.update(ReferralEvent).where(ReferralEvent.referral_id == first.id,
                                                      ReferralEvent.to_status == ReferralStatus.COMPLETED.value)
                       .values(to_status=ReferralStatus.DROPPED.value))
    db.session.commit()
    _check()
    db.session.execute(sa.delete(ReferralEvent).where(ReferralEvent.referral_id == first.id,
                                                      ReferralEvent.to_status == ReferralStatus.ACCEPTED.value))
    db.session.commit()
    _check()
    db.session.delete(declined)
    db.session.commit()
    _check()
    # services offered before the cohort's forum: the forum moved after them
    forum = db.session.get(Forum, db.session.scalar(sa.select(CohortMember.forum_id)
                                                    .where(CohortMember.participant_id == ann.id)))
    forum.scheduled_at = datetime.now(UTC) + timedelta(days=30)
    db.session.commit()
    _check()
    with db.engine.connect() as conn:
        assert _kept(conn)[2][ann.id] == (False, False, False)


def test_an_update_run_through_the_session_and_a_deletion_keep_the_rows(users):
    program = Program.build(users["supervisor"])
    forum = _forum(program, datetime.now(UTC) - timedelta(days=1))
    people = [program.bring_to(State.ATTENDED) for _ in range(2)]
    invited = program.bring_to(State.INVITED)
    invitation = db.session.scalars(sa.select(Invitation).where(Invitation.participant_id == invited.id)).one()
    invitation.forum_id = forum.id
    db.session.commit()
    _check()
    db.session.execute(sa.update(StatusChange).where(StatusChange.participant_id == people[0].id)
                       .values(at=at("2024-06-01")))
    db.session.commit()
    _check()
    db.session.execute(sa.update(StatusChange).values(at=at("2024-07-01")))  # no WHERE: everyone's
    db.session.commit()
    _check()
    db.session.execute(sa.update(Invitation).where(Invitation.participant_id == people[1].id)
                       .values(attended=False))
    db.session.commit()
    _check()
    db.session.execute(sa.update(Forum).values(status=ForumStatus.CANCELLED.value))
    db.session.commit()
    _check()
    with db.engine.connect() as conn:
        assert _kept(conn)[1] == {}
    lone = program.create(first_name="Dee")
    db.session.delete(lone)
    db.session.commit()
    _check()
    with db.engine.connect() as conn:
        assert lone.id not in {pid for pid, _stage in _kept(conn)[0]}


def test_the_bulk_seed_is_kept_by_its_refresh(runner):
    result = runner.invoke(args=["seed-demo", "--participants", "1150"])
    assert result.exit_code == 0, result.output
    _check()
    with db.engine.connect() as conn:
        kept = _kept(conn)
    assert len(kept[0]) > 1150
    assert len(kept[1]) > 100
    assert {span is not None for (_pid, stage), (_f, _l, span, _n) in kept[0].items() if stage == "attended"} == {True}


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_migration_fills_the_tables_for_the_data_already_there(backend, tmp_path):
    with seeded_at_head(backend, tmp_path, "stages"):
        _check()
        with db.engine.connect() as conn:
            before = _kept(conn)
        flask_migrate.downgrade(revision="e5f1a2b3c4d6")
        assert "stage_entries" not in sa.inspect(db.engine).get_table_names()
        flask_migrate.upgrade()
        _check()
        with db.engine.connect() as conn:
            assert _kept(conn) == before
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) == 1100
