"""How many users (active and deactivated), organizations and services (taking referrals, and not) there are: the
admin's home, read off five rows instead of counted off tens of thousands (a statewide program's directory).

Kept as the audit trail's total is (models.audit): each flush notes what it inserts, deletes or (de)activates, and
the commit adds it up as its last statements, in one order, so a transaction holds these rows' locks only for its
commit and no two wait on each other crosswise. A bulk load around the ORM (ceasefire.demo_bulk) is followed by
refresh_directory_counts(); rows missing say "not kept" and the reader counts.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from ceasefire.extensions import Model
from ceasefire.models.referrals import Service
from ceasefire.models.users import Organization, User

KEYS = ("organizations", "services_active", "services_inactive", "users_active", "users_inactive")
_PENDING = "directory_counts_pending"  # session.info: shifts this transaction flushed and has not yet added up


class DirectoryCount(Model):
    __tablename__ = "directory_counts"

    name: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    rows: Mapped[int] = mapped_column(sa.Integer, default=0)


@sa.event.listens_for(DirectoryCount.__table__, "after_create")
def _at_zero(table: sa.Table, connection: sa.Connection, **_kw: Any) -> None:
    connection.execute(table.insert(), [{"name": k, "rows": 0} for k in KEYS])


def _counted(session: Session | Any) -> dict[str, int]:
    users = dict(session.execute(sa.select(User.active, sa.func.count(User.id)).group_by(User.active)).all())
    services = dict(session.execute(
        sa.select(Service.active, sa.func.count(Service.id)).group_by(Service.active)
    ).all())
    return {
        "organizations": session.scalar(sa.select(sa.func.count(Organization.id))) or 0,
        "services_active": services.get(True, 0), "services_inactive": services.get(False, 0),
        "users_active": users.get(True, 0), "users_inactive": users.get(False, 0),
    }


def directory_counts(session: Session | Any) -> dict[str, int]:
    """Each key's count as this transaction sees it: the kept rows, or counted when they are not kept."""
    rows = dict(session.execute(sa.select(DirectoryCount.name, DirectoryCount.rows)).all())  # flushes first
    if set(rows) != set(KEYS):
        return _counted(session)
    pending = session.info.get(_PENDING, {})
    return {k: rows[k] + pending.get(k, 0) for k in KEYS}


def refresh_directory_counts(session: Session | Any) -> None:
    """Count anew (after a bulk load that went around the ORM)."""
    found = _counted(session)  # flushes first
    session.info.pop(_PENDING, None)  # counted now, with the rest
    session.execute(sa.delete(DirectoryCount))
    session.execute(sa.insert(DirectoryCount), [{"name": k, "rows": found[k]} for k in KEYS])


def _key(row: Any, active: bool | None = None) -> str | None:
    """The key a row counts under (`active`: the value it had, else its own)."""
    if isinstance(row, Organization):
        return "organizations"
    if not isinstance(row, User | Service):
        return None
    active = row.active if active is None else active
    prefix = "users" if isinstance(row, User) else "services"
    return f"{prefix}_active" if active is None or active else f"{prefix}_inactive"


def _was_active(session: Session, row: User | Service) -> bool | None:
    """What the database holds for a row whose `active` the flush changes (None: unchanged). Set on a row expired
    by a commit, the attribute's history has no old value: the row is read for it."""
    history: Any = sa.inspect(row).attrs["active"].history  # type: ignore[attr-defined]
    if not history.added:
        return None
    if history.deleted:
        return bool(history.deleted[0])
    table = type(row).__table__
    return bool(session.connection().scalar(sa.select(table.c.active).where(table.c.id == row.id)))


@sa.event.listens_for(Session, "before_flush")
def _note(session: Session, _context: Any, _instances: Any) -> None:
    shifts: dict[str, int] = {}

    def shift(key: str | None, n: int) -> None:
        if key is not None:
            shifts[key] = shifts.get(key, 0) + n

    for row in session.new:
        shift(_key(row), 1)
    for row in session.deleted:
        shift(_key(row, _was_active(session, row) if isinstance(row, User | Service) else None), -1)
    for row in session.dirty:
        if isinstance(row, User | Service) and (was := _was_active(session, row)) is not None:
            shift(_key(row, was), -1)
            shift(_key(row), 1)
    if any(shifts.values()):
        pending = session.info.setdefault(_PENDING, {})
        for key, n in shifts.items():
            pending[key] = pending.get(key, 0) + n


@sa.event.listens_for(Session, "before_commit")
def _add(session: Session) -> None:
    session.flush()  # what the commit would flush, noted now
    pending = session.info.pop(_PENDING, {})
    table = sa.table("directory_counts", sa.column("name"), sa.column("rows"))
    for key in sorted(k for k, n in pending.items() if n):
        session.connection().execute(  # Core: no autoflush
            sa.update(table).where(table.c.name == key).values(rows=table.c.rows + pending[key])
        )


@sa.event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # a rollback: what it flushed is gone
        session.info.pop(_PENDING, None)
