"""A Junos device simulator: NETCONF over SSH (RFC 6241/6242) answering the Junos RPCs.

For Backhaul's tests and for third-party plugin authors who provision Juniper routers and
switches. It is driven with the real client stack — NAPALM's ``junos`` driver over PyEZ
(junos-eznc) over ncclient over paramiko — exactly as an MX or EX would be:

* an SSH server (paramiko) with the ``netconf`` subsystem and password authentication;
* the ``<hello>`` exchange; NETCONF 1.0 end-of-message framing (``]]>]]>``) and, when both
  sides announce ``base:1.1``, RFC 6242 chunked framing (``\\n#<len>\\n`` ... ``\\n##\\n``);
* ``<rpc message-id=...>`` answered by ``<rpc-reply>`` carrying the same id, errors as
  ``<rpc-error>`` (type, tag, severity, message) and warnings beside ``<ok/>``;
* the Junos RPCs: facts (``get-software-information``, ``get-chassis-inventory``,
  ``get-route-engine-information``, ``get-system-uptime-information``), interfaces
  (``get-interface-information``), ``lock-configuration``/``unlock-configuration`` (and
  ``<lock>``/``<unlock>``), ``load-configuration`` (``format="text"`` with
  ``<configuration-text>``, ``action="set"`` with ``<configuration-set>``, ``merge``,
  ``replace``, ``override``, and ``rollback="N"``), ``get-configuration`` (``format`` text,
  set or xml; ``database`` candidate or committed; ``compare="rollback"``: the ``show |
  compare`` diff), ``commit-configuration`` (plain, ``check``, ``<confirmed/>`` with
  ``<confirm-timeout>``, ``<log>``), ``get-commit-revision-information``,
  ``discard-changes``, ``open-configuration``/``close-configuration``, ``close-session``.

It holds a shared candidate and the committed configuration with its rollback history. A
commit confirmed that no later commit confirms within the timeout is rolled back by the
simulator itself, as Junos does (``minute`` scales Junos's minutes down for tests).

Faults to inject: refused logins, a lock held by another user, an ``<rpc-error>`` for any
RPC, statements the device rejects on load or commit, slow answers, and a session dropped
before or after an RPC is carried out (e.g. right after a commit confirmed).

Usage::

    with JunosSimulator(minute=0.5) as sim:
        driver = napalm.get_network_driver("junos")("127.0.0.1", "admin", sim.password,
                                                    optional_args={"port": sim.port})
"""
from __future__ import annotations

import collections
import logging
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from lxml import etree

from .junos_config import (
    ConfigError,
    Tree,
    copy_tree,
    diff_text,
    load_set,
    load_text,
    render_set,
    render_text,
)

__all__ = ["JunosSimulator", "Fault"]

log = logging.getLogger(__name__)

NS = "urn:ietf:params:xml:ns:netconf:base:1.0"
JUNOS_NS = "http://xml.juniper.net/junos/21.4R0/junos"
EOM = b"]]>]]>"
MAX_MESSAGE = 64 << 20
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False,
                          remove_blank_text=True)
_HOST_KEY = None
_HOST_KEY_LOCK = threading.Lock()


def _host_key():
    global _HOST_KEY
    import paramiko
    with _HOST_KEY_LOCK:
        if _HOST_KEY is None:
            _HOST_KEY = paramiko.RSAKey.generate(2048)
        return _HOST_KEY


@dataclass
class Fault:
    """What to do to the next matching RPCs (``times`` of them; ``None``: all)."""

    rpc: str
    #: "error": answer an rpc-error; "drop-before": close the session without doing it;
    #: "drop-after": do it, then close the session without answering; "delay": sleep first
    action: str = "error"
    message: str = "simulated failure"
    times: int | None = 1
    seconds: float = 0.0
    #: only when the RPC has this child element (e.g. "confirmed" for commit confirmed)
    when_child: str | None = None


