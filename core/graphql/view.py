"""``/graphql``: POST runs a query (session cookie or Bearer token), GET serves the explorer.

Each POST counts against its principal's rate limit (:mod:`.ratelimit`); the response says
where the caller stands in ``RateLimit-*`` headers, and past the limit it is a 429 with
``Retry-After``.

The explorer (``templates/graphql/explorer.html`` with ``static/explorer.js`` and
``explorer.css``) is our own small page inside the staff layout, for signed-in staff holding
``core.graphql.explore``. Everything it needs is served from this blueprint, so it works on a
machine without internet access and under the app's Content-Security-Policy (no inline script
or style). Its POSTs send the session cookie and the page's CSRF token as ``X-CSRFToken``
(token requests need no CSRF token).
"""
from __future__ import annotations

import json
import logging

from flask import Blueprint, current_app, jsonify, render_template, request

from backhaul.core.auth.decorators import login_required, permission_required
from backhaul.core.auth.identity import current_principal

from .execution import Context, request_error, run

log = logging.getLogger("backhaul.graphql")


def create_blueprint() -> Blueprint:
    bp = Blueprint("graphql", __name__, template_folder="templates", static_folder="static",
                   static_url_path="/graphql/static")

    @bp.post("/graphql")
    @login_required
    def execute_query():
        raw = request.get_data(cache=False)
        try:
            body = json.loads(raw) if raw else None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            detail = f" ({exc.msg} at line {exc.lineno} column {exc.colno})" \
                if isinstance(exc, json.JSONDecodeError) else ""
            return jsonify(errors=[request_error(
                f"Malformed JSON body{detail}: send a JSON object such as "
                '{"query": "{ viewer { email } }", "variables": {}}.')]), 400
        state = current_app.extensions["backhaul.graphql"]
        principal = current_principal()
        decision = _rate_decision(state, principal)
        if decision is not None and not decision.allowed:
            return jsonify(errors=[request_error(
                f"Too many requests: this token may send {decision.limit} per "
                f"{decision.window} s. Try again in {decision.reset} s.", "RATE_LIMITED")]), \
                429, decision.headers()
        context = Context(principal=principal, request=request)
        status, response, operation = run(state.schema, body, context, state.limits)
        _finish_transaction(operation, response)
        return _json(response, status, decision.headers() if decision else {})

    @bp.get("/graphql")
    @permission_required("core.graphql.explore")
    def explorer():
        return render_template("graphql/explorer.html")

    @bp.get("/graphql/reference")
    @permission_required("core.graphql.explore")
    def reference():
        from .reference import reference as build_reference

        schema = current_app.extensions["backhaul.graphql"].schema
        return render_template("graphql/reference.html", types=build_reference(schema))

    return bp


def _json(body: dict, status: int, headers: dict):
    """The GraphQL response as compact JSON, its keys in the order of the query (as the
    GraphQL spec asks; Flask's ``jsonify`` would sort them, which costs time on a large
    page). Resolved values are JSON types already: leaves went through their scalar's
    ``serialize``."""
    return current_app.response_class(
        json.dumps(body, separators=(",", ":"), default=current_app.json.default) + "\n",
        status=status, headers=headers, mimetype="application/json")


def _rate_decision(state, principal):
    """Count this request against its principal's limit (``None``: no limit applies)."""
    from .ratelimit import principal_key

    limiter = state.rate_limiter
    key = principal_key(principal)
    if limiter is None or not limiter.enabled or key is None:
        return None
    return limiter.hit(key)


def _finish_transaction(operation, response: dict) -> None:
    """A mutation request is one transaction: committed when no field failed. A query never
    writes (whatever it touched is rolled back)."""
    from graphql import OperationType

    from backhaul.core.db import db

    if operation is OperationType.MUTATION and not response.get("errors"):
        try:
            db.session.commit()
            return
        except Exception as exc:  # a constraint at commit: nothing was saved, say so
            db.session.rollback()
            response.setdefault("errors", []).append(
                {"message": f"the change could not be saved ({type(exc).__name__})",
                 "extensions": {"code": "ROLLED_BACK"}})
    else:
        db.session.rollback()
    if operation is OperationType.MUTATION:
        _withdraw_success(response)


ROLLED_BACK = ("Nothing was saved: another part of this request failed (see the errors); "
               "fix it and send the request again.")


def _withdraw_success(response: dict) -> None:
    """After a rollback no payload may still say ``ok: true`` (issue 11 #7: a payment
    answered ok and vanished). Each such payload becomes ``ok: false`` with a reason."""
    for payload in (response.get("data") or {}).values():
        if isinstance(payload, dict) and payload.get("ok") is True:
            payload["ok"] = False
            if isinstance(payload.get("errors"), list):
                payload["errors"].append({"field": "_schema", "messages": [ROLLED_BACK]})
