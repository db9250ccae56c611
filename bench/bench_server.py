"""The app as gunicorn serves it for bench/bench_throughput.py, with two routes of the benchmark's own beside it
(never in the app): `/bench/bare`, the API participant list's own query written as a bare Flask-SQLAlchemy route
(no token, no policy, no records), and `/bench/empty`, a route answering `{}`: the floors the API is measured
against, in the same server and the same run."""

from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify, request

from ceasefire.extensions import db
from ceasefire.models import Participant
from wsgi import app  # the app as gunicorn serves it

COLUMNS = list(Participant.__table__.columns)


def bare():
    per_page = min(int(request.args.get("per_page", "50")), 200)
    page = max(int(request.args.get("page", "1")), 1)
    query = sa.select(Participant).order_by(Participant.last_name, Participant.first_name, Participant.id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.with_only_columns(Participant.id)
                                                                       .order_by(None).subquery()))
    rows = db.session.scalars(query.limit(per_page).offset((page - 1) * per_page))
    items = [{c.key: getattr(p, c.key) for c in COLUMNS} for p in rows]
    return jsonify({"items": items, "total": total, "page": page, "per_page": per_page})


def empty():
    return jsonify({})


app.add_url_rule("/bench/bare", "bench_bare", bare)
app.add_url_rule("/bench/empty", "bench_empty", empty)
