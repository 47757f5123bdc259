"""RADIUS test peers: a NAS that takes CoA/Disconnect requests, and Debian's radclient.

:class:`CoANas` listens on a loopback UDP port like a router's CoA server (RFC 5176): it
checks the shared secret (Request Authenticator and Message-Authenticator), records every
request it accepted as a dict of attributes, and answers ACK — or NAK when ``nak`` is set.
:func:`radclient` runs FreeRADIUS's ``radclient`` (package ``freeradius-utils``), a real
third-party client, and returns its exit code and output.
"""
from __future__ import annotations

import hashlib
import hmac
import shutil
import socket
import struct
import subprocess
import threading
import time

from pyrad import packet as rp
from pyrad.dictionary import Dictionary


class CoANas:
    def __init__(self, secret: str, dictionary: Dictionary, *, nak: bool = False):
        self.secret = secret.encode()
        self.dictionary = dictionary
        self.nak = nak
        self.requests: list[dict] = []
        self.rejected: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    def __enter__(self) -> CoANas:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, source = self._sock.recvfrom(4096)
            except (TimeoutError, OSError):
                continue
            reply = self._answer(data)
            if reply is not None:
                self._sock.sendto(reply, source)

    def _answer(self, data: bytes) -> bytes | None:
        code, ident, length = struct.unpack_from("!BBH", data)
        if code not in (rp.CoARequest, rp.DisconnectRequest):
            self.rejected.append(f"code {code}")
            return None
        # RFC 5176 §3.5: Request Authenticator = MD5(header + 16 zero octets + attrs + secret)
        expected = hashlib.md5(data[:4] + bytes(16) + data[20:length] + self.secret).digest()
        if not hmac.compare_digest(expected, data[4:20]):
            self.rejected.append("bad request authenticator")
            return None
        pkt = rp.CoAPacket(packet=data[:length], secret=self.secret, dict=self.dictionary)
        if not pkt.message_authenticator or not pkt.verify_message_authenticator():
            self.rejected.append("no valid Message-Authenticator")
            return None
        attrs = {key: pkt[key] for key in pkt.keys() if isinstance(key, str)}
        attrs["_code"] = "disconnect" if code == rp.DisconnectRequest else "coa"
        self.requests.append(attrs)
        reply = pkt.CreateReply()
        if code == rp.DisconnectRequest:
            reply.code = rp.DisconnectNAK if self.nak else rp.DisconnectACK
        else:
            reply.code = rp.CoANAK if self.nak else rp.CoAACK
        return reply.ReplyPacket()


def radclient(server: str, kind: str, secret: str, attributes: str, *, timeout: float = 1,
              retries: int = 3) -> tuple[int, str]:
    """``echo attributes | radclient -x server kind secret``: (exit code, output)."""
    if shutil.which("radclient") is None:
        raise FileNotFoundError("radclient (Debian package freeradius-utils)")
    result = subprocess.run(
        ["radclient", "-x", "-t", str(timeout), "-r", str(retries), server, kind, secret],
        input=attributes, capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout + result.stderr
