"""A real FreeRADIUS (Debian's, started on high ports) in front of Backhaul's PostgreSQL,
configured from the shipped ``freeradius_config``: it authenticates a subscriber created in
Backhaul through rlm_sql, refuses a delinquent one, and its accounting becomes that
subscriber's session in Backhaul."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from radius_helpers import NAS_SECRET, make_subscriber

from backhaul.sdk import PluginMeta, db
from backhaul.sdk.testing import free_port
from backhaul.sdk.testing import freeradius as fr_kit
from backhaul.sdk.testing.provisioning import DirectoryBackend
from backhaul.sdk.testing.pytest_plugin import peer_missing
from backhaul.sdk.testing.radius import radclient

pytestmark = pytest.mark.postgres


def _app(make_app, temp_plugin, tmp_path, **radius):
    kit = temp_plugin("kit_devices", meta=PluginMeta(name="kit_devices"),
                      provisioning_backends=lambda: [DirectoryBackend()])
    app = make_app(plugins=["billing", "network", "radius"], extra_plugins=[kit],
                   plugin_settings={"radius": {"freeradius": True, **radius}})
    app.device_folder = tmp_path / "devices"
    app.device_folder.mkdir()
    if not app.config["DATABASE_URL"].startswith("postgresql"):
        pytest.skip("FreeRADIUS reads PostgreSQL")
    return app


def _peer(app, **kw):
    why = fr_kit.missing()
    if why:
        peer_missing(why)
    from pathlib import Path

    from backhaul.plugins import radius

    return fr_kit.FreeRadiusPeer(app.config["DATABASE_URL"], free_port(), free_port(),
                                 shipped=Path(radius.__file__).parent / "freeradius_config",
                                 **kw)


def _pap(user, password):
    return f'User-Name = "{user}"\nUser-Password = "{password}"\nMessage-Authenticator = 0x00\n'


def test_freeradius_authenticates_from_backhaul_and_its_accounting_becomes_a_session(
        make_app, temp_plugin, tmp_path):
    from backhaul.plugins.radius.freeradius import pickup
    from backhaul.plugins.radius.models import FrAcct, Session
    from backhaul.sdk.accounts import set_status

    app = _app(make_app, temp_plugin, tmp_path, freeradius_secrets=True)
    with app.app_context():
        account, sub, _ = make_subscriber(app)  # the sync job writes rlm_sql's rows
        user = f"pppoe{sub.id}"
        from backhaul.core.audit.models import AuditEntry

        trail = " ".join(str(e.changes) for e in db.session.scalars(sa.select(AuditEntry)))
        assert "tenant-pass" not in trail and NAS_SECRET not in trail, "secrets in the audit"
        with _peer(app) as freeradius:
            target = f"127.0.0.1:{freeradius.auth_port}"
            code, out = radclient(target, "auth", NAS_SECRET, _pap(user, "tenant-pass"))
            assert code == 0 and "Access-Accept" in out, out + freeradius.output()[-3000:]
            assert "Framed-IP-Address = 100.64.20.7" in out
            assert 'Mikrotik-Rate-Limit = "20000k/100000k"' in out
            chap = (f'User-Name = "{user}"\nCHAP-Password = "tenant-pass"\n'
                    "Message-Authenticator = 0x00\n")
            code, out = radclient(target, "auth", NAS_SECRET, chap)
            assert "Access-Accept" in out, out
            code, out = radclient(target, "auth", NAS_SECRET, _pap(user, "wrong-pass"))
            assert "Access-Reject" in out, out

            acct = f"127.0.0.1:{freeradius.acct_port}"
            for status, in_, out_ in (("Start", 0, 0), ("Interim-Update", 4000, 9000),
                                      ("Stop", 5000, 12000)):
                code, out = radclient(acct, "acct", NAS_SECRET, (
                    f'User-Name = "{user}"\nAcct-Status-Type = {status}\n'
                    f'Acct-Session-Id = "FR-1"\nAcct-Input-Octets = {in_}\n'
                    f"Acct-Output-Octets = {out_}\nAcct-Output-Gigawords = 1\n"
                    "Framed-IP-Address = 100.64.20.7\nNAS-IP-Address = 127.0.0.1\n"))
                assert code == 0 and "Accounting-Response" in out, out
            db.session.expire_all()
            assert db.session.scalar(sa.select(sa.func.count()).select_from(FrAcct)) == 1
            assert pickup() == 1
            db.session.commit()
            session = db.session.scalar(sa.select(Session).where(
                Session.source == "freeradius"))
            assert session.subscription_id == sub.id and session.stopped_at is not None
            assert (session.input_octets, session.output_octets) == (5000, 2**32 + 12000)
            pickup()  # reading the same rows again counts nothing twice
            db.session.commit()
            db.session.refresh(session)
            assert session.output_octets == 2**32 + 12000

            set_status(account, "delinquent", reason="delinquency")
            db.session.commit()  # the sync job rewrites the rows: Auth-Type := Reject
            code, out = radclient(target, "auth", NAS_SECRET, _pap(user, "tenant-pass"))
            assert "Access-Reject" in out, out


def test_without_secrets_in_the_database_pap_works_from_a_hash_and_clients_conf(
        make_app, temp_plugin, tmp_path):
    from backhaul.plugins.radius.freeradius import clients_conf
    from backhaul.plugins.radius.models import FrCheck, FrNas

    app = _app(make_app, temp_plugin, tmp_path)
    with app.app_context():
        _, sub, _ = make_subscriber(app)
        checks = db.session.scalars(sa.select(FrCheck)).all()
        assert [c.attribute for c in checks] == ["SSHA2-512-Password"]
        assert "tenant-pass" not in checks[0].value
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FrNas)) == 0
        with _peer(app, read_clients=False, clients_conf=clients_conf()) as freeradius:
            target = f"127.0.0.1:{freeradius.auth_port}"
            code, out = radclient(target, "auth", NAS_SECRET,
                                  _pap(f"pppoe{sub.id}", "tenant-pass"))
            assert "Access-Accept" in out, out + freeradius.output()[-3000:]
            code, out = radclient(target, "auth", NAS_SECRET,
                                  _pap(f"pppoe{sub.id}", "tenant-pasS"))
            assert "Access-Reject" in out, out
