"""``backhaul secrets rotate`` re-encrypts every sealed column, whichever plugin owns it.

Plugins keep ``encrypt_json`` tokens in their own tables (a router's password and RADIUS
secret, a subscriber's PPPoE password, SNMPv3 keys, an IMAP password). Once rotation ran, the
old key is removed from ``SECRETS_KEYS`` — so a token rotation missed becomes unreadable
for good. Here: tokens written with the old key in every sealed table, rotation with
``new,old``, then an app holding only the new key reads all of them; and a token no key can
read stops the rotation with nothing changed anywhere.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from backhaul.sdk import db
from backhaul.sdk.instances import decrypt_json, encrypt_json, save_instance
from backhaul.sdk.testing import run_cli

OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))
PLUGINS = ["billing", "network", "poller", "tickets", "notifications"]
ROOT = Path(__file__).resolve().parents[2]


def _seed(values: dict[str, dict]) -> None:
    from backhaul.plugins.network.models import Credential, Device
    from backhaul.plugins.poller.models import Template
    from backhaul.plugins.tickets.models import Group, ImapMailbox, InboundAddress

    device = Device(name="bng-1", backend="testkit.directory", host="127.0.0.1",
                    secrets=encrypt_json(values["network_device"]))
    db.session.add(device)
    db.session.flush()
    db.session.add(Credential(subscription_id=1, account_id=1, device_id=device.id,
                              username="tenant", secret=encrypt_json(values["network_credential"])))
    db.session.add(Template(name="v3", snmp_version="3", v3_user="mon",
                            secrets=encrypt_json(values["poller_template"])))
    group = Group(name="Support")
    db.session.add(group)
    db.session.flush()
    address = InboundAddress(address="support@isp.example", group_id=group.id)
    db.session.add(address)
    db.session.flush()
    db.session.add(ImapMailbox(name="hosted", host="imap.isp.example", username="support",
                               inbound_address_id=address.id,
                               secrets=encrypt_json(values["tickets_imap_mailbox"])))
    save_instance("notification_channels", "webhook", owner="notifications", name="Hook",
                  settings={"url": "https://example.net/h", "secret": "0123456789abcdef"})
    db.session.commit()


COLUMNS = {"network_device": "secrets", "network_credential": "secret",
           "poller_template": "secrets", "tickets_imap_mailbox": "secrets",
           "core_extension_instance": "secrets"}
VALUES = {"network_device": {"password": "router-pw-1", "radius_secret": "nas-secret-2"},
          "network_credential": {"password": "tenant-pw-3"},
          "poller_template": {"community": "c0mmunity-7", "auth_key": "auth-key-4444",
                              "priv_key": "priv-key-5555"},
          "tickets_imap_mailbox": {"password": "imap-pw-6"}}


def _tokens() -> dict[str, str]:
    return {table: db.session.execute(sa.text(f"SELECT {column} FROM {table}")).scalar_one()
            for table, column in COLUMNS.items()}


def test_rotation_reaches_every_plugins_sealed_columns(make_app):
    app = make_app(plugins=PLUGINS, secrets_keys=OLD)
    with app.app_context():
        _seed(VALUES)
        before = _tokens()
    result = run_cli(make_app(plugins=PLUGINS, secrets_keys=f"{NEW},{OLD}"), "secrets", "rotate")
    assert result.exit_code == 0, result.output
    for table in COLUMNS:
        assert f"{table}: 1 row(s) re-encrypted" in result.output
    only_new = make_app(plugins=PLUGINS, secrets_keys=NEW)
    with only_new.app_context():
        after = _tokens()
        assert all(after[t] != before[t] for t in COLUMNS), "every token was rewritten"
        for table, values in VALUES.items():
            assert decrypt_json(after[table]) == values, table
        assert decrypt_json(after["core_extension_instance"])["secret"] == "0123456789abcdef"
        logged = db.session.execute(sa.text(
            "SELECT changes FROM audit_entry WHERE action = 'secrets.rotated'")).scalars().all()
        assert len(logged) == 1
        assert all(v["password"] not in str(logged) for v in VALUES.values() if "password" in v)


def test_a_token_no_key_reads_stops_rotation_and_changes_nothing(make_app):
    app = make_app(plugins=PLUGINS, secrets_keys=OLD)
    with app.app_context():
        _seed(VALUES)
        # the IMAP password was written under a key that is no longer listed
        foreign = Fernet(OTHER.encode()).encrypt(b'{"password": "lost"}').decode()
        db.session.execute(sa.text("UPDATE tickets_imap_mailbox SET secrets = :t"),
                           {"t": foreign})
        db.session.commit()
        before = _tokens()
    result = run_cli(make_app(plugins=PLUGINS, secrets_keys=f"{NEW},{OLD}"), "secrets", "rotate")
    assert result.exit_code != 0 and "cannot be decrypted" in result.output
    with app.app_context():
        db.session.rollback()
        assert _tokens() == before, "all or nothing: no table was rotated"


def test_every_column_written_with_encrypt_json_is_declared_sealed():
    """A plugin that stores a new ``encrypt_json`` token in a column must list it in its
    model's ``__sealed__``, or rotation would leave it under the old key."""
    from backhaul.core.instances import sealed_columns

    written = set()
    for path in [*ROOT.joinpath("plugins").rglob("*.py"), *ROOT.joinpath("core").rglob("*.py")]:
        if "migrations" in path.parts:
            continue
        text = path.read_text()
        written |= set(re.findall(r"\b(\w+)\s*=\s*encrypt_json\(", text))
    written -= {"token"}  # a local variable, not a column
    declared = {key for _, key in sealed_columns()}  # models imported by the fixture below
    assert written, "the scan found the known writers"
    assert written <= declared, f"columns written with encrypt_json but not __sealed__: " \
                                f"{sorted(written - declared)}"


@pytest.fixture(autouse=True)
def _import_plugin_models():
    import backhaul.plugins.network.models  # noqa: F401
    import backhaul.plugins.poller.models  # noqa: F401
    import backhaul.plugins.tickets.models  # noqa: F401
