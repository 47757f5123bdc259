"""CoA and Disconnect (RFC 5176): the business reaches the live session on its NAS, a NAS
listening on loopback that checks the secret and the Message-Authenticator."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from radius_helpers import NAS_SECRET, make_subscriber

from backhaul.plugins.radius.dictionary import dictionary
from backhaul.sdk import db
from backhaul.sdk.testing.radius import CoANas


@pytest.fixture
def nas():
    with CoANas(NAS_SECRET, dictionary()) as peer:
        yield peer


def _online(app, nas, session_id="S-9"):
    from backhaul.plugins.radius import accounting
    from backhaul.plugins.radius.graphql import set_nas_options

    account, sub, device = make_subscriber(app)
    set_nas_options(device.id, coa_port=nas.port)
    accounting.record(device.id, accounting.Update(
        status=accounting.START, session_id=session_id, username=f"pppoe{sub.id}",
        at=datetime.now(UTC), framed_ip="100.64.20.7"), subscription_id=sub.id,
        account_id=account.id)
    db.session.commit()
    return account, sub, device


def test_delinquency_disconnects_the_live_session_and_payment_changes_it_back(app, nas):
    from backhaul.plugins.radius import accounting
    from backhaul.plugins.radius.models import Session
    from backhaul.sdk.accounts import set_status

    account, sub, device = _online(app, nas)
    set_status(account, "delinquent", reason="delinquency")
    db.session.commit()  # the job sends the Disconnect-Request
    [request] = nas.wait_for(1)
    assert request["_code"] == "disconnect"
    assert request["Acct-Session-Id"] == ["S-9"] and request["User-Name"] == [f"pppoe{sub.id}"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(Session.coa_result)) == "disconnect-ack"

    # the NAS ends the session and the tenant is back (refused) — then pays
    accounting.record(device.id, accounting.Update(
        status=accounting.STOP, session_id="S-9", username=f"pppoe{sub.id}",
        at=datetime.now(UTC)), subscription_id=sub.id)
    accounting.record(device.id, accounting.Update(
        status=accounting.START, session_id="S-10", username=f"pppoe{sub.id}",
        at=datetime.now(UTC)), subscription_id=sub.id, account_id=account.id)
    db.session.commit()
    set_status(account, "active", reason="delinquency_cleared")
    db.session.commit()
    requests = nas.wait_for(2)
    assert [r["_code"] for r in requests] == ["disconnect", "coa"]
    assert requests[1]["Acct-Session-Id"] == ["S-10"]
    assert requests[1]["Mikrotik-Rate-Limit"] == ["20000k/100000k"]
    assert not nas.rejected


def test_a_throttled_subscriber_gets_a_coa_with_the_throttle_rate(make_app, temp_plugin,
                                                                   tmp_path, nas):
    from backhaul.sdk import PluginMeta
    from backhaul.sdk.accounts import set_status
    from backhaul.sdk.testing.provisioning import DirectoryBackend

    kit = temp_plugin("kit_devices", meta=PluginMeta(name="kit_devices"),
                      provisioning_backends=lambda: [DirectoryBackend()])
    application = make_app(plugins=["billing", "network", "radius"], extra_plugins=[kit],
                           plugin_settings={"network": {"delinquent_behaviour": "throttle",
                                                        "throttle_kbps": 512}})
    application.device_folder = tmp_path / "devices2"
    application.device_folder.mkdir()
    with application.app_context():
        account, _sub, _device = _online(application, nas)
        set_status(account, "delinquent", reason="delinquency")
        db.session.commit()
        [request] = nas.wait_for(1)
        assert request["_code"] == "coa" and request["Mikrotik-Rate-Limit"] == ["512k/512k"]


def test_a_nak_is_recorded_on_the_session(app):
    from backhaul.plugins.radius.models import Session
    from backhaul.sdk.accounts import set_status

    with CoANas(NAS_SECRET, dictionary(), nak=True) as refusing:
        account, _sub, _device = _online(app, refusing)
        set_status(account, "delinquent", reason="delinquency")
        db.session.commit()
        refusing.wait_for(1)
    db.session.expire_all()
    assert (db.session.scalar(sa.select(Session.coa_result)) or "").startswith("nak")
