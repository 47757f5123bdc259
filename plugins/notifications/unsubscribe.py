"""Unsubscribe links: a signed token per contact, category and medium; no login needed.

The token is signed with the app's secret key (itsdangerous), so it cannot be forged or
pointed at another contact, and it does not expire: a link in a year-old e-mail still works.
Unsubscribing turns the contact's preference for that category and medium off (through the
account kernel's ``update_contact``) and records when it happened. Essential messages never
carry a link and ignore preferences, so unsubscribing cannot silence them.
"""
from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from backhaul.sdk import current_plugin_settings, db

from .models import Unsubscribe

SALT = "backhaul.notifications.unsubscribe"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def make_token(contact_id: int, category: str, medium: str) -> str:
    return _serializer().dumps({"c": contact_id, "k": category, "m": medium})


def read_token(token: str) -> dict | None:
    """``{"contact_id", "category", "medium"}``, or ``None`` for a forged or mangled token."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not isinstance(data, dict) or not {"c", "k", "m"} <= set(data):
        return None
    return {"contact_id": data["c"], "category": data["k"], "medium": data["m"]}


def url(contact_id: int, category: str, medium: str) -> str:
    base = current_plugin_settings("notifications").get("public_url", "").rstrip("/")
    return f"{base}/notifications/unsubscribe/{make_token(contact_id, category, medium)}"


def apply(contact, category: str, medium: str) -> bool:
    """Turn the preference off. ``False`` when it already was (a second click changes nothing)."""
    from backhaul.sdk.accounts import update_contact

    if not contact.wants(category, medium):
        return False
    update_contact(contact, {"preferences": {category: {medium: False}}})
    db.session.add(Unsubscribe(contact_id=contact.id, account_id=contact.account_id,
                               category=category, medium=medium))
    db.session.flush()
    return True
