"""My profile: password, two-factor enrolment, my sessions and my API tokens.

Every page here needs a browser session (``@session_required``): an API token must never
change a password, enrol a second factor or create further tokens.
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from ..db import db, utcnow
from . import sessions, tokens, totp, users
from .decorators import session_required
from .identity import current_principal, known_permissions
from .models import ApiToken
from .roles import is_read_permission
from .schemas import CodeSchema, PasswordChangeSchema, PasswordSchema, TokenSchema, form_data
from .views import no_store


def _me():
    return current_principal().user


def _profile_page(errors=None, status=200, **extra):
    principal = current_principal()
    context = dict(user=principal.user, sessions=sessions.live_sessions(principal.user),
                   current_session=principal.session, permissions=sorted(principal.permissions),
                   errors=errors or {}, min_length=current_app.config["AUTH_PASSWORD_MIN_LENGTH"])
    from . import staff

    context.update(time_zone=staff.zone_name_of(principal.user),
                   own_zone=(staff.setting(principal.user) or None) and
                   staff.setting(principal.user).time_zone,
                   isp_zone=staff.isp_zone_name(),
                   zone_options=[(z, z) for z in staff.common_zones()],
                   must_change=staff.must_change_password(principal.user))
    context.update(extra)
    return render_template("auth/profile.html", **context), status


def _tokens_page(errors=None, values=None, created=None, status=200):
    principal = current_principal()
    held = sorted(principal.permissions)
    page = render_template("auth/my_tokens.html", tokens=tokens.tokens_of(principal.user),
                           status_of=tokens.status, errors=errors or {}, values=values or {},
                           created=created, permissions=held, is_read=is_read_permission)
    return no_store((page, status))


def _password_problem(user):
    """The profile page with an error unless the form carries the right current password
    (turning two-factor on or off must not be possible with a borrowed session alone)."""
    try:
        data = PasswordSchema().load(form_data(request.form))
    except ValidationError as exc:
        return _profile_page({"totp_password": exc.messages["current_password"]}, 400)
    from .reauth import ReauthFailed, confirm_current_password

    try:
        confirm_current_password(user, data["current_password"])
    except ReauthFailed as exc:
        exc.record_and_commit()
        if exc.ended:
            flash(str(exc), "error")
            return redirect(url_for("auth.login"))
        return _profile_page({"totp_password": [str(exc)]}, 400)
    return None


def register(bp: Blueprint) -> None:
    @bp.get("/auth/profile")
    @session_required
    def profile():
        return _profile_page()

    @bp.post("/auth/profile/password")
    @session_required
    def change_password():
        principal = current_principal()
        try:
            data = PasswordChangeSchema().load(form_data(request.form))
            revoked = users.change_own_password(
                principal.user, data["current_password"], data["new_password"],
                current_app.config["AUTH_PASSWORD_MIN_LENGTH"], keep=principal.session)
        except ValidationError as exc:
            return _profile_page(exc.messages, 400)
        except users.UserError as exc:
            db.session.rollback()
            return _profile_page({exc.field: [str(exc)]}, 400)
        from .staff import require_password_change

        require_password_change(principal.user, False)
        db.session.commit()
        current_app.logger.info("user %s changed their password", principal.user.id)
        flash("Your password was changed" + (f"; {revoked} other session(s) were signed out."
                                             if revoked else "."), "success")
        return redirect(url_for("auth.profile"))

    @bp.post("/auth/profile/time-zone")
    @session_required
    def set_time_zone():
        from .staff import set_time_zone as save_zone

        try:
            zone = save_zone(_me(), request.form.get("time_zone", ""))
        except ValidationError as exc:
            db.session.rollback()
            return _profile_page(exc.messages, 400)
        db.session.commit()
        flash(f"Times are now shown in {zone or 'the ISP' + chr(39) + 's time zone'}.", "success")
        return redirect(url_for("auth.profile"))

    @bp.post("/auth/profile/totp/start")
    @session_required
    def totp_start():
        user = _me()
        if user.totp_enabled:
            flash("Two-factor sign-in is already on. Turn it off first to enrol a new app.",
                  "warning")
            return redirect(url_for("auth.profile"))
        problem = _password_problem(user)
        if problem is not None:
            return problem
        seed, uri = totp.start_enrolment(user, current_app.secret_key)
        db.session.commit()
        return no_store(render_template("auth/totp_enrol.html", seed=seed, uri=uri, errors={}))

    @bp.post("/auth/profile/totp/confirm")
    @session_required
    def totp_confirm():
        user = _me()
        if user.totp_enabled or not user.totp_secret:
            return redirect(url_for("auth.profile"))
        try:
            data = CodeSchema().load(form_data(request.form))
        except ValidationError as exc:
            return no_store((render_template("auth/totp_enrol.html", seed=None, uri=None,
                                             errors=exc.messages), 400))
        if not totp.confirm_enrolment(user, data["code"], current_app.secret_key):
            db.session.commit()
            return no_store((render_template(
                "auth/totp_enrol.html", seed=None, uri=None,
                errors={"code": ["The code is not correct. Check the time on your phone, "
                                 "or start again to get a new key."]}), 400))
        db.session.commit()
        current_app.logger.info("user %s turned two-factor sign-in on", user.id)
        flash("Two-factor sign-in is on: you will be asked for a code at every sign-in.",
              "success")
        return redirect(url_for("auth.profile"))

    @bp.post("/auth/profile/totp/disable")
    @session_required
    def totp_disable():
        user = _me()
        problem = _password_problem(user)
        if problem is not None:
            return problem
        totp.disable(user)
        db.session.commit()
        current_app.logger.info("user %s turned two-factor sign-in off", user.id)
        flash("Two-factor sign-in is off.", "success")
        return redirect(url_for("auth.profile"))

    @bp.route("/auth/profile/tokens", methods=["GET", "POST"])
    @session_required
    def my_tokens():
        if request.method == "GET":
            return _tokens_page()
        raw = form_data(request.form, lists=("permissions",))
        try:
            data = TokenSchema().load(raw)
            expires = (utcnow() + timedelta(days=data["expires_in_days"])
                       if data["expires_in_days"] else None)
            plaintext, row = tokens.create(
                _me(), data["name"], data["scope"], data["permissions"],
                known=known_permissions(), expires_at=expires, networks=data["networks"])
        except ValidationError as exc:
            return _tokens_page(exc.messages, raw, status=400)
        except tokens.TokenError as exc:
            db.session.rollback()
            return _tokens_page({"_schema": [str(exc)]}, raw, status=400)
        db.session.commit()
        current_app.logger.info("user %s created API token %s (%s)", row.user_id, row.id,
                                row.scope)
        return _tokens_page(created=(plaintext, row), status=201)

    @bp.post("/auth/profile/tokens/<int:token_id>/revoke")
    @session_required
    def my_token_revoke(token_id: int):
        token = db.session.get(ApiToken, token_id)
        if token is None or token.user_id != _me().id:
            abort(404)
        tokens.revoke(token)
        db.session.commit()
        current_app.logger.info("user %s revoked API token %s", token.user_id, token.id)
        flash(f"The token '{token.name}' was revoked.", "success")
        return redirect(url_for("auth.my_tokens"))
