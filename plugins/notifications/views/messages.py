"""The delivery log: every message (global list and detail), with retry and cancel."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for

from backhaul.sdk import db, permission_required
from backhaul.sdk.ui import Filter, list_page

from .. import delivery
from ..models import MESSAGE_STATUSES, ChannelConfig, Message
from .previews import html_response, not_found


def register(bp) -> None:
    @bp.get("/")
    @bp.get("/messages")
    @permission_required("notifications.messages.view")
    def messages():
        media = [(m, m) for m in db.session.scalars(
            sa.select(ChannelConfig.medium).distinct().order_by(ChannelConfig.medium))]
        page = list_page(
            sa.select(Message),
            sortable={"created": Message.created_at, "status": Message.status,
                      "attempts": Message.attempts},
            filters={"status": Filter(Message.status, "Status",
                                      [(s, s) for s in MESSAGE_STATUSES]),
                     "medium": Filter(Message.medium, "Medium", media),
                     "event": Filter(Message.event_key, "Event")},
            search=[Message.recipient, Message.subject, Message.event_key],
            default_sort="-created")
        return render_template("notifications/messages.html", page=page)

    @bp.get("/messages/<int:message_id>")
    @permission_required("notifications.messages.view")
    def message(message_id: int):
        return render_template("notifications/message.html", message=_get(message_id))

    @bp.get("/messages/<int:message_id>/preview.html")
    @permission_required("notifications.messages.view")
    def message_preview(message_id: int):
        """The message's HTML part, for the sandboxed frame of the message page."""
        msg = _get(message_id)
        if not msg.body_html:
            return not_found("This message has no HTML part.")
        return html_response(msg.body_html)

    @bp.post("/messages/<int:message_id>/retry")
    @permission_required("notifications.messages.manage")
    def retry(message_id: int):
        msg = _get(message_id)
        if delivery.retry_now(msg):
            db.session.commit()
            flash("The message is queued again.", "success")
        else:
            flash(f"A {msg.status} message cannot be retried.", "warning")
        return redirect(url_for(".message", message_id=message_id))

    @bp.post("/messages/<int:message_id>/cancel")
    @permission_required("notifications.messages.manage")
    def cancel(message_id: int):
        msg = _get(message_id)
        if delivery.cancel(msg):
            db.session.commit()
            flash("The message will not be sent.", "success")
        else:
            flash(f"A {msg.status} message cannot be cancelled.", "warning")
        return redirect(url_for(".message", message_id=message_id))


def _get(message_id: int) -> Message:
    msg = db.session.get(Message, message_id)
    if msg is None:
        abort(404)
    return msg
