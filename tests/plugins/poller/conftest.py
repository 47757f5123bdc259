"""The poller tests' app: network (devices), notifications (alerts) and poller.

Real peers: Debian's ``snmpd`` run unprivileged on a free high port (``snmpd`` fixture),
an aiosmtpd relay standing in for the ISP's SMTP server, ICMP to 127.0.0.1 and to
198.51.100.1 (TEST-NET-2: never answers)."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from notif_helpers import SmtpServer, email_channel, relay, smtp_settings  # noqa: F401 (shared fixtures)
from poller_helpers import EVENTS, ONCALL

NOTIFICATION_SETTINGS = {"retry_base_seconds": 0, "public_url": "http://bh.test",
                         "company_name": "Test ISP", "outbound_allow": ["127.0.0.1/32"]}


@pytest.fixture
def app(make_app, temp_plugin):
    from backhaul.sdk import PluginMeta, hookimpl

    def device_state_changed(target, old_state, new_state, reason):
        EVENTS.append({"target": target, "old": old_state, "new": new_state,
                       "reason": reason})

    EVENTS.clear()
    recorder = temp_plugin("poller_events", meta=PluginMeta(
        name="poller_events", depends_on=("poller",)),
        device_state_changed=hookimpl(optionalhook=True)(device_state_changed))
    application = make_app(plugins=["billing", "network", "notifications", "poller"],
                           extra_plugins=[recorder], plugin_settings={
        "notifications": NOTIFICATION_SETTINGS,
        "poller": {"oncall_email": ONCALL, "flap_changes": 4, "flap_window": 900}})
    with application.app_context():
        yield application


class Snmpd:
    """A real net-snmp agent; ``set(name, value)`` changes the values of the ``pass``
    script's OIDs under 1.3.6.1.4.1.99999 (.1 a gauge, .2 a Counter32, .3 a Counter64)."""

    BASE = ".1.3.6.1.4.1.99999"
    #: an SNMPv3 authPriv user (SHA-512, AES-256)
    V3_USER, V3_AUTH, V3_PRIV = "bhpoller", "auth-key-1234", "priv-key-5678"

    def __init__(self, folder, port):
        self.folder, self.port = folder, port
        self.set("gauge", 10)
        self.set("counter", 0)
        self.set("counter64", 0)
        script = folder / "pass.sh"
        script.write_text(f"""#!/bin/sh
[ "$1" = "-g" ] || exit 0
case "$2" in
 {self.BASE}.1) echo "$2"; echo gauge; cat {folder}/gauge;;
 {self.BASE}.2) echo "$2"; echo counter; cat {folder}/counter;;
 {self.BASE}.3) echo "$2"; echo counter64; cat {folder}/counter64;;
esac
""")
        script.chmod(0o755)
        (folder / "snmpd.conf").write_text(
            f"rocommunity public 127.0.0.1\npass {self.BASE} /bin/sh {script}\n"
            f'createUser {self.V3_USER} SHA-512 "{self.V3_AUTH}" AES-256 "{self.V3_PRIV}"\n'
            f"rouser {self.V3_USER} priv\n")

    def set(self, name, value):
        (self.folder / name).write_text(f"{value}\n")

    def start(self):
        binary = shutil.which("snmpd") or "/usr/sbin/snmpd"
        env = {**os.environ, "SNMP_PERSISTENT_DIR": str(self.folder / "persist")}
        self.proc = subprocess.Popen(
            [binary, "-f", "-Lo", "-C", "-c", str(self.folder / "snmpd.conf"), "-m", "",
             f"udp:127.0.0.1:{self.port}"], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        assert self.proc.poll() is None, "snmpd exited at start"
        return self

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


@pytest.fixture
def snmpd(tmp_path) -> Iterator[Snmpd]:
    if not (shutil.which("snmpd") or os.path.exists("/usr/sbin/snmpd")):
        from backhaul.sdk.testing import pytest_plugin

        pytest_plugin.peer_missing("snmpd (apt-get install snmpd)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    agent = Snmpd(tmp_path, port).start()
    yield agent
    agent.stop()
