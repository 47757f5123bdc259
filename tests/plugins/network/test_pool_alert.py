"""A pool at 90 % full e-mails the NOC through the notifications plugin's e-mail channel
(a real SMTP relay on loopback), once a day per pool."""
from __future__ import annotations

from notif_helpers import SmtpServer, smtp_settings

from backhaul.sdk import PluginMeta, db
from backhaul.sdk.testing import free_port
from backhaul.sdk.testing.provisioning import DirectoryBackend


def test_a_nearly_full_pool_alerts_the_noc_once(make_app, temp_plugin, tmp_path):
    from network_helpers import make_tenant

    from backhaul.plugins.network import ipam
    from backhaul.plugins.notifications.channel_store import save_channel

    kit = temp_plugin("kit_devices", meta=PluginMeta(name="kit_devices"),
                      provisioning_backends=lambda: [DirectoryBackend()])
    app = make_app(plugins=["billing", "notifications", "network"], extra_plugins=[kit],
                   plugin_settings={"notifications": {"retry_base_seconds": 0},
                                    "network": {"alert_email": "noc@isp.test",
                                                "utilisation_alert_percent": 80}})
    app.device_folder = tmp_path / "devices"
    app.device_folder.mkdir()
    relay = SmtpServer(free_port()).start()
    try:
        with app.app_context():
            save_channel("email_smtp", {"name": "Mail", "is_default": True,
                                        "settings": smtp_settings(relay.port)})
            db.session.commit()
            _, first, device = make_tenant(app, "Pool One")  # its address from 100.64.9.0/24
            pool = ipam.create_subnet("100.64.60.0/29", "static", device_id=device.id)  # 6
            services = [first] + [make_tenant(app, f"Pool {n}")[1] for n in range(2, 7)]
            for number, sub in enumerate(services, start=1):
                ipam.release(sub.id)
                ipam.assign(sub.id, pool)
                db.session.commit()
                if number == 4:  # 4 of 6 = 66 %: below 80 %
                    assert relay.wait_for(1, timeout=1.0) == []
            mails = relay.wait_for(1)
            assert len(mails) == 1, "5 of 6 crossed 80 %; the 6th the same day adds nothing"
            assert "noc@isp.test" in mails[0].rcpt_tos
            assert "100.64.60.0/29 is 83% full" in mails[0].message["Subject"]
    finally:
        relay.stop()