@dataclass
class _Pending:
    previous: Tree
    deadline: float
    minutes: int
    timer: threading.Timer | None = None
    revision: str = ""
    at: float = field(default_factory=time.time)


class _Dropped(Exception):
    pass


class JunosSimulator:
    """A Junos router answering NETCONF over SSH on ``127.0.0.1:<port>``."""

    def __init__(self, *, username: str = "admin", password: str = "juniper123",
                 hostname: str = "sim-mx1", model: str = "mx204", version: str = "21.4R3.15",
                 serial: str = "SIM0123456789", minute: float = 60.0, netconf_11: bool = True,
                 interfaces: tuple[str, ...] = ("ge-0/0/0", "ge-0/0/1", "xe-0/1/0"),
                 config: str = ""):
        self.username, self.password = username, password
        self.hostname, self.model, self.version, self.serial = hostname, model, version, serial
        self.minute = minute
        self.netconf_11 = netconf_11
        self.interfaces = interfaces
        self.lock = threading.RLock()
        self.committed: Tree = {}
        if config:
            load_text(self.committed, config)
        self.candidate: Tree = copy_tree(self.committed)
        self.history: list[Tree] = [copy_tree(self.committed)]  # rollback 0, 1, ...
        self.lock_owner: int | None = None  # session id
        self.lock_user = ""
        self.pending: _Pending | None = None
        self.faults: list[Fault] = []
        self.refuse_logins = False
        self.reject_patterns: list[str] = []  # regexes of set lines the device refuses
        self.rpcs: collections.Counter = collections.Counter()
        self.commits = 0  # successful commits of any kind
        self.confirmed_commits = 0
        self.auto_rollbacks = 0
        self.events: list[str] = []
        self.sessions = 0
        self._next_session = 100
        self._sock: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._transports: list = []
        self._stopping = threading.Event()
        self.port = 0

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> JunosSimulator:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stopping.clear()
        t = threading.Thread(target=self._accept_loop, name="junos-sim-accept", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        """Stop listening and drop every session (the device goes away)."""
        self._stopping.set()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        for transport in list(self._transports):
            try:
                transport.close()
            except Exception:  # noqa: BLE001
                pass
        for t in self._threads:
            t.join(timeout=2 if t.name == "junos-sim-accept" else 0.2)
        self._threads = []
        with self.lock:
            if self.pending and self.pending.timer:
                self.pending.timer.cancel()

    def __enter__(self) -> JunosSimulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ------------------------------------------------------------------ test helpers
    def fault(self, rpc: str, action: str = "error", **kw) -> Fault:
        f = Fault(rpc, action, **kw)
        with self.lock:
            self.faults.append(f)
        return f

    def hold_lock(self, user: str = "operator") -> None:
        """Someone else is in ``configure exclusive``."""
        with self.lock:
            self.lock_owner, self.lock_user = -1, user

    def release_lock(self) -> None:
        with self.lock:
            if self.lock_owner == -1:
                self.lock_owner, self.lock_user = None, ""

    def configure(self, text: str, fmt: str = "set") -> None:
        """An operator's change, committed at once (hand-made config, drift)."""
        with self.lock:
            tree = copy_tree(self.committed)
            (load_set if fmt == "set" else load_text)(tree, text)
            self._commit_tree(tree)
            self.candidate = copy_tree(self.committed)

    def show(self, fmt: str = "set", database: str = "committed") -> str:
        with self.lock:
            tree = self.committed if database == "committed" else self.candidate
            return "\n".join(render_set(tree) if fmt == "set" else render_text(tree))

    def reset_counters(self) -> None:
        with self.lock:
            self.rpcs.clear()
            self.commits = self.confirmed_commits = self.auto_rollbacks = 0
            self.events.clear()

    def wait_for_rollback(self, timeout: float = 10.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if self.pending is None:
                    return True
            time.sleep(0.02)
        return False

    # ------------------------------------------------------------------ SSH
    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve_ssh, args=(conn,), daemon=True,
                                 name="junos-sim-ssh")
            t.start()
            self._threads = [x for x in self._threads if x.is_alive()] + [t]

    def _serve_ssh(self, conn: socket.socket) -> None:
        import paramiko

        sim = self
        ready = threading.Event()

        class Server(paramiko.ServerInterface):
            def get_allowed_auths(self, username):
                return "password"

            def check_auth_password(self, username, password):
                if (not sim.refuse_logins and username == sim.username
                        and password == sim.password):
                    return paramiko.AUTH_SUCCESSFUL
                return paramiko.AUTH_FAILED

            def check_channel_request(self, kind, chanid):
                if kind == "session":
                    return paramiko.OPEN_SUCCEEDED
                return paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED

            def check_channel_subsystem_request(self, channel, name):
                if name == "netconf":
                    ready.set()
                    return True
                return False

        transport = paramiko.Transport(conn)
        transport.add_server_key(_host_key())
        self._transports.append(transport)
        try:
            transport.start_server(server=Server())
            channel = transport.accept(timeout=10)
            if channel is None or not ready.wait(10):
                return
            with self.lock:
                self._next_session += 1
                sid = self._next_session
                self.sessions += 1
            _Session(self, channel, sid).run()
        except Exception as exc:  # noqa: BLE001 - one bad client never stops the device
            log.debug("junos simulator session ended: %r", exc)
        finally:
            try:
                transport.close()
            except Exception:  # noqa: BLE001
                pass
            if transport in self._transports:
                self._transports.remove(transport)

    # ------------------------------------------------------------------ configuration
    def _commit_tree(self, tree: Tree) -> None:
        self.committed = copy_tree(tree)
        self.history.insert(0, copy_tree(tree))
        del self.history[50:]
        self.commits += 1

    def _rollback_unconfirmed(self, pending: _Pending) -> None:
        with self.lock:
            if self.pending is not pending:
                return
            self.pending = None
            self._commit_tree(pending.previous)
            self.commits -= 1  # the device's own rollback is not a client's commit
            self.candidate = copy_tree(self.committed)
            self.auto_rollbacks += 1
            self.events.append("commit confirmed not confirmed: rolled back")


class _Session:
    """One NETCONF session on one SSH channel."""

    def __init__(self, sim: JunosSimulator, channel, sid: int):
        self.sim, self.channel, self.sid = sim, channel, sid
        self.chunked = False
        self.buffer = b""
        self.private: Tree | None = None

    # ------------------------------------------------------------------ framing
    def _recv(self) -> bytes:
        data = self.channel.recv(65536)
        if not data:
            raise _Dropped("client closed")
        self.buffer += data
        if len(self.buffer) > MAX_MESSAGE:
            raise _Dropped("message too large")
        return data

    def read_message(self) -> bytes:
        if not self.chunked:
            while EOM not in self.buffer:
                self._recv()
            msg, _, self.buffer = self.buffer.partition(EOM)
            return msg
        out = b""
        while True:
            while not re.match(rb"\s*\n#(\d+|#)\n", self.buffer):
                if len(self.buffer) > 32 and not re.match(rb"\s*\n#", self.buffer):
                    raise _Dropped("bad chunk header")
                self._recv()
            m = re.match(rb"\s*\n#(\d+|#)\n", self.buffer)
            self.buffer = self.buffer[m.end():]
            if m.group(1) == b"#":
                return out
            size = int(m.group(1))
            if size > MAX_MESSAGE:
                raise _Dropped("chunk too large")
            while len(self.buffer) < size:
                self._recv()
            out += self.buffer[:size]
            self.buffer = self.buffer[size:]

    def send(self, xml: str) -> None:
        data = xml.encode()
        if self.chunked:
            self.channel.sendall(b"\n#%d\n" % len(data) + data + b"\n##\n")
        else:
            self.channel.sendall(data + EOM)

    # ------------------------------------------------------------------ session
    def run(self) -> None:
        caps = ["urn:ietf:params:netconf:base:1.0",
                "urn:ietf:params:netconf:capability:candidate:1.0",
                "urn:ietf:params:netconf:capability:confirmed-commit:1.0",
                "urn:ietf:params:netconf:capability:validate:1.0",
                "http://xml.juniper.net/netconf/junos/1.0",
                "http://xml.juniper.net/dmi/system/1.0"]
        if self.sim.netconf_11:
            caps.insert(1, "urn:ietf:params:netconf:base:1.1")
        self.send(f'<hello xmlns="{NS}"><capabilities>'
                  + "".join(f"<capability>{c}</capability>" for c in caps)
                  + f"</capabilities><session-id>{self.sid}</session-id></hello>")
        hello = etree.fromstring(self.read_message().strip(), _PARSER)
        theirs = {c.text for c in hello.iter("{*}capability")}
        self.chunked = self.sim.netconf_11 and "urn:ietf:params:netconf:base:1.1" in theirs
        try:
            while True:
                raw = self.read_message().strip()
                if not raw:
                    continue
                if not self.handle(raw):
                    return
        finally:
            with self.sim.lock:
                if self.sim.lock_owner == self.sid:  # exclusive edits die with the session
                    self.sim.lock_owner, self.sim.lock_user = None, ""
                    self.sim.candidate = copy_tree(self.sim.committed)

    def handle(self, raw: bytes) -> bool:
        try:
            rpc = etree.fromstring(raw, _PARSER)
        except etree.XMLSyntaxError as exc:  # Junos ends a session whose XML is broken
            raise _Dropped("malformed XML") from exc
        mid = rpc.get("message-id", "")
        op = next(iter(rpc), None)
        if op is None:
            self.send(self._reply(mid, self._error("syntax error, expecting <rpc> content")))
            return True
        name = etree.QName(op).localname
        sim = self.sim
        with sim.lock:
            sim.rpcs[name] += 1
            fault = self._fault(name, op)
        if fault is not None:
            if fault.action == "delay":
                time.sleep(fault.seconds)
            elif fault.action == "error":
                self.send(self._reply(mid, self._error(fault.message)))
                return True
            elif fault.action == "drop-before":
                raise _Dropped(f"dropped before {name}")
        handler = getattr(self, "rpc_" + name.replace("-", "_"), None)
        if handler is None:
            body = self._error(f"syntax error, expecting <command> (got <{name}>)",
                               "operation-not-supported", "protocol")
        else:
            try:
                body = handler(op)
            except ConfigError as exc:
                body = self._error(str(exc))
            except (ValueError, TypeError, KeyError, IndexError) as exc:  # a strange request
                body = self._error(f"syntax error: {exc}", "bad-element", "protocol")
        if fault is not None and fault.action == "drop-after":
            raise _Dropped(f"dropped after {name}")
        self.send(self._reply(mid, body))
        return name != "close-session"

    def _fault(self, name: str, op) -> Fault | None:
        for f in self.sim.faults:
            if f.rpc != name or (f.times is not None and f.times <= 0):
                continue
            if f.when_child and op.find(f"{{*}}{f.when_child}") is None \
                    and op.find(f.when_child) is None:
                continue
            if f.times is not None:
                f.times -= 1
            return f
        return None

    @staticmethod
    def _reply(mid: str, body: str) -> str:
        return (f'<rpc-reply xmlns="{NS}" xmlns:junos="{JUNOS_NS}" '
                f'message-id="{escape(mid, {chr(34): "&quot;"})}">{body}</rpc-reply>')

    @staticmethod
    def _error(message: str, tag: str = "operation-failed", kind: str = "application",
               severity: str = "error", path: str = "") -> str:
        return (f"<rpc-error><error-type>{kind}</error-type><error-tag>{tag}</error-tag>"
                f"<error-severity>{severity}</error-severity>"
                + (f"<error-path>{escape(path)}</error-path>" if path else "")
                + f"<error-message>{escape(message)}</error-message></rpc-error>")

    # ------------------------------------------------------------------ facts
    def rpc_get_software_information(self, op) -> str:
        s = self.sim
        return (f"<software-information><host-name>{s.hostname}</host-name>"
                f"<product-model>{s.model}</product-model><product-name>{s.model}</product-name>"
                f"<junos-version>{s.version}</junos-version>"
                f"<package-information><name>junos</name><comment>JUNOS OS Software Suite "
                f"[{s.version}]</comment></package-information></software-information>")

    def rpc_get_chassis_inventory(self, op) -> str:
        s = self.sim
        return (f"<chassis-inventory><chassis><name>Chassis</name>"
                f"<serial-number>{s.serial}</serial-number>"
                f"<description>{s.model.upper()}</description></chassis></chassis-inventory>")

    def rpc_get_route_engine_information(self, op) -> str:
        up = int(time.time() - _BOOT)
        return ("<route-engine-information><route-engine><slot>0</slot>"
                "<mastership-state>master</mastership-state><status>OK</status>"
                "<model>RE-S-1600x8</model>"
                f'<up-time seconds="{up}">{up} seconds</up-time>'
                "<last-reboot-reason>Router rebooted after a normal shutdown.</last-reboot-reason>"
                "</route-engine></route-engine-information>")

    def rpc_get_system_uptime_information(self, op) -> str:
        now = int(time.time())
        return ("<system-uptime-information><current-time>"
                f'<date-time seconds="{now}">{time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(now))}'
                "</date-time></current-time><system-booted-time>"
                f'<date-time seconds="{int(_BOOT)}">boot</date-time><time-length seconds="'
                f'{now - int(_BOOT)}">up</time-length></system-booted-time>'
                "</system-uptime-information>")

    def rpc_get_interface_information(self, op) -> str:
        rows = "".join(
            f"<physical-interface><name>{n}</name><admin-status>up</admin-status>"
            f"<oper-status>up</oper-status><description></description>"
            f"<speed>1000mbps</speed><mtu>1514</mtu>"
            f"<current-physical-address>00:05:86:00:00:{i:02x}</current-physical-address>"
            "</physical-interface>" for i, n in enumerate(self.sim.interfaces))
        return f"<interface-information>{rows}</interface-information>"

    def rpc_get_virtual_chassis_information(self, op) -> str:
        return self._error("the virtual-chassis subsystem is not running")

    def rpc_command(self, op) -> str:
        return self._error(f"syntax error, expecting <command>: {op.text or ''}")

    # ------------------------------------------------------------------ locking
    def _locked_out(self) -> str | None:
        owner = self.sim.lock_owner
        if owner is not None and owner != self.sid:
            user = self.sim.lock_user or self.sim.username
            return self._error(f"configuration database locked by:\n  {user} "
                               f"terminal p0 (pid {owner}) on since 2026-12-04 06:00:00 UTC\n"
                               "      exclusive [edit]", "lock-denied", "protocol")
        return None

    def rpc_lock_configuration(self, op) -> str:
        with self.sim.lock:
            denied = self._locked_out()
            if denied:
                return denied
            if self.sim.candidate != self.sim.committed and self.sim.lock_owner is None:
                return self._error("configuration database modified", "lock-denied",
                                   "protocol")
            self.sim.lock_owner, self.sim.lock_user = self.sid, self.sim.username
        return "<ok/>"

    rpc_lock = rpc_lock_configuration

    def rpc_unlock_configuration(self, op) -> str:
        with self.sim.lock:
            if self.sim.lock_owner != self.sid:
                return self._error("configuration database not locked by this session",
                                   "operation-failed", "protocol")
            self.sim.lock_owner, self.sim.lock_user = None, ""
            # configure exclusive: uncommitted changes are discarded on exit
            self.sim.candidate = copy_tree(self.sim.committed)
        return "<ok/>"

    rpc_unlock = rpc_unlock_configuration

    def rpc_open_configuration(self, op) -> str:
        return "<ok/>"

    def rpc_close_configuration(self, op) -> str:
        return "<ok/>"

    def rpc_close_session(self, op) -> str:
        return "<ok/>"

    # ------------------------------------------------------------------ configuration
    def rpc_load_configuration(self, op) -> str:
        sim = self.sim
        with sim.lock:
            denied = self._locked_out()
            if denied:
                return denied
            rollback = op.get("rollback")
            if rollback is not None:
                n = int(rollback) if rollback.isdigit() else -1
                if not 0 <= n < len(sim.history):
                    return self._error(f"rollback {rollback} does not exist")
                sim.candidate = copy_tree(sim.history[n])
                return "<load-configuration-results><ok/></load-configuration-results>"
            action = op.get("action", "merge")
            tree = {} if action == "override" else copy_tree(sim.candidate)
            warnings = []
            text_el = op.find("{*}configuration-text")
            if text_el is None:
                text_el = op.find("configuration-text")
            set_el = op.find("{*}configuration-set")
            if set_el is None:
                set_el = op.find("configuration-set")
            if set_el is not None or action == "set":
                text = (set_el.text if set_el is not None else
                        (text_el.text if text_el is not None else "")) or ""
                self._check_rejected(text.splitlines())
                warnings = load_set(tree, text)
            elif text_el is not None:
                text = text_el.text or ""
                probe: Tree = {}
                load_text(probe, text)
                self._check_rejected(render_set(probe))
                load_text(tree, text, replace=action == "replace")
            else:
                return self._error("load-configuration: XML configuration is not supported "
                                   "by the simulator; use format text or set")
            sim.candidate = tree
        body = "".join(self._error(w, "warning", "application", "warning") for w in warnings)
        return f"<load-configuration-results>{body}<ok/></load-configuration-results>"

    def _check_rejected(self, lines) -> None:
        for line in lines:
            for pattern in self.sim.reject_patterns:
                if re.search(pattern, line):
                    raise ConfigError(f"syntax error: {line.strip()}")

    def rpc_discard_changes(self, op) -> str:
        with self.sim.lock:
            denied = self._locked_out()
            if denied:
                return denied
            self.sim.candidate = copy_tree(self.sim.committed)
        return "<ok/>"

    def rpc_get_configuration(self, op) -> str:
        sim = self.sim
        fmt = op.get("format", "xml")
        with sim.lock:
            if op.get("compare") == "rollback":
                n = int(op.get("rollback", "0") or 0)
                if not 0 <= n < len(sim.history):
                    return self._error(f"rollback {n} does not exist")
                lines = diff_text(sim.history[n], sim.candidate)
                text = ("\n" + "\n".join(lines) + "\n") if lines else "\n"
                return ("<configuration-information><configuration-output>"
                        f"{escape(text)}</configuration-output></configuration-information>")
            tree = sim.candidate if op.get("database") == "candidate" else sim.committed
            tree = _filtered(tree, op.find("{*}configuration"))
        if fmt == "set":
            return f"<configuration-set>{escape(chr(10).join(render_set(tree)))}</configuration-set>"
        if fmt == "text":
            return ("<configuration-text>" + escape("\n".join(render_text(tree)) + "\n")
                    + "</configuration-text>")
        return _xml(tree)

    def rpc_commit_configuration(self, op) -> str:
        sim = self.sim
        child = lambda n: op.find(f"{{*}}{n}") if op.find(n) is None else op.find(n)  # noqa
        with sim.lock:
            denied = self._locked_out()
            if denied:
                return denied
            self._check_rejected(render_set(sim.candidate))
            if child("check") is not None:
                return "<commit-results><routing-engine><name>re0</name><commit-check-success/>" \
                       "</routing-engine></commit-results>"
            confirmed = child("confirmed") is not None
            pending = sim.pending
            if pending is not None:  # any commit confirms the pending one
                if pending.timer:
                    pending.timer.cancel()
                sim.pending = None
                sim.events.append("commit confirmed: confirmed")
            previous = copy_tree(sim.committed) if pending is None else pending.previous
            sim._commit_tree(sim.candidate)
            if confirmed:
                el = child("confirm-timeout")
                minutes = int(el.text) if el is not None and (el.text or "").isdigit() else 10
                if not 1 <= minutes <= 65535:
                    raise ConfigError("confirm-timeout must be 1..65535 minutes")
                sim.confirmed_commits += 1
                p = _Pending(previous, time.monotonic() + minutes * sim.minute, minutes,
                             revision=f"re0-{int(time.time())}-{sim.commits}")
                p.timer = threading.Timer(minutes * sim.minute, sim._rollback_unconfirmed, (p,))
                p.timer.daemon = True
                sim.pending = p
                p.timer.start()
                sim.events.append(f"commit confirmed, rollback in {minutes}mins")
            else:
                sim.events.append("commit")
        return ("<commit-results><routing-engine><name>re0</name><commit-success/>"
                "</routing-engine></commit-results>")

    def rpc_get_commit_revision_information(self, op) -> str:
        sim = self.sim
        with sim.lock:
            p = sim.pending
            at = int(p.at if p else time.time())
            comment = (f"<comment>commit confirmed, rollback in {p.minutes}mins</comment>"
                       if p else "")
            revision = p.revision if p else f"re0-{at}-{sim.commits}"
        return (f'<commit-revision-information><date-time seconds="{at}">at</date-time>'
                f"<revision>{revision}</revision>{comment}</commit-revision-information>")


def _filtered(tree: Tree, spec) -> Tree:
    """A subtree filter as Junos takes it: top-level elements (``<apply-groups/>``,
    ``<firewall/>``) and ``<groups><name>g</name></groups>`` for one group."""
    if spec is None or len(spec) == 0:
        return copy_tree(tree)
    out: Tree = {}
    for el in spec:
        word = etree.QName(el).localname
        name = el.findtext("{*}name")
        for key, sub in tree.items():
            if key[0] != word:
                continue
            if word == "groups" and name:
                if (name,) in sub:
                    out.setdefault(key, {})[(name,)] = copy_tree(sub[(name,)])
            else:
                out[key] = copy_tree(sub)
    return out


_BOOT = time.time()
_LISTS = {"groups": "groups", "interfaces": "interface"}


def _xml(tree: Tree) -> str:
    """``get-configuration`` in XML: named nodes as ``<kw><name>id</name>...``, values as
    ``<kw>value</kw>``, flags as ``<kw/>`` (the identifier lists of ``groups`` and
    ``interfaces`` as ``<groups><name>..``)."""
    def node(key, sub, parent_word=None) -> str:
        inner = "".join(node(k, v, key[0]) for k, v in sub.items())
        if parent_word in _LISTS and len(key) == 1:
            return f"<{_LISTS[parent_word]}><name>{escape(key[0])}</name>{inner}</{_LISTS[parent_word]}>"
        if len(key) == 1:
            if key[0] in _LISTS:
                return inner
            tag = key[0] if re.fullmatch(r"[A-Za-z][\w-]*", key[0]) else "name"
            if tag == "name":
                return f"<name>{escape(key[0])}</name>"
            return f"<{tag}>{inner}</{tag}>" if inner else f"<{tag}/>"
        tag = key[0]
        if sub:
            return f"<{tag}><name>{escape(' '.join(key[1:]))}</name>{inner}</{tag}>"
        return f"<{tag}>{escape(' '.join(key[1:]))}</{tag}>"
    return "<configuration>" + "".join(node(k, v) for k, v in tree.items()) + "</configuration>"
