"""Many simulated SNMP agents in one process: PyPI's ``snmpsim`` (a real SNMP v1/v2c/v3
agent simulator built on pysnmp) serving one ``.snmprec`` data file per agent.

snmpsim picks an agent by its v2c community (the data file's name): agent ``i`` answers
on ``127.0.0.1:<port>`` to the community ``agent<i>``. (snmpsim 1.2.2 with pysnmp 7 cannot
tell agents apart by endpoint for v2c: its full responder registers communities by file
path only and its "lite" responder no longer runs; so agents differ by community.)

    farm = AgentFarm(tmp_path, count=500, records=lambda i: [...]).start()
    farm.community(7), farm.port; farm.stop()

``records(i)`` gives agent ``i``'s ``(oid, tag, value)`` rows; tags as snmpsim's snmprec
format: 2 Integer, 4 OctetString, 6 OID, 65 Counter32, 66 Gauge32, 67 TimeTicks,
70 Counter64. ``set(i, records)`` rewrites one agent's data (snmpsim re-indexes a data
file whose modification time changed).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

INTEGER, OCTETS, OID, COUNTER32, GAUGE32, TIMETICKS, COUNTER64 = 2, 4, 6, 65, 66, 67, 70


def oid_key(oid: str) -> tuple[int, ...]:
    return tuple(int(p) for p in oid.strip(".").split("."))


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AgentFarm:
    """``count`` snmpsim agents on one UDP port, agent ``i`` reached with the community
    ``community(i)``."""

    def __init__(self, folder: Path, count: int,
                 records: Callable[[int], Iterable[tuple[str, int, object]]],
                 prefix: str = "agent", port: int | None = None):
        self.folder, self.count, self.prefix = Path(folder), count, prefix
        self.host, self.port = "127.0.0.1", port or free_udp_port()
        self.data = self.folder / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        for i in range(count):
            self.set(i, records(i))
        self.proc: subprocess.Popen | None = None

    def community(self, index: int) -> str:
        return f"{self.prefix}{index}"

    def set(self, index: int, records: Iterable[tuple[str, int, object]]) -> None:
        rows = sorted(records, key=lambda r: oid_key(r[0]))
        (self.data / f"{self.community(index)}.snmprec").write_text(
            "".join(f"{oid.strip('.')}|{tag}|{value}\n" for oid, tag, value in rows))

    def command(self) -> list[str]:
        responder = shutil.which("snmpsim-command-responder") or str(
            Path(sys.executable).parent / "snmpsim-command-responder")
        return [responder, f"--data-dir={self.data}", f"--cache-dir={self.folder / 'cache'}",
                "--log-level=error", f"--agent-udpv4-endpoint={self.host}:{self.port}"]

    def start(self, timeout: float = 120.0) -> AgentFarm:
        env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
        self.log = open(self.folder / "snmpsim.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(self.command(), env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        try:
            self._wait_ready(timeout)
        except BaseException:  # never leave a simulator running behind a failed start
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout: float) -> None:
        """Until the last agent answers a GET (snmpsim indexes its data files first)."""
        from pysnmp.proto import api

        proto = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"snmpsim exited: {self.tail()}")
            if self._answers(proto, self.community(self.count - 1)):
                return
            time.sleep(0.5)
        raise RuntimeError(f"snmpsim did not answer within {timeout} s: {self.tail()}")

    def _answers(self, proto, community: str) -> bool:
        from pyasn1.codec.ber import encoder

        pdu = proto.GetRequestPDU()
        proto.apiPDU.set_defaults(pdu)
        proto.apiPDU.set_varbinds(pdu, [((1, 3, 6, 1, 2, 1, 1, 3, 0), proto.Null(""))])
        msg = proto.Message()
        proto.apiMessage.set_defaults(msg)
        proto.apiMessage.set_community(msg, community)
        proto.apiMessage.set_pdu(msg, pdu)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.settimeout(0.5)
            try:
                sock.sendto(encoder.encode(msg), (self.host, self.port))
                return bool(sock.recv(65535))
            except OSError:
                return False

    def tail(self) -> str:
        try:
            return (self.folder / "snmpsim.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if getattr(self, "log", None):
            self.log.close()
