"""Demo data for ``backhaul demo load``: a (disabled) SMTP channel and a few templates.

The channel points at a local mail catcher (``localhost:1025``) and starts disabled, so the
demo sends nothing until someone enables it. Idempotent: existing rows are left alone.
"""
from __future__ import annotations

import sqlalchemy as sa

from backhaul.sdk import db

from .authoring import get_template, save_template
from .channel_store import save_channel
from .models import ChannelConfig

TEMPLATES = {
    "accounts.created": (
        "Welcome to {{ company.name }}",
        "Hello {{ contact.name }},\n\nwelcome! Your account number is {{ account.number }}."),
    "accounts.suspended": (
        "Your service is suspended",
        "Hello {{ contact.name }},\n\nthe service of account {{ account.number }} is "
        "{{ status.new }}. Please contact us to restore it."),
    "accounts.restored": (
        "Your service is back",
        "Hello {{ contact.name }},\n\nthe service of account {{ account.number }} is active "
        "again. Thank you!"),
}


def load() -> None:
    if db.session.scalar(sa.select(ChannelConfig.id).where(ChannelConfig.name == "Demo mail")) \
            is None:
        save_channel("email_smtp", {"name": "Demo mail", "enabled": False, "is_default": True,
                                    "settings": {"host": "localhost", "port": 1025,
                                                 "security": "none",
                                                 "from_address": "noreply@example.net",
                                                 "from_name": "Backhaul demo ISP"}})
    for event_key, (subject, body) in TEMPLATES.items():
        if get_template(event_key, "email") is None:
            save_template(event_key, "email", {"subject": subject, "body_text": body},
                          actor="demo")
