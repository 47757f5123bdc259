"""Administration: users (``auth.users.manage``), roles (``auth.roles.manage``) and every
user's API tokens (``auth.tokens.manage``).

Nobody hands out more than they hold: a user manager who is not an administrator can only
assign roles, and edit users, within their own permissions (:mod:`.roles`).
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from ..db import db, utcnow
from . import roles as rolelib
from . import sessions, tokens, totp, users
from .decorators import permission_required, session_required
from .identity import current_principal, known_permissions
from .models import ApiToken, Role, User
from .reauth import ReauthFailed, confirm_current_password
from .schemas import RoleSchema, UserSchema, form_data
from .security import audit
from .throttle import unlock

USERS, ROLES, TOKENS = "auth.users.manage", "auth.roles.manage", "auth.tokens.manage"


def _granter():
    principal = current_principal()
    return principal.permissions, principal.is_superuser


def _all_roles() -> list[Role]:
    rolelib.ensure_builtin_roles()
    return list(db.session.scalars(sa.select(Role).order_by(Role.is_superuser.desc(), Role.name)))


def _get(model, ident):
    row = db.session.get(model, ident)
    if row is None:
        abort(404)
    return row


def _grouped_permissions() -> list[tuple[str, list]]:
    """Known permissions grouped by the plugin that declared them (for checkbox lists)."""
    groups: dict[str, list] = {}
    for plugin, permission in current_app.extensions["backhaul.contributions"].owned(
            "permissions"):
        groups.setdefault(plugin, []).append(permission)
    return [(plugin, sorted(perms, key=lambda p: p.name)) for plugin, perms in groups.items()]


def _manageable(user: User) -> None:
    held, is_super = _granter()
    rolelib.check_may_manage(user, held, is_super, known_permissions())


def _step_up(password: str | None) -> None:
    """The acting administrator's current password (see :mod:`.reauth`)."""
    confirm_current_password(current_principal().user, password)


def _user_form(user: User | None, errors=None, values=None, status=200):
    return render_template("auth/user_form.html", user=user, roles=_all_roles(),
                           errors=errors or {}, values=values or {}, status_of=tokens.status,
                           min_length=current_app.config["AUTH_PASSWORD_MIN_LENGTH"]), status


def _apply_user(user: User | None, data: dict) -> User:
    """Create or update a user from validated form data; raises Role/UserError."""
    held, is_super = _granter()
    known = known_permissions()
    chosen = [r for r in _all_roles() if r.id in set(data["roles"])]
    newly = [r for r in chosen if user is None or r not in user.roles]
    rolelib.check_may_assign(newly, held, is_super, known)
    min_length = current_app.config["AUTH_PASSWORD_MIN_LENGTH"]
    if user is None:
        if not data.get("password"):
            raise users.UserError("Set an initial password.", "password")
        return users.create_user(data["email"], data["name"], data["password"], chosen,
                                 min_length, is_active=data["is_active"])
    _manageable(user)
    rolelib.check_keeps_an_administrator(user, data["is_active"], chosen)
    if users.email_taken(data["email"], exclude=user):
        raise users.UserError("A user with this e-mail address exists already.", "email")
    user.email, user.name, user.roles = data["email"].strip().lower(), data["name"], chosen
    if user.is_active != data["is_active"]:
        users.set_active(user, data["is_active"])
    if data.get("password"):
        users.set_password(user, data["password"], min_length)
    return user


def apply_role(role: Role | None, data: dict) -> Role:
    """Create (``role=None``) or update a role from validated data; raises RoleError."""
    held, is_super = _granter()
    if role is not None:  # nobody edits a role that grants more than they hold
        rolelib.check_may_assign([role], held, is_super, known_permissions())
    name_clash = db.session.scalar(sa.select(Role.id).where(
        Role.name == data["name"].strip(), Role.id != (role.id if role else -1)))
    if name_clash:
        raise rolelib.RoleError("A role with this name exists already.")
    if role is None:
        role = Role(name=data["name"].strip())
        db.session.add(role)
    elif role.builtin and data["name"].strip() != role.name:
        raise rolelib.RoleError("The built-in role cannot be renamed.")
    role.name, role.description = data["name"].strip(), data["description"]
    rolelib.set_role_permissions(role, data["permissions"], known_permissions(),
                                 None if is_super else held)
    return role


