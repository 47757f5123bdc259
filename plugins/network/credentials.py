"""Subscriber credentials on data services: PPPoE/hotspot login and DHCP identity.

Passwords are generated (or set by staff), stored sealed with the SDK's secrets keys —
reversibly, because CHAP needs the clear password to answer — and shown to staff only on
request, which the audit trail records.
"""
from __future__ import annotations

import re
import secrets as random

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.sdk import audit, db
from backhaul.sdk.instances import decrypt_json, encrypt_json

from .models import Credential

_USERNAME = re.compile(r"^[A-Za-z0-9._@+-]{3,64}$")
_MAC = re.compile(r"^([0-9a-f]{2}[:-]?){5}[0-9a-f]{2}$", re.I)


def normal_mac(value: str) -> str:
    if not _MAC.match(value.strip()):
        raise ValidationError({"mac": [f"'{value}' is not a MAC address (aa:bb:cc:dd:ee:ff)"]})
    digits = re.sub(r"[^0-9a-f]", "", value.lower())
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2))


def set_credentials(subscription_id: int, *, username: str | None = None,
                    password: str | None = None, mac: str | None = None,
                    device_id: int | None = None, circuit_id: str | None = None,
                    remote_id: str | None = None, vlan: int | None = None) -> Credential:
    """Create or update a service's credentials; a missing password is generated."""
    row = db.session.scalar(sa.select(Credential).where(
        Credential.subscription_id == subscription_id))
    if row is None:
        from backhaul.plugins.billing.api import get_subscription

        sub = get_subscription(subscription_id)
        if sub is None:
            raise ValidationError({"subscriptionId": [f"There is no subscription "
                                                      f"{subscription_id}."]})
        if sub.type_key != "data":
            raise ValidationError({"subscriptionId": [f"'{sub.service_name}' is not a data "
                                                      "service"]})
        row = Credential(subscription_id=subscription_id, account_id=sub.account_id,
                         secret="")
    if username is not None:
        username = username.strip()
        if not _USERNAME.match(username):
            raise ValidationError({"username": ["3-64 letters, digits and . _ @ + -"]})
        taken = db.session.scalar(sa.select(Credential.id).where(
            Credential.username == username, Credential.subscription_id != subscription_id))
        if taken:
            raise ValidationError({"username": [f"'{username}' is used by another service"]})
        row.username = username
    if mac is not None:
        mac = normal_mac(mac)
        taken = db.session.scalar(sa.select(Credential.id).where(
            Credential.mac == mac, Credential.subscription_id != subscription_id))
        if taken:
            raise ValidationError({"mac": [f"{mac} is used by another service"]})
        row.mac = mac
    if password is not None or not row.secret:
        password = password if password else random.token_urlsafe(12)
        if len(password) < 8 or len(password) > 128 or "\x00" in password:
            raise ValidationError({"password": ["8-128 characters"]})
        row.secret = encrypt_json({"password": password})
    previous_device = row.device_id
    row.device_id = device_id if device_id is not None else row.device_id
    row.circuit_id = circuit_id if circuit_id is not None else row.circuit_id
    row.remote_id = remote_id if remote_id is not None else row.remote_id
    if vlan is not None:  # 0 clears it
        if not 0 <= int(vlan) <= 4094:
            raise ValidationError({"vlan": ["an 802.1Q VLAN id, 1-4094 (0 for none)"]})
        row.vlan = int(vlan) or None
    db.session.add(row)
    db.session.flush()
    from .reconcile import enqueue_for_subscriptions  # the devices follow within seconds

    moved = {previous_device: {subscription_id}} if previous_device not in (
        None, row.device_id) else None
    enqueue_for_subscriptions({subscription_id}, moved)
    return row


def password_of(row: Credential) -> str:
    return decrypt_json(row.secret).get("password", "")


def reveal(row: Credential) -> str:
    """The password, for a staff member who asked to see it (recorded in the audit trail)."""
    audit.record("network.credential_revealed", "network_credential", row.id,
                 {"subscription_id": row.subscription_id})
    return password_of(row)
