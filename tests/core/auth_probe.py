"""An in-test plugin with routes guarded each way, for the auth tests.

``/probe/view`` needs ``probe.thing.view``; ``/probe/edit`` (POST) needs ``probe.thing.edit``
and records a row, so a refused request can be shown to have changed nothing;
``/probe/open`` has no decorator (default deny must still apply); ``/probe/public`` is public;
``/probe/whoami`` (login only) reports the principal and the current actor.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from backhaul.core.actor import current_actor
from backhaul.core.auth.decorators import login_required, public
from backhaul.core.auth.identity import current_principal
from backhaul.sdk import Permission, permission_required
from backhaul.sdk.testing import make_plugin

PERMISSIONS = ("probe.thing.view", "probe.thing.edit", "probe.other.view")
EDITS: list[str] = []


def _permissions():
    return [Permission(name, f"probe permission {name}") for name in PERMISSIONS]


def _register_blueprints(app):
    bp = Blueprint("probe", __name__, url_prefix="/probe")

    @bp.get("/view")
    @permission_required("probe.thing.view")
    def view():
        return jsonify(ok=True)

    @bp.post("/edit")
    @permission_required("probe.thing.edit")
    def edit():
        EDITS.append(str(current_actor()))
        return jsonify(ok=True)

    @bp.route("/open", methods=["GET", "POST"])
    def open_route():
        return jsonify(ok=True)

    @bp.get("/public")
    @public
    def public_route():
        return jsonify(ok=True, authenticated=current_principal().is_authenticated)

    @bp.get("/whoami")
    @login_required
    def whoami():
        principal = current_principal()
        return jsonify(kind=principal.kind, email=principal.user.email,
                       permissions=sorted(principal.permissions), actor=str(current_actor()),
                       actor_kind=current_actor().kind)

    return [bp]


def probe_plugin():
    return make_plugin("probe", permissions=_permissions,
                       register_blueprints=_register_blueprints)
