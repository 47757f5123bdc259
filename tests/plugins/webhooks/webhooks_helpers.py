"""Helpers of the webhooks tests: an endpoint, the receiver's signature check, events."""
from __future__ import annotations

import hashlib
import hmac
import time
from datetime import date

from backhaul.sdk import db

SECRET = "whsec_integrator_0123456789"


def subscribe(url: str, events: list[str], name: str = "ERP"):
    from backhaul.plugins.notifications.channel_store import save_channel

    row = save_channel("webhook", {"name": name, "settings": {
        "url": url, "secret": SECRET, "events": events}})
    db.session.commit()
    return row


def check_signature(request: dict, secret: str = SECRET, tolerance: int = 300) -> int:
    """What an integrator's receiver does (Stripe's scheme): returns the signed time."""
    headers = {k.lower(): v for k, v in request["headers"].items()}
    parts = dict(item.split("=", 1) for item in headers["x-backhaul-signature"].split(","))
    signed = f"{parts['t']}.".encode() + request["body"]
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"]), "bad signature"
    assert abs(time.time() - int(parts["t"])) <= tolerance, "stale timestamp (a replay?)"
    return int(parts["t"])


def bill_and_pay():
    from backhaul.plugins.billing import catalogue, ledger, run
    from backhaul.plugins.billing import subscriptions as subs
    from backhaul.sdk.accounts import create_account

    fiber = catalogue.create_service("Fiber 100", "recurring", "50.00", currency="USD")
    account = create_account(name="Dora Data")
    db.session.commit()
    sub = subs.subscribe(account.id, service=fiber, start_date=date(2026, 3, 1))
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    ledger.record_payment(account.id, "50.00", method="bank_transfer")
    db.session.commit()
    return account, sub
