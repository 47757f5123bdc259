"""The RADIUS page (health per process, NAS options, open sessions, recent rejects) and the
account panel (sessions and last authentication per login). Forms post to actions whose
GraphQL mutations sit behind the same permissions (graphql.py)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for

from backhaul.sdk import db, permission_required
from backhaul.sdk.graphql import FieldErrors

from .graphql import DIALECTS, disconnect, sessions, set_nas_options
from .models import LastAuth, NasSettings

bp = Blueprint("radius", __name__, url_prefix="/radius", template_folder="templates")


@bp.get("/")
@permission_required("radius.view")
def index():
    from backhaul.plugins.network.api import radius_clients
    from backhaul.sdk.services import health

    options = {n.device_id: n for n in db.session.scalars(sa.select(NasSettings))}
    rejects = db.session.scalars(sa.select(LastAuth).where(LastAuth.accepted.is_(False))
                                 .order_by(LastAuth.at.desc()).limit(20)).all()
    return render_template("radius/index.html", health=health("radius.server"),
                           nases=[n.device for n in radius_clients()], options=options,
                           dialects=DIALECTS, sessions=sessions(open_only=True, limit=100),
                           rejects=rejects)


@bp.post("/nas/<int:device_id>")
@permission_required("radius.manage")
def nas_options(device_id: int):
    form = request.form
    try:
        port = form.get("coa_port", "").strip()
        set_nas_options(device_id, int(port) if port.isdigit() else (port or None),
                        bool(form.get("require_message_authenticator")),
                        form.get("dialect") or None)
        db.session.commit()
        flash("NAS options saved; RADIUS processes pick them up within 30 seconds.",
              "success")
    except (FieldErrors, TypeError, ValueError) as exc:
        db.session.rollback()
        flash(f"Not saved: {_message(exc)}", "error")
    return redirect(url_for(".index"))


@bp.post("/sessions/<int:session_id>/disconnect")
@permission_required("radius.manage")
def session_disconnect(session_id: int):
    try:
        disconnect(session_id)
        db.session.commit()
        flash("Disconnect-Request sent by a job; the result shows on the session.", "success")
    except FieldErrors as exc:
        db.session.rollback()
        flash(_message(exc), "error")
    return redirect(request.referrer if _same_site(request.referrer) else url_for(".index"))


def _same_site(url: str | None) -> bool:
    from backhaul.sdk.ui import safe_next

    return bool(url) and safe_next(url) == url


def _message(exc) -> str:
    errors = getattr(exc, "errors", None)
    if isinstance(errors, dict):
        return " ".join(f"{k}: {' '.join(map(str, v))}" for k, v in errors.items())
    return "coaPort: 1-65535" if isinstance(exc, (TypeError, ValueError)) else str(exc)


def render_account_panel(account) -> str:
    rows = sessions(account_id=account.id, limit=10)
    logins = {r.username for r in rows}
    from backhaul.plugins.network.api import logins_of_account

    logins |= set(logins_of_account(account.id))
    last = db.session.scalars(sa.select(LastAuth).where(
        LastAuth.username.in_(logins))).all() if logins else []
    return render_template("radius/_account_panel.html", sessions=rows, last=last)
