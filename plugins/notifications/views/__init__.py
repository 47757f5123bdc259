"""Staff pages (``/notifications/...``) and the public unsubscribe page.

Each module registers its routes on the plugin's blueprint; every staff view checks a
permission. The blueprints are built per app (Flask refuses to set up a blueprint twice).
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Blueprint, url_for

from backhaul.sdk import TimelineEntry, db

from ..models import Message

TEMPLATE_FOLDER = str(Path(__file__).resolve().parent.parent / "templates")


def build_blueprints(app) -> list[Blueprint]:
    from . import channels, messages, notices, previews, public, templates

    bp = Blueprint("notifications", __name__, url_prefix="/notifications",
                   template_folder=TEMPLATE_FOLDER)
    for module in (messages, templates, channels, notices, previews):
        module.register(bp)
    public_bp = Blueprint("notifications_public", __name__, url_prefix="/notifications",
                          template_folder=TEMPLATE_FOLDER)
    public.register(public_bp)
    return [bp, public_bp]


STATUS_WORDS = {"queued": "queued", "sending": "sending", "sent": "sent",
                "failed": "failed", "cancelled": "cancelled"}


def timeline_entries(account, limit: int) -> list[TimelineEntry]:
    """The account's messages for its timeline, newest first, with their delivery status."""
    rows = db.session.scalars(sa.select(Message).where(Message.account_id == account.id)
                              .order_by(Message.created_at.desc(), Message.id.desc())
                              .limit(limit))
    out = []
    for m in rows:
        what = m.subject or m.event_key
        body = f"To {m.recipient}"
        if m.status in ("queued", "failed") and m.last_error:
            body += f" — {m.last_error}"
        try:
            url = url_for("notifications.message", message_id=m.id)
        except RuntimeError:  # no request context (a job building a timeline)
            url = None
        out.append(TimelineEntry(at=m.sent_at or m.created_at, kind="notification",
                                 title=f"{m.medium.capitalize()} {STATUS_WORDS[m.status]}: {what}",
                                 body=body, url=url,
                                 meta={"status": m.status, "medium": m.medium,
                                       "event": m.event_key, "attempts": m.attempts},
                                 permission="notifications.messages.view"))
    return out
