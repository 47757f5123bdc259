"""A MikroTik RouterOS API simulator: a TCP server speaking the real API wire protocol.

For Backhaul's tests and for third-party plugin authors who provision MikroTik routers. It is
driven with the real client library (librouteros) exactly as a router would be:

* words are length-prefixed (1-5 byte RouterOS length encoding), a sentence ends with an
  empty word; replies are ``!re``, ``!done``, ``!trap`` (``=category=``, ``=message=``),
  ``!fatal`` (then the connection closes) and ``!empty`` (RouterOS 7.18+, for an empty print);
  ``.tag`` is echoed on every reply sentence of a command;
* ``/login`` with ``=name=`` and ``=password=`` (the 6.43+ plain method);
* ``print`` with ``=.proplist=`` and query words ``?name=value``, ``?name`` (has),
  ``?-name`` (has not), ``?>name=v``, ``?<name=v`` and the stack operators ``?#|``, ``?#&``,
  ``?#!`` (and ``?#.`` to duplicate the top);
* ``add`` (replies ``=ret=*N``), ``set`` and ``remove`` with ``=.id=`` (comma-separated ids);
  RouterOS's own traps: ``failure: secret with the same name already exists``,
  ``no such item``, ``input does not match any value of ...``.

It keeps real state for the menus a provisioning backend needs (``/ppp/secret``,
``/ppp/profile``, ``/ppp/active``, ``/ip/hotspot/active``, ``/queue/simple``, ``/ip/firewall/address-list``,
``/ip/dhcp-server/lease``, ``/ip/hotspot/user``, read-only ``/system/resource``,
``/system/identity``, ``/system/routerboard``), assigns ``.id``s like RouterOS (``*1``,
``*2`` ... hexadecimal, never reused) and can inject faults: reject logins, answer slowly, drop
the connection after N write commands or in the middle of a reply sentence.

RouterOS 6 and 7 differ where it matters to a backend: the version string, ``!empty`` (7.18+
only), and how rates are reported (6 reports ``max-limit``/``rate-limit`` in plain bits per
second, 7 in the short ``10M/20M`` form), so an "upgrade" (:meth:`RouterOSSimulator.upgrade`)
rewrites what print shows without anything changing in meaning.

Usage::

    with RouterOSSimulator(version="7.16") as router:
        api = librouteros.connect("127.0.0.1", "admin", router.password, port=router.port)
"""
from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RouterOSSimulator", "encode_length", "decode_length", "encode_sentence",
           "read_sentence", "MENUS", "parse_rate", "format_rate"]


# ----------------------------------------------------------------------------- wire protocol
def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x4000:
        return (n | 0x8000).to_bytes(2, "big")
    if n < 0x200000:
        return (n | 0xC00000).to_bytes(3, "big")
    if n < 0x10000000:
        return (n | 0xE0000000).to_bytes(4, "big")
    return b"\xf0" + n.to_bytes(4, "big")


