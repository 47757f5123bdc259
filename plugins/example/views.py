"""The example plugin's staff page: ``/example/`` lists greetings.

The blueprint is built inside a function, once per app (Flask refuses to set up a blueprint
another app already registered). Every view declares the permission it needs; the core's auth
layer sends anonymous visitors to the sign-in page and answers 403 without the permission.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template

from backhaul.sdk import db, permission_required

from .models import Greeting


def make_blueprint() -> Blueprint:
    bp = Blueprint("example", __name__, url_prefix="/example", template_folder="templates")

    @bp.get("/")
    @permission_required("example.greetings.view")
    def index():
        greetings = db.session.scalars(sa.select(Greeting).order_by(Greeting.id.desc())
                                       .limit(100)).all()
        return render_template("example/index.html", greetings=greetings)

    return bp
