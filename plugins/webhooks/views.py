"""The webhooks page: the events, an example payload each, and the endpoints subscribed."""
from __future__ import annotations

import json

from flask import Blueprint, render_template

from backhaul.sdk import may, permission_required

from .events import BY_KEY, EVENTS

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks", template_folder="templates")


@bp.get("/")
@permission_required("webhooks.view")
def index():
    from backhaul.plugins.notifications.api import webhook_endpoints

    envelope = json.dumps({"id": "<one per event and endpoint, the same on every retry>",
                           "event": "payment.received", "created_at": "2026-12-07T06:00:00+00:00",
                           "account": {"id": 12, "number": "A000012"},
                           "data": BY_KEY["payment.received"].example}, indent=2)
    examples = {e.key: json.dumps(e.example) for e in EVENTS}
    return render_template("webhooks/index.html", events=EVENTS, examples=examples,
                           envelope=envelope,
                           endpoints=webhook_endpoints(),
                           can_manage=may("notifications.channels.manage"),
                           can_log=may("notifications.channels.view"))
