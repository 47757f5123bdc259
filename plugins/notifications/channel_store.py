"""Configured channels: save with validated settings, keep secrets, one default per medium.

A channel's settings are a configured instance (``backhaul.sdk.instances``, owner
"notifications", kind "notification_channels"): validated by the channel type's own schema
when staff save them (never discovered wrong at send time), secret fields (SMTP password,
webhook secret, gateway token) encrypted at rest and kept when left blank on edit, so a form
never shows a secret back. This table adds what only notifications needs: the medium, the
default per medium, the rate limit.
"""
from __future__ import annotations

import sqlalchemy as sa
from marshmallow import Schema, ValidationError, fields, validate

from backhaul.sdk import DeliveryResult, db, registered
from backhaul.sdk.instances import InstanceInvalid, save_instance
from backhaul.sdk.instances import secret_fields as _secret_fields

from .channels import medium_of
from .models import ChannelConfig


class ChannelInvalid(ValueError):
    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


class ChannelSchema(Schema):
    name = fields.Str(required=True, validate=(
        validate.Length(min=1, max=100),
        validate.Regexp(r"^[^\x00]*$", error="must not contain a NUL character")))
    enabled = fields.Bool(load_default=True)
    is_default = fields.Bool(load_default=False)
    rate_limit_per_minute = fields.Int(load_default=0, validate=validate.Range(0, 100000))
    settings = fields.Dict(load_default=dict)


def channel_types() -> dict:
    return registered("notification_channels")


def secret_fields(channel) -> tuple[str, ...]:
    return _secret_fields(channel)


def save_channel(channel_key: str, data: dict, row: ChannelConfig | None = None,
                 ) -> ChannelConfig:
    """Create or update a channel configuration (caller commits); raises ChannelInvalid."""
    channel = channel_types().get(channel_key)
    if channel is None:
        raise ChannelInvalid({"channel_key": [f"unknown channel type '{channel_key}'"]})
    try:
        loaded = ChannelSchema().load(data)
    except ValidationError as exc:
        raise ChannelInvalid(exc.normalized_messages()) from None
    clash = db.session.scalar(sa.select(ChannelConfig.id).where(
        ChannelConfig.name == loaded["name"],
        ChannelConfig.id != (row.id if row is not None else -1)))
    if clash:
        raise ChannelInvalid({"name": [f"a channel named '{loaded['name']}' exists already"]})
    try:
        instance = save_instance("notification_channels", channel_key, owner="notifications",
                                 name=loaded["name"], settings=loaded["settings"],
                                 instance_id=row.instance_id if row is not None else None,
                                 enabled=loaded["enabled"])
    except InstanceInvalid as exc:
        raise ChannelInvalid(exc.errors) from None
    row = row or ChannelConfig(channel_key=channel_key, medium=medium_of(channel))
    row.instance_id = instance.id
    if loaded["is_default"]:
        db.session.execute(sa.update(ChannelConfig).where(
            ChannelConfig.medium == row.medium,
            ChannelConfig.id != (row.id or -1)).values(is_default=False))
    row.name, row.enabled = loaded["name"], loaded["enabled"]
    row.is_default, row.rate_limit_per_minute = loaded["is_default"], \
        loaded["rate_limit_per_minute"]
    db.session.add(row)
    db.session.flush()
    return row


def send_test(row: ChannelConfig, to: str) -> DeliveryResult:
    """The "send test" action: uses the saved settings, logs nothing, sends one message."""
    channel = channel_types().get(row.channel_key)
    if channel is None:
        return DeliveryResult(False, None, f"channel type '{row.channel_key}' is not available")
    tester = getattr(channel, "send_test", None)
    try:
        if tester is not None:
            return tester(row.settings, to)
        from backhaul.sdk import OutboundMessage

        return channel.send(OutboundMessage(to=(to,), subject="Backhaul test message",
                                            body_text="Test message from Backhaul."),
                            row.settings)
    except Exception as exc:
        return DeliveryResult(False, None, f"{type(exc).__name__}: {exc}")
