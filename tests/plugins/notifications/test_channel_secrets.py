"""A channel's secret, saved through the staff UI, is encrypted at rest, never shown back,
never audited or logged in clear, and keeps working across a key rotation.

Real peers: an aiosmtpd server that requires AUTH with the secret (so "works" means the real
SMTP login succeeded), the app's real database, the real ``backhaul secrets rotate`` command.
"""
from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from cryptography.fernet import Fernet, InvalidToken
from notif_helpers import SmtpHandler, SmtpServer

from backhaul.plugins.notifications import channel_store
from backhaul.plugins.notifications.models import ChannelConfig
from backhaul.sdk import db
from backhaul.sdk.instances import SecretsUnreadable
from backhaul.sdk.testing import free_port, run_cli

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

SECRET = "Zebra-Quartz-7731-unique"
OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()
MANAGE = ["notifications.channels.view", "notifications.channels.manage"]


@pytest.fixture
def auth_smtp():
    """An SMTP server that accepts only user "mailer" with :data:`SECRET`."""
    def check(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.login == b"mailer"
                          and auth_data.password == SECRET.encode())

    server = SmtpServer(free_port())
    server.controller = Controller(SmtpHandler(server.inbox), hostname="127.0.0.1",
                                   port=server.port, authenticator=check, auth_required=True,
                                   auth_require_tls=False)
    server.controller.start()
    yield server
    server.stop()


@pytest.fixture
def keyed_app(notif_app_factory):
    def make(*keys: str):
        return notif_app_factory(config={"secrets_keys": ",".join(keys)})

    return make


