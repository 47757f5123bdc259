"""The example plugin's staff page: ``/example/`` lists greetings.

The blueprint lives at module level: all its routes are defined at import, so Flask 3.1
registers the same blueprint on every app (tests build many). Every view declares the
permission it needs; the core's auth layer sends anonymous visitors to the sign-in page and
answers 403 without the permission.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template

from backhaul.sdk import db, permission_required

from .models import Greeting

bp = Blueprint("example", __name__, url_prefix="/example", template_folder="templates")


@bp.get("/")
@permission_required("example.greetings.view")
def index():
    greetings = db.session.scalars(sa.select(Greeting).order_by(Greeting.id.desc())
                                   .limit(100)).all()
    return render_template("example/index.html", greetings=greetings)