def register(bp: Blueprint) -> None:
    # ------------------------------------------------------------------------ users
    @bp.get("/auth/users")
    @permission_required(USERS)
    @session_required
    def users_list():
        return render_template("auth/users.html", users=users.all_users(), now=utcnow())

    @bp.route("/auth/users/new", methods=["GET", "POST"])
    @permission_required(USERS)
    @session_required
    def user_new():
        if request.method == "GET":
            return _user_form(None, values={"is_active": True})
        raw = form_data(request.form, lists=("roles",))
        try:
            user = _apply_user(None, UserSchema().load(raw))
        except ValidationError as exc:
            return _user_form(None, exc.messages, raw, 400)
        except (users.UserError, rolelib.RoleError) as exc:
            db.session.rollback()
            return _user_form(None, {getattr(exc, "field", "_schema"): [str(exc)]}, raw, 400)
        db.session.commit()
        flash(f"User {user.email} was created.", "success")
        return redirect(url_for("auth.user_edit", user_id=user.id))

    @bp.route("/auth/users/<int:user_id>", methods=["GET", "POST"])
    @permission_required(USERS)
    @session_required
    def user_edit(user_id: int):
        user = _get(User, user_id)
        if request.method == "GET":
            return _user_form(user)
        raw = form_data(request.form, lists=("roles",))
        try:
            if raw.get("password"):  # someone else's credential: the admin's own password
                _step_up(raw.pop("current_password", None))
            _apply_user(user, UserSchema().load(raw))
        except ValidationError as exc:
            return _user_form(user, exc.messages, raw, 400)
        except (users.UserError, rolelib.RoleError, ReauthFailed) as exc:
            db.session.rollback()
            if isinstance(exc, ReauthFailed):
                exc.record_and_commit()
            if getattr(exc, "ended", False):
                flash(str(exc), "error")
                return redirect(url_for("auth.login"))
            return _user_form(_get(User, user_id), {getattr(exc, "field", "_schema"): [str(exc)]},
                              raw, 400)
        db.session.commit()
        flash(f"User {user.email} was saved.", "success")
        return redirect(url_for("auth.user_edit", user_id=user.id))

    def _user_action(user_id: int, action, done: str, step_up: bool = False):
        user = _get(User, user_id)
        try:
            if step_up:
                _step_up(request.form.get("current_password"))
            _manageable(user)
            action(user)
        except (rolelib.RoleError, ReauthFailed) as exc:
            db.session.rollback()
            if isinstance(exc, ReauthFailed):
                exc.record_and_commit()
            flash(str(exc), "error")
            if getattr(exc, "ended", False):
                return redirect(url_for("auth.login"))
            return redirect(url_for("auth.user_edit", user_id=user_id))
        db.session.commit()
        current_app.logger.info("%s: %s (user %s)", current_principal().actor, done, user.id)
        flash(f"{user.email}: {done}.", "success")
        return redirect(url_for("auth.user_edit", user_id=user.id))

    @bp.post("/auth/users/<int:user_id>/deactivate")
    @permission_required(USERS)
    @session_required
    def user_deactivate(user_id: int):
        def act(user):
            rolelib.check_keeps_an_administrator(user, False, user.roles)
            users.set_active(user, False)
        return _user_action(user_id, act, "deactivated and signed out")

    @bp.post("/auth/users/<int:user_id>/activate")
    @permission_required(USERS)
    @session_required
    def user_activate(user_id: int):
        return _user_action(user_id, lambda u: users.set_active(u, True), "activated")

    @bp.post("/auth/users/<int:user_id>/unlock")
    @permission_required(USERS)
    @session_required
    def user_unlock(user_id: int):
        return _user_action(user_id, unlock, "sign-in unlocked")

    @bp.post("/auth/users/<int:user_id>/sign-out")
    @permission_required(USERS)
    @session_required
    def user_sign_out(user_id: int):
        def act(user):
            count = sessions.revoke_all(user, "signed out by admin")
            audit("auth.signed_out_everywhere", user.id, sessions=count, by_admin=True)
        return _user_action(user_id, act, "signed out everywhere")

    @bp.post("/auth/users/<int:user_id>/reset-2fa")
    @permission_required(USERS)
    @session_required
    def user_reset_totp(user_id: int):
        return _user_action(user_id, totp.disable, "two-factor sign-in turned off",
                            step_up=True)

    # ------------------------------------------------------------------------ roles
    def _role_form(role: Role | None, errors=None, values=None, status=200):
        chosen = set(values["permissions"]) if values and "permissions" in values else (
            role.permission_names if role else set())
        return render_template("auth/role_form.html", role=role, groups=_grouped_permissions(),
                               chosen=chosen, errors=errors or {}, values=values or {}), status

    def _save_role(role: Role | None):
        raw = form_data(request.form, lists=("permissions",))
        try:
            role = apply_role(role, RoleSchema().load(raw))
        except ValidationError as exc:
            return _role_form(role, exc.messages, raw, 400)
        except rolelib.RoleError as exc:
            db.session.rollback()
            return _role_form(role if role is None or role.id else None,
                              {"_schema": [str(exc)]}, raw, 400)
        db.session.commit()
        flash(f"Role {role.name} was saved.", "success")
        return redirect(url_for("auth.roles"))

    @bp.get("/auth/roles")
    @permission_required(ROLES)
    @session_required
    def roles():
        roles, known = _all_roles(), known_permissions()
        granted = {r.id: len(r.permission_names & known) for r in roles}
        return render_template("auth/roles.html", roles=roles, granted=granted)

    @bp.route("/auth/roles/new", methods=["GET", "POST"])
    @permission_required(ROLES)
    @session_required
    def role_new():
        return _role_form(None) if request.method == "GET" else _save_role(None)

    @bp.route("/auth/roles/<int:role_id>", methods=["GET", "POST"])
    @permission_required(ROLES)
    @session_required
    def role_edit(role_id: int):
        role = _get(Role, role_id)
        return _role_form(role) if request.method == "GET" else _save_role(role)

    @bp.post("/auth/roles/<int:role_id>/delete")
    @permission_required(ROLES)
    @session_required
    def role_delete(role_id: int):
        role = _get(Role, role_id)
        try:
            held, is_super = _granter()
            rolelib.check_may_assign([role], held, is_super, known_permissions())
            rolelib.delete_role(role)
        except rolelib.RoleError as exc:
            flash(str(exc), "error")
            return redirect(url_for("auth.role_edit", role_id=role_id))
        db.session.commit()
        flash(f"Role {role.name} was deleted.", "success")
        return redirect(url_for("auth.roles"))

    # ------------------------------------------------------------------------ tokens
    @bp.get("/auth/tokens")
    @permission_required(TOKENS)
    @session_required
    def tokens_admin():
        return render_template("auth/tokens_admin.html", tokens=tokens.tokens_of(),
                               status_of=tokens.status)

    @bp.post("/auth/tokens/<int:token_id>/revoke")
    @permission_required(TOKENS)
    @session_required
    def token_revoke(token_id: int):
        token = _get(ApiToken, token_id)
        tokens.revoke(token)
        db.session.commit()
        current_app.logger.info("%s revoked API token %s of user %s", current_principal().actor,
                                token.id, token.user_id)
        flash(f"Token '{token.name}' of {token.user.email} was revoked.", "success")
        return redirect(url_for("auth.tokens_admin"))