def _save_through_the_ui(app, staff_user, login, csrf_token, port: int) -> int:
    client = app.test_client()
    login(client, staff_user(MANAGE))
    form = {"csrf_token": csrf_token(client), "name": "Office SMTP", "enabled": "y",
            "settings.host": "127.0.0.1", "settings.port": str(port),
            "settings.security": "none", "settings.username": "mailer",
            "settings.password": SECRET, "settings.from_address": "billing@isp.example.net",
            "settings.timeout": "5"}
    response = client.post("/notifications/channels/new/email_smtp", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    row_id = db.session.scalar(sa.select(ChannelConfig.id))
    page = client.get(f"/notifications/channels/{row_id}").get_data(as_text=True)
    assert SECRET not in page, "a stored secret is never sent back to the browser"
    assert 'placeholder="unchanged"' in page
    # saving again with the secret left blank keeps it
    form.update(csrf_token=csrf_token(client), **{"settings.password": ""})
    assert client.post(f"/notifications/channels/{row_id}", data=form).status_code == 302
    return row_id


def _rows_as_text() -> str:
    """Every column of every row of the tables that could hold the secret, as text."""
    out = []
    for table in ("core_extension_instance", "notifications_channel", "audit_entry"):
        rows = db.session.execute(sa.text(f"SELECT * FROM {table}")).mappings().all()
        out += [json.dumps({k: str(v) for k, v in row.items()}) for row in rows]
    return "\n".join(out)


def _send_test(row_id: int):
    row = db.session.get(ChannelConfig, row_id)
    return channel_store.send_test(row, "someone@example.net")


def test_a_channel_secret_is_encrypted_unaudited_unlogged_and_survives_rotation(
        keyed_app, staff_user, login, csrf_token, auth_smtp, caplog):
    caplog.set_level(logging.DEBUG)
    app = keyed_app(OLD_KEY)
    with app.app_context():
        row_id = _save_through_the_ui(app, staff_user, login, csrf_token, auth_smtp.port)
        assert _send_test(row_id).ok, "the stored secret logs in to the real SMTP server"
        assert len(auth_smtp.wait_for(1)) == 1

        # unreadable in the database without the key
        stored = db.session.execute(sa.text(
            "SELECT settings, secrets FROM core_extension_instance")).one()
        assert SECRET not in _rows_as_text()
        assert "password" not in (stored.settings if isinstance(stored.settings, dict)
                                  else json.loads(stored.settings))
        with pytest.raises(InvalidToken):
            Fernet(Fernet.generate_key()).decrypt(stored.secrets.encode())
        assert SECRET in Fernet(OLD_KEY.encode()).decrypt(stored.secrets.encode()).decode()

        # audited as changed, never with its value
        changes = db.session.execute(sa.text(
            "SELECT changes FROM audit_entry WHERE object_type = 'core_extension_instance'"
        )).scalars().all()
        assert changes, "saving the channel is audited"
        assert any('"***"' in (c if isinstance(c, str) else json.dumps(c)) for c in changes)

    # rotate: new key first, old key kept until the command ran
    both = keyed_app(NEW_KEY, OLD_KEY)
    result = run_cli(both, "secrets", "rotate")
    assert result.exit_code == 0, result.output
    assert "core_extension_instance: 1 row(s) re-encrypted" in result.output

    new_only = keyed_app(NEW_KEY)
    with new_only.app_context():
        token = db.session.scalar(sa.text("SELECT secrets FROM core_extension_instance"))
        with pytest.raises(InvalidToken):
            Fernet(OLD_KEY.encode()).decrypt(token.encode())
        assert _send_test(row_id).ok, "still logs in after the rotation"
        assert len(auth_smtp.wait_for(2)) == 2

    old_only = keyed_app(OLD_KEY)
    with old_only.app_context(), pytest.raises(SecretsUnreadable):
        _ = db.session.get(ChannelConfig, row_id).settings

    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records, "the test captured the app's logging"
    assert SECRET not in logged, "the secret appears in no log line"


def test_a_bad_key_in_the_configuration_is_refused_without_showing_it(notif_app_factory):
    from backhaul.core.config import ConfigError

    with pytest.raises(ConfigError, match="SECRETS_KEYS.*key number 2") as caught:
        notif_app_factory(config={"secrets_keys": f"{NEW_KEY},not-a-key-XYZ"})
    assert "not-a-key-XYZ" not in str(caught.value)


def test_rotation_with_a_missing_key_changes_nothing(keyed_app):
    from backhaul.sdk.instances import save_instance

    app = keyed_app(OLD_KEY)
    with app.app_context():
        save_instance("notification_channels", "webhook", owner="notifications", name="Hook",
                      settings={"url": "https://example.net/h", "secret": "0123456789abcdef"})
        db.session.commit()
        before = db.session.scalar(sa.text("SELECT secrets FROM core_extension_instance"))
    result = run_cli(keyed_app(NEW_KEY), "secrets", "rotate")
    assert result.exit_code != 0 and "cannot be decrypted" in result.output
    with app.app_context():
        assert db.session.scalar(sa.text("SELECT secrets FROM core_extension_instance")) == before


SAVE = """mutation($id: ID, $input: NotificationsChannelInput!) {
  notificationsSaveChannel(id: $id, channelKey: "webhook", input: $input) {
    ok errors { field messages } channel { id name settings }
  }
}"""


def _gql(client, token, query, **variables):
    return client.post("/graphql", json={"query": query, "variables": variables},
                       headers={"Authorization": f"Bearer {token}"}).get_json()


def test_the_channel_mutation_keeps_and_never_returns_the_secret(app, staff_user, api_token):
    client = app.test_client()
    token = api_token(staff_user(MANAGE), "full")
    hook = {"name": "Hook", "settings": {"url": "https://example.net/h",
                                         "secret": "0123456789abcdefSECRET"}}
    body = _gql(client, token, SAVE, input=hook)
    saved = body["data"]["notificationsSaveChannel"]
    assert saved["ok"], body
    assert saved["channel"]["settings"]["secret"] == "***"
    assert "SECRET" not in json.dumps(body)
    renamed = _gql(client, token, SAVE, id=saved["channel"]["id"], input={
        "name": "Hook 2", "settings": {"url": "https://example.net/h", "secret": "unchanged"}})
    assert renamed["data"]["notificationsSaveChannel"]["ok"], renamed
    row = db.session.get(ChannelConfig, int(saved["channel"]["id"]))
    db.session.refresh(row)
    assert (row.name, row.settings["secret"]) == ("Hook 2", "0123456789abcdefSECRET")

    bad = _gql(client, token, SAVE, input={"name": "Bad", "settings": {"url": "ftp://x"}})
    result = bad["data"]["notificationsSaveChannel"]
    assert not result["ok"] and any(e["field"] == "settings.url" for e in result["errors"])

    viewer = api_token(staff_user(["notifications.channels.view"]), "full")
    denied = _gql(client, viewer, SAVE, input=hook)
    assert denied["errors"][0]["extensions"]["code"] == "FORBIDDEN", denied
