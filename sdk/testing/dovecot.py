"""A real IMAP server for tests: Debian's Dovecot (``dovecot-imapd``) in a temp folder.

``DovecotPeer`` writes a minimal ``dovecot.conf`` (IMAP only, on a loopback port, no TLS,
plain-text login allowed on loopback, a ``passwd-file`` of users, Maildir under the folder)
and runs ``dovecot -F`` in the foreground as a child process; nothing of the system's
Dovecot configuration is read or touched. :meth:`DovecotPeer.append` delivers a message with
a real IMAP client (``imaplib`` APPEND), as an MTA's local delivery would.

``with DovecotPeer({"support": "s3cret"}) as imap: imap.append("support", raw)``; stopped by
pid on exit (SIGTERM, then kill) and its folder removed. With ``tls=True`` it also serves
IMAPS on ``tls_port`` and offers STARTTLS, with a self-signed certificate for 127.0.0.1
made by ``openssl`` (``cert_path``: trust it with ``SSL_CERT_FILE`` for the client).
"""
from __future__ import annotations

import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from . import free_port

DOVECOT = "/usr/sbin/dovecot"


def missing() -> str | None:
    """Why a DovecotPeer cannot run here, or None."""
    if not (shutil.which("dovecot") or os.path.exists(DOVECOT)):
        return "dovecot (Debian package dovecot-imapd)"
    return None


CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
default_internal_user = {user}
default_login_user = {user}
default_internal_group = {group}
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


class DovecotPeer:
    """Dovecot serving ``users`` (name -> password) over IMAP on ``127.0.0.1:port``."""

    host = "127.0.0.1"

    def __init__(self, users: dict[str, str], port: int | None = None, tls: bool = False):
        self.users = dict(users)
        self.port = port or free_port()
        self.tls = tls
        self.tls_port = free_port() if tls else 0
        self.root = Path(tempfile.mkdtemp(prefix="bh-dovecot-"))
        self.proc: subprocess.Popen | None = None

    def _write_config(self) -> Path:
        os.chmod(self.root, 0o755)
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir()
        (self.root / "passwd").write_text("".join(
            f"{name}:{{PLAIN}}{password}::::::\n" for name, password in self.users.items()))
        uid, gid = os.getuid(), os.getgid()
        user, group = pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name
        if uid == 0:  # Dovecot refuses root as a mail user: Debian's "dovecot" user owns mail
            owner = pwd.getpwnam("dovecot")
            uid, gid, user, group = owner.pw_uid, owner.pw_gid, "dovenull", "dovecot"
            for sub in ("mail", "home"):
                os.chown(self.root / sub, uid, gid)
        ssl = "ssl = no"
        if self.tls:
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                            "subjectAltName=IP:127.0.0.1", "-keyout", str(self.root / "key.pem"),
                            "-out", str(self.cert_path)], check=True, capture_output=True,
                           timeout=60)
            ssl = (f"ssl = yes\nssl_cert = <{self.cert_path}\n"
                   f"ssl_key = <{self.root / 'key.pem'}")
        path = self.root / "dovecot.conf"
        path.write_text(CONFIG.format(root=self.root, port=self.port, uid=uid, gid=gid,
                                      user=user, group=group, ssl=ssl,
                                      tls_port=self.tls_port))
        return path

    def start(self, timeout: float = 20) -> DovecotPeer:
        config = self._write_config()
        binary = shutil.which("dovecot") or DOVECOT
        self.proc = subprocess.Popen([binary, "-F", "-c", str(config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        ports = [self.port] + ([self.tls_port] if self.tls else [])
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stderr.read().decode()} "
                                   f"{self.log()}")
            try:
                for port in ports:
                    with socket.create_connection((self.host, port), timeout=0.5):
                        pass
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"dovecot did not listen on {self.port}: {self.log()}")

    @property
    def cert_path(self) -> Path:
        return self.root / "cert.pem"

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text() if path.exists() else ""

    def client(self, user: str) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        conn.login(user, self.users[user])
        return conn

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver ``raw`` into the user's ``folder`` (IMAP APPEND)."""
        conn = self.client(user)
        try:
            typ, data = conn.append(folder, None, None, raw)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {data}")
        finally:
            conn.logout()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> DovecotPeer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
