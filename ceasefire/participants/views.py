"""Participant pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

bp = Blueprint("participants", __name__, url_prefix="/participants")


@bp.get("/")
@login_required
def index():
    return render_template("participants/index.html")