def _recv_exact(sock, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed")
        buf += chunk
    return buf


def decode_length(sock) -> int:
    first = _recv_exact(sock, 1)[0]
    if first < 0x80:
        return first
    if first < 0xC0:
        return ((first & 0x3F) << 8) | _recv_exact(sock, 1)[0]
    if first < 0xE0:
        return ((first & 0x1F) << 16) | int.from_bytes(_recv_exact(sock, 2), "big")
    if first < 0xF0:
        return ((first & 0x0F) << 24) | int.from_bytes(_recv_exact(sock, 3), "big")
    if first == 0xF0:
        return int.from_bytes(_recv_exact(sock, 4), "big")
    raise ValueError(f"control byte {first:#x} is not a length")


def encode_sentence(words: Iterable[str]) -> bytes:
    out = b""
    for word in words:
        raw = word.encode("utf-8")
        out += encode_length(len(raw)) + raw
    return out + b"\x00"


#: a sentence longer than this is refused as malformed (a real router has a limit too)
MAX_WORD = 1 << 20


def read_sentence(sock) -> list[str]:
    words = []
    while True:
        n = decode_length(sock)
        if n == 0:
            return words
        if n > MAX_WORD:
            raise ValueError("word too long")
        words.append(_recv_exact(sock, n).decode("utf-8", "replace"))


# ----------------------------------------------------------------------------- rates
_UNITS = {"": 1, "k": 1000, "K": 1000, "M": 1000_000, "G": 1000_000_000}


def parse_rate(text: str) -> int:
    """``"10M"`` -> 10000000; ``"2500k"`` -> 2500000; ``"0"`` -> 0."""
    m = re.fullmatch(r"\s*(\d+)([kKMG]?)\s*", str(text))
    if not m:
        raise ValueError(text)
    return int(m.group(1)) * _UNITS[m.group(2)]


def format_rate(bps: int) -> str:
    """RouterOS 7's short form: 10000000 -> ``"10M"``, 2500000 -> ``"2500k"``."""
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if bps and bps % size == 0:
            return f"{bps // size}{unit}"
    return str(bps)


# ----------------------------------------------------------------------------- menus
@dataclass
class Menu:
    path: str
    #: properties that must be unique (the "same name already exists" trap) and their noun
    unique: tuple[str, ...] = ()
    noun: str = "item"
    defaults: dict[str, str] = field(default_factory=dict)
    #: properties whose values are rates, normalized per version
    rates: tuple[str, ...] = ()
    #: enumerated values (``input does not match any value``)
    choices: dict[str, tuple[str, ...]] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    writable: bool = True


_BOOL = ("yes", "no", "true", "false")
MENUS: dict[str, Menu] = {m.path: m for m in (
    Menu("/ppp/secret", ("name",), "secret",
         {"service": "any", "profile": "default", "disabled": "false", "comment": ""},
         choices={"service": ("any", "async", "l2tp", "ovpn", "pppoe", "pptp", "sstp"),
                  "disabled": _BOOL}, required=("name",)),
    Menu("/ppp/profile", ("name",), "profile", {"rate-limit": "", "comment": ""},
         rates=("rate-limit",), required=("name",)),
    Menu("/ppp/active", (), "active", {"service": "pppoe"}),
    Menu("/ip/hotspot/active", (), "active", {"server": "hotspot1"}),
    Menu("/queue/simple", ("name",), "queue", {"max-limit": "0/0", "disabled": "false",
                                                "comment": ""},
         rates=("max-limit",), choices={"disabled": _BOOL}, required=("target",)),
    Menu("/ip/firewall/address-list", (), "entry",
         {"disabled": "false", "comment": "", "dynamic": "false"},
         choices={"disabled": _BOOL}, required=("list", "address")),
    Menu("/ip/dhcp-server/lease", ("mac-address",), "lease",
         {"server": "all", "disabled": "false", "block-access": "false", "comment": "",
          "dynamic": "false"},
         choices={"disabled": _BOOL, "block-access": _BOOL},
         required=("address", "mac-address")),
    Menu("/ip/hotspot/user", ("name",), "user",
         {"server": "all", "profile": "default", "disabled": "false", "comment": ""},
         choices={"disabled": _BOOL}, required=("name",)),
    Menu("/system/resource", writable=False),
    Menu("/system/identity", writable=False),
    Menu("/system/routerboard", writable=False),
)}


class _Fatal(Exception):
    pass


class _Trap(Exception):
    def __init__(self, message: str, category: int | None = None):
        super().__init__(message)
        self.category = category


# ----------------------------------------------------------------------------- simulator
class RouterOSSimulator:
    """One simulated router. Thread-safe; each connection is served by its own thread.

    Counters (``commands``, ``writes``, ``logins``) let tests prove what a backend did, e.g.
    that a reconcile with nothing to change sent no write command.
    """

    def __init__(self, *, version: str = "7.16.2", username: str = "admin",
                 password: str = "secret", identity: str = "SimRouter",
                 host: str = "127.0.0.1", port: int = 0, tls: bool = False,
                 certfile: str | None = None, keyfile: str | None = None):
        self.version = version
        self.username, self.password, self.identity = username, password, identity
        self.host, self._port, self.tls = host, port, tls
        self.certfile, self.keyfile = certfile, keyfile
        self.lock = threading.RLock()
        self.items: dict[str, list[dict[str, str]]] = {p: [] for p in MENUS}
        self._next_id = 1
        self.commands = 0
        self.writes = 0
        self.logins = 0
        self.log: list[tuple[str, ...]] = []
        # faults
        self.reject_login = False
        self.delay = 0.0
        self.drop_after_writes: int | None = None
        self.drop_mid_sentence = False
        self.trap_values: dict[str, str] = {}  # property -> value that traps as invalid
        self.fatal_next = False  # answer the next command after login with !fatal and close
        self._sock: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._conns: set[socket.socket] = set()
        self._stopping = threading.Event()

    # -------------------------------------------------------------- lifecycle
    @property
    def port(self) -> int:
        assert self._sock is not None, "start() the simulator first"
        return self._sock.getsockname()[1]

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0])

    def start(self) -> RouterOSSimulator:
        self._sock = socket.create_server((self.host, self._port))
        self._sock.settimeout(0.2)
        t = threading.Thread(target=self._accept_loop, name="routeros-sim", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._sock:
            self._sock.close()
        with self.lock:
            for c in list(self._conns):
                _close(c)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def reset_counters(self) -> None:
        with self.lock:
            self.commands = self.writes = 0
            self.log.clear()

    def drop_connections(self) -> None:
        with self.lock:
            for c in list(self._conns):
                _close(c)

    # -------------------------------------------------------------- state helpers for tests
    def _new_id(self) -> str:
        value = f"*{self._next_id:X}"
        self._next_id += 1
        return value

    def add(self, path: str, **props: Any) -> str:
        """Create an object by hand (as an admin in Winbox would); returns its ``.id``."""
        with self.lock:
            return self._add(path, {k.replace("_", "-"): _s(v) for k, v in props.items()})

    def find(self, path: str, **match: Any) -> list[dict[str, str]]:
        want = {k.replace("_", "-"): _s(v) for k, v in match.items()}
        with self.lock:
            return [dict(self._shown(path, i)) for i in self.items[path]
                    if all(self._shown(path, i).get(k) == v for k, v in want.items())]

    def set(self, path: str, item_id: str, **props: Any) -> None:
        with self.lock:
            self._set(path, item_id, {k.replace("_", "-"): _s(v) for k, v in props.items()})

    def remove(self, path: str, item_id: str) -> None:
        with self.lock:
            self._remove(path, item_id)

    def connect_session(self, name: str, address: str = "", service: str = "pppoe") -> str:
        """A PPP client dials in: an entry appears in ``/ppp/active``."""
        with self.lock:
            return self._add("/ppp/active", {"name": name, "address": address,
                                             "service": service, "uptime": "1m"})

    def connect_hotspot(self, user: str, address: str = "") -> str:
        """A hotspot client logs in: an entry appears in ``/ip/hotspot/active``."""
        with self.lock:
            return self._add("/ip/hotspot/active", {"user": user, "address": address})

    def upgrade(self, version: str) -> None:
        """Change the RouterOS version; print output follows the new version's forms."""
        with self.lock:
            self.version = version

    # -------------------------------------------------------------- menu operations
    def _check(self, menu: Menu, props: dict[str, str], own_id: str | None = None):
        for key, value in props.items():
            if key.startswith("."):
                continue
            if self.trap_values.get(key) == value:
                raise _Trap(f"invalid value for argument {key}")
            allowed = menu.choices.get(key)
            if allowed and value not in allowed:
                raise _Trap(f"input does not match any value of {key}")
            if key in menu.rates and value:
                try:
                    [parse_rate(p) for p in value.split("/")]
                except ValueError:
                    raise _Trap(f"invalid value for argument {key}") from None
        for key in menu.unique:
            if key in props:
                for other in self.items[menu.path]:
                    if other[".id"] != own_id and other.get(key, "").lower() == props[key].lower():
                        raise _Trap(f"failure: {menu.noun} with the same {key.replace('-', ' ')}"
                                    " already exists")

    def _add(self, path: str, props: dict[str, str]) -> str:
        menu = MENUS[path]
        for key in menu.required:
            if not props.get(key):
                raise _Trap(f"failure: {key} not specified" if key != "name"
                            else "failure: name not specified")
        self._check(menu, props)
        item = dict(menu.defaults)
        item.update(self._stored(menu, props))
        item[".id"] = self._new_id()
        self.items[path].append(item)
        return item[".id"]

    def _stored(self, menu: Menu, props: dict[str, str]) -> dict[str, str]:
        out = {}
        for key, value in props.items():
            if key in menu.rates and value:
                value = "/".join(str(parse_rate(p)) for p in value.split("/"))  # bits inside
            if menu.choices.get(key) is _BOOL:  # RouterOS prints booleans as true/false
                value = "true" if value in ("yes", "true") else "false"
            out[key] = value
        return out

    def _get(self, path: str, item_id: str) -> dict[str, str]:
        for item in self.items[path]:
            if item[".id"] == item_id:
                return item
        # RouterOS also accepts a name where an id is expected
        for item in self.items[path]:
            if item.get("name") == item_id:
                return item
        raise _Trap("no such item", 0)

    def _set(self, path: str, item_id: str, props: dict[str, str]) -> None:
        menu = MENUS[path]
        item = self._get(path, item_id)
        self._check(menu, props, item[".id"])
        item.update(self._stored(menu, props))

    def _remove(self, path: str, item_id: str) -> None:
        item = self._get(path, item_id)
        self.items[path].remove(item)

    def _shown(self, path: str, item: dict[str, str]) -> dict[str, str]:
        menu = MENUS[path]
        shown = dict(item)
        for key in menu.rates:
            if shown.get(key) and self.major >= 7:
                shown[key] = "/".join(format_rate(int(p)) for p in shown[key].split("/"))
        return shown

    def _system(self, path: str) -> list[dict[str, str]]:
        if path == "/system/identity":
            return [{"name": self.identity}]
        if path == "/system/resource":
            return [{"version": f"{self.version} (stable)", "board-name": "CCR2004-16G-2S+",
                     "architecture-name": "arm64" if self.major >= 7 else "tile",
                     "uptime": "3d2h1m", "cpu-load": "3", "free-memory": "3624960000",
                     "total-memory": "4294967296", "platform": "MikroTik"}]
        return [{"routerboard": "true", "model": "CCR2004-16G-2S+",
                 "serial-number": "HE40812ABCD", "firmware-type": "al2",
                 "current-firmware": self.version.split(" ")[0],
                 "upgrade-firmware": self.version.split(" ")[0]}]

    # -------------------------------------------------------------- server
    def _accept_loop(self):
        ctx = None
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.certfile, self.keyfile)
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn, ctx), daemon=True)
            t.start()

    def _serve(self, conn: socket.socket, ctx):
        try:
            conn.settimeout(30)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if ctx is not None:
                conn = ctx.wrap_socket(conn, server_side=True)
            with self.lock:
                self._conns.add(conn)
            logged_in = False
            while not self._stopping.is_set():
                try:
                    words = read_sentence(conn)
                except (ValueError, UnicodeError):
                    self._send(conn, ["!fatal", "malformed sentence"])
                    return
                if not words:
                    continue
                if self.delay:
                    time.sleep(self.delay)
                replies, close = self._handle(words, logged_in)
                if replies == "DROP":
                    return
                if words[0] == "/login" and not any(r[0] == "!trap" for r in replies):
                    logged_in = True
                for reply in replies:
                    if self.drop_mid_sentence and reply[0] == "!done" and words[0] != "/login":
                        data = encode_sentence(reply)
                        conn.sendall(data[: max(1, len(data) // 2)])
                        return
                    self._send(conn, reply)
                if close:
                    return
        except (OSError, ConnectionError, ssl.SSLError):
            return
        finally:
            with self.lock:
                self._conns.discard(conn)
            _close(conn)

    @staticmethod
    def _send(conn, words):
        conn.sendall(encode_sentence(words))

    def _handle(self, words: list[str], logged_in: bool):
        command, attrs, queries, tag = words[0], {}, [], None
        for word in words[1:]:
            if word.startswith("="):
                key, _, value = word[1:].partition("=")
                attrs[key] = value
            elif word.startswith("?"):
                queries.append(word[1:])
            elif word.startswith(".tag="):
                tag = word[5:]
        tagged = [f".tag={tag}"] if tag is not None else []
        with self.lock:
            self.commands += 1
            self.log.append((command,))
            try:
                if command == "/login":
                    self.logins += 1
                    if (self.reject_login or attrs.get("name") != self.username
                            or attrs.get("password") != self.password):
                        return [["!trap", "=message=invalid user name or password (6)", *tagged],
                                ["!done", *tagged]], False
                    return [["!done", *tagged]], False
                if not logged_in:
                    return [["!fatal", "not logged in"]], True
                if self.fatal_next:
                    self.fatal_next = False
                    return [["!fatal", "session terminated by simulated fault"]], True
                if command == "/quit":
                    return [["!fatal", "session terminated on request"]], True
                path, _, verb = command.rpartition("/")
                if path not in MENUS:
                    raise _Trap("no such command prefix", 0)
                menu = MENUS[path]
                if verb in ("print", "getall"):
                    rows = self._print(path, attrs, queries)
                    out = [["!re", *tagged, *(f"={k}={v}" for k, v in r.items())] for r in rows]
                    if not rows and self._has_empty():
                        out.append(["!empty", *tagged])
                    return out + [["!done", *tagged]], False
                if verb not in ("add", "set", "remove") or not menu.writable:
                    raise _Trap("no such command", 0)
                if self.drop_after_writes is not None:
                    if self.drop_after_writes <= 0:
                        self.drop_after_writes = None
                        return "DROP", True
                    self.drop_after_writes -= 1
                self.writes += 1
                self.log[-1] = (command, *(f"{k}={v}" for k, v in attrs.items()
                                           if k != "password"))
                props = {k: v for k, v in attrs.items() if not k.startswith(".")}
                if verb == "add":
                    new_id = self._add(path, props)
                    return [["!done", f"=ret={new_id}", *tagged]], False
                ids = attrs.get(".id", "")
                if not ids:
                    raise _Trap("no such item", 0)
                for item_id in ids.split(","):  # RouterOS: all ids checked first
                    self._get(path, item_id)
                for item_id in ids.split(","):
                    if verb == "set":
                        self._set(path, item_id, props)
                    else:
                        self._remove(path, item_id)
                return [["!done", *tagged]], False
            except _Trap as trap:
                reply = ["!trap", f"=message={trap}", *tagged]
                if trap.category is not None:
                    reply.insert(1, f"=category={trap.category}")
                return [reply, ["!done", *tagged]], False

    def _has_empty(self) -> bool:
        parts = [int(p) for p in re.findall(r"\d+", self.version)[:2]]
        return parts >= [7, 18]

    def _print(self, path: str, attrs: dict[str, str], queries: list[str]):
        if path.startswith("/system/"):
            rows = self._system(path)
        else:
            rows = [self._shown(path, i) for i in self.items[path]]
        if queries:
            rows = [r for r in rows if _evaluate(queries, r)]
        proplist = attrs.get(".proplist")
        if proplist:
            keys = proplist.split(",")
            rows = [{k: r[k] for k in keys if k in r} for r in rows]
        return rows


def _evaluate(queries: list[str], row: dict[str, str]) -> bool:
    """RouterOS query words: a stack of booleans, implicitly AND-ed at the end."""
    stack: list[bool] = []
    for q in queries:
        if q.startswith("#"):
            for op in q[1:]:
                if op == "!":
                    stack.append(not stack.pop())
                elif op == "&":
                    b, a = stack.pop(), stack.pop()
                    stack.append(a and b)
                elif op == "|":
                    b, a = stack.pop(), stack.pop()
                    stack.append(a or b)
                elif op == ".":
                    stack.append(stack[-1])
            continue
        if q.startswith("-"):
            stack.append(q[1:] not in row)
        elif q.startswith(">") or q.startswith("<"):
            key, _, value = q[1:].partition("=")
            have = row.get(key)
            if have is None:
                stack.append(False)
                continue
            try:
                a, b = int(have), int(value)
            except ValueError:
                a, b = have, value
            stack.append(a > b if q[0] == ">" else a < b)
        elif "=" in q:
            key, _, value = q.partition("=")
            stack.append(row.get(key) == value)
        else:
            stack.append(q in row)
    return all(stack)


def _s(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _close(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass
