"""The ``auth`` blueprint: sign-in (with the second-factor step), sign-out, sign out everywhere.

Profile pages are in :mod:`.views_profile`, administration in :mod:`.views_admin`; all three
register on the one blueprint built per app by :func:`make_blueprint`.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import generate_csrf
from marshmallow import ValidationError

from ..db import db
from . import login as flow
from . import sessions, throttle
from .decorators import public, safe_next, session_required
from .identity import MFA_KEY, SESSION_KEY, current_principal
from .schemas import CodeSchema, LoginSchema, form_data
from .security import audit


def make_blueprint() -> Blueprint:
    """A fresh blueprint (Flask refuses to set one up twice across apps)."""
    from . import views_admin, views_profile

    bp = Blueprint("auth", __name__, template_folder="templates")
    register(bp)
    views_profile.register(bp)
    views_admin.register(bp)
    return bp


def timeouts() -> sessions.Timeouts:
    return sessions.Timeouts.from_config(current_app.config)


def limits() -> throttle.Limits:
    return throttle.Limits.from_config(current_app.config)


def client_ip() -> str | None:
    return request.remote_addr


def no_store(response):
    """For pages that show a secret once (new token, TOTP seed): never cached."""
    response = current_app.make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


def start_session(user) -> None:
    """Sign ``user`` in: a new server-side session and a fresh cookie (no fixation)."""
    previous = current_principal().session
    if previous is not None:
        sessions.revoke(previous, "replaced")
    token, _ = sessions.create(user, timeouts(), sessions.FULL, client_ip(),
                               request.user_agent.string)
    db.session.commit()
    session.clear()
    session[SESSION_KEY] = token


def end_session(reason: str) -> None:
    row = current_principal().session
    if row is not None:
        sessions.revoke(row, reason)
        db.session.commit()
    session.clear()


def _home() -> str:
    return "/"


def _next_url() -> str | None:
    """Where to go after signing in: a path on this site, never back to sign-in/out."""
    target = safe_next(request.values.get("next"))
    if target and target.split("?", 1)[0].rstrip("/") in ("/login", "/login/verify", "/logout"):
        return None
    return target


def register(bp: Blueprint) -> None:
    @bp.route("/login", methods=["GET", "POST"])
    @public
    def login():
        principal = current_principal()
        next_url = _next_url()
        if request.method == "GET" and principal.session is not None:
            return redirect(next_url or _home())
        errors, values, status = {}, {}, 200
        if request.method == "POST":
            data = form_data(request.form)
            values = {"email": data.get("email", "")}
            try:
                loaded = LoginSchema().load(data)
            except ValidationError as exc:
                errors, status = exc.messages, 400
            else:
                outcome = flow.password_step(loaded["email"], loaded["password"], client_ip(),
                                             limits())
                if outcome.status == "mfa":
                    token, _ = sessions.create(outcome.user, timeouts(), sessions.MFA_PENDING,
                                               client_ip(), request.user_agent.string)
                    db.session.commit()
                    session.clear()
                    session[MFA_KEY] = token
                    return redirect(url_for("auth.login_verify", next=next_url))
                if outcome.ok:
                    start_session(outcome.user)
                    return redirect(next_url or _home())
                db.session.commit()  # the failed attempt is recorded
                errors = {"_schema": [outcome.message]}
                status = 429 if outcome.status == "refused" else 401
        response = current_app.make_response((render_template(
            "auth/login.html", errors=errors, values=values, next=next_url), status))
        if status == 429:
            response.headers["Retry-After"] = "60"
        return response

    @bp.route("/login/verify", methods=["GET", "POST"])
    @public
    def login_verify():
        next_url = _next_url()
        pending = sessions.lookup(session.get(MFA_KEY), timeouts(), sessions.MFA_PENDING)
        if pending is None:
            db.session.commit()
            session.pop(MFA_KEY, None)
            flash("Sign-in took too long or was not started. Sign in again.", "warning")
            return redirect(url_for("auth.login", next=next_url))
        errors, status = {}, 200
        if request.method == "POST":
            try:
                loaded = CodeSchema().load(form_data(request.form))
            except ValidationError as exc:
                errors, status = exc.messages, 400
            else:
                outcome = flow.code_step(pending.user, loaded["code"], client_ip(), limits(),
                                         current_app.secret_key)
                if outcome.ok:
                    sessions.revoke(pending, "second factor done")
                    start_session(outcome.user)
                    return redirect(next_url or _home())
                if outcome.status == "refused":
                    sessions.revoke(pending, "refused")
                    db.session.commit()
                    session.pop(MFA_KEY, None)
                    flash(outcome.message, "error")
                    return redirect(url_for("auth.login"))
                db.session.commit()
                errors, status = {"code": [outcome.message]}, 401
        return render_template("auth/login_verify.html", errors=errors, next=next_url), status

    @bp.route("/logout", methods=["GET", "POST"])
    @session_required
    def logout():
        if request.method == "GET":
            return render_template("auth/logout.html")
        audit("auth.logout", current_principal().user.id)
        end_session("signed out")
        flash("You have signed out.", "success")
        return redirect(url_for("auth.login"))

    @bp.post("/auth/sign-out-everywhere")
    @session_required
    def sign_out_everywhere():
        user = current_principal().user
        count = sessions.revoke_all(user, "signed out everywhere")
        audit("auth.signed_out_everywhere", user.id, sessions=count)
        db.session.commit()
        current_app.logger.info("user %s signed out everywhere (%s sessions)", user.id, count)
        session.clear()
        flash(f"You have been signed out on every device ({count} session"
              f"{'s' if count != 1 else ''}).", "success")
        return redirect(url_for("auth.login"))

    @bp.get("/auth/csrf-token")
    @public
    def csrf_token():
        """The CSRF token for scripts of this site (send it as the X-CSRFToken header)."""
        return no_store(jsonify({"csrf_token": generate_csrf(), "header": "X-CSRFToken"}))
