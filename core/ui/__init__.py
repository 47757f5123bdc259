"""The staff UI shell (placeholder until the UI work lands)."""
from __future__ import annotations

from flask import Blueprint, render_template_string


def init_app(app) -> None:
    bp = Blueprint("core_ui", __name__)

    @bp.get("/login")
    def login():
        return render_template_string("<h1>Backhaul</h1><p>Sign in</p>")

    @bp.get("/plugins")
    def plugins():
        return "plugins"

    app.register_blueprint(bp)
