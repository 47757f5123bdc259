"""The shell's own pages: dashboard, global search, plugins, health. Thin views.

The blueprint is built per app (Flask refuses to set up a blueprint another app registered).
Every view is guarded by the auth module's decorators; ``/health`` is public on purpose (load
balancers probe it) and says nothing beyond "up" and whether the database answers.
"""
from __future__ import annotations

import logging

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, render_template, request

from backhaul.core.auth.decorators import login_required, permission_required, public
from backhaul.core.auth.identity import current_principal
from backhaul.core.db import db

from .search import run_search

log = logging.getLogger("backhaul.ui")


def build_blueprint() -> Blueprint:
    bp = Blueprint("core_ui", __name__)

    @bp.get("/")
    @login_required
    def dashboard():
        return render_template("core/dashboard.html", **_dashboard_context())

    @bp.get("/search")
    @login_required
    def search():
        principal = current_principal()
        outcome = run_search(current_app.extensions["backhaul.plugins"],
                             request.args.get("q"), principal.user)
        return render_template("core/search.html", outcome=outcome,
                               search_query=outcome.query)

    @bp.get("/plugins")
    @permission_required("core.plugins.view")
    def plugins():
        from ..services import health_lines

        rows = current_app.extensions["backhaul.plugins"].describe()
        counts = {status: sum(1 for r in rows if r["status"] == status)
                  for status in ("enabled", "disabled", "failed")}
        services = health_lines(
            current_app.extensions["backhaul.contributions"].long_running_services)
        return render_template("core/plugins.html", plugins=rows, counts=counts,
                               services=services)

    @bp.get("/health")
    @public
    def health():
        try:
            db.session.execute(sa.text("SELECT 1"))
            database = "ok"
        except Exception as exc:
            log.error("health check: database unreachable: %s", type(exc).__name__)
            db.session.rollback()
            database = "unavailable"
        ok = database == "ok"
        response = jsonify(status="ok" if ok else "unavailable", database=database)
        response.status_code = 200 if ok else 503
        response.headers["Cache-Control"] = "no-store"
        return response

    return bp


def _dashboard_context() -> dict:
    """Tiles for what the signed-in user may look after, nothing they may not."""
    from backhaul.core.models import JobIntent

    principal = current_principal()
    context: dict = {"plugin_counts": None, "failed_plugins": [], "job_counts": None}
    if principal.has_permission("core.plugins.view"):
        rows = current_app.extensions["backhaul.plugins"].describe()
        context["plugin_counts"] = {s: sum(1 for r in rows if r["status"] == s)
                                    for s in ("enabled", "disabled", "failed")}
        context["failed_plugins"] = [r for r in rows if r["status"] == "failed"]
    if principal.has_permission("core.jobs.view"):
        counts = dict(db.session.execute(
            sa.select(JobIntent.status, sa.func.count()).group_by(JobIntent.status)).all())
        context["job_counts"] = {
            "failed": counts.get("failed", 0),
            "waiting": sum(counts.get(s, 0) for s in ("pending", "enqueued", "running")),
        }
    return context
