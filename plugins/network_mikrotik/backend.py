"""RouterOS provisioning backend: desired state over the RouterOS API (librouteros).

Every object Backhaul creates carries ``comment=backhaul:<key>`` (shared rate profiles carry
``backhaul:profile``); ``read`` returns only those, so configuration made by hand is never
read, changed or removed. One connection per ``read``/``apply``; each menu is printed once with
``=.proplist=``; writes are pipelined in batches (tagged sentences) on that connection, so the
number of round trips does not grow with the number of subscribers.
"""
from __future__ import annotations

import hashlib
import socket
import ssl
from collections.abc import Sequence
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from backhaul.sdk.provisioning import (
    ApplyResult,
    Change,
    ChangeAction,
    ConnectionResult,
    DeviceRef,
    ProvisioningBackend,
    ProvisioningError,
    Subscriber,
    SubscriberState,
)

MARK = "backhaul:"
PROFILE_MARK = "backhaul:profile"
BATCH = 50

#: section -> (menu, properties read back)
MENUS = {
    "ppp_secret": ("/ppp/secret", ("name", "profile", "service", "remote-address", "disabled",
                                   "password")),
    "queue": ("/queue/simple", ("name", "target", "max-limit", "disabled")),
    "address_list": ("/ip/firewall/address-list", ("list", "address", "disabled", "dynamic")),
    "dhcp_lease": ("/ip/dhcp-server/lease", ("mac-address", "address", "server",
                                             "block-access", "disabled", "dynamic")),
    "hotspot_user": ("/ip/hotspot/user", ("name", "profile", "server", "disabled",
                                          "password")),
}


class RouterOSSettings(Schema):
    """A router's backend settings (the host, username and password are the device's)."""

    #: the device record's host/username win; these let a configured instance stand alone
    host = fields.String(load_default="")
    username = fields.String(load_default="")
    port = fields.Integer(load_default=None, allow_none=True,
                          validate=validate.Range(min=1, max=65535),
                          metadata={"description": "API port: 8728, or 8729 with TLS"})
    tls = fields.Boolean(load_default=False, metadata={"description": "api-ssl (port 8729)"})
    tls_verify = fields.Boolean(load_default=True,
                                metadata={"description": "verify the router's certificate"})
    ca_file = fields.String(load_default="", metadata={"description": "CA bundle for TLS"})
    timeout = fields.Float(load_default=10.0, validate=validate.Range(min=0.5, max=120))
    password = fields.String(load_default="", metadata={"secret": True,
                             "description": "API password when not set on the device"})
    ppp = fields.Boolean(load_default=True, metadata={"description": "PPPoE secrets"})
    ppp_service = fields.String(load_default="pppoe", validate=validate.OneOf(
        ["any", "pppoe", "l2tp", "pptp", "sstp", "ovpn"]))
    queues = fields.Boolean(load_default=True, metadata={"description": "simple queues"})
    dhcp_leases = fields.Boolean(load_default=True)
    dhcp_server = fields.String(load_default="all")
    hotspot = fields.Boolean(load_default=False, metadata={"description": "hotspot users"})
    hotspot_profile = fields.String(load_default="default")
    delinquent_list = fields.String(load_default="backhaul-delinquent",
                                    validate=validate.Length(min=1, max=63))
    #: which states put the address on the delinquent list (the router's own firewall rules
    #: redirect or throttle what is on it)
    delinquent_states = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in SubscriberState
                                               if s != SubscriberState.ACTIVE])),
        load_default=lambda: ["redirected", "suspended"])
    #: "queue": a throttled subscriber's queue/profile carries the throttle rate;
    #: "address-list": its address goes on the list instead (router rules throttle)
    #: compare a digest of the PPP/hotspot password read back (needs an API user whose group
    #: has the ``sensitive`` policy; without it turn this off, or every reconcile rewrites them)
    check_passwords = fields.Boolean(load_default=True)
    #: migration from hand-made config: an unmarked object with a subscriber's natural key
    #: (PPP/hotspot name, lease MAC, list+address, queue target) is taken over (marked and
    #: set) instead of failing with "already exists"
    adopt_existing = fields.Boolean(load_default=False)
    throttle_by = fields.String(load_default="queue",
                                validate=validate.OneOf(["queue", "address-list"]))

    @validates_schema
    def _tls_port(self, data, **kwargs):
        if data.get("ca_file") and not data.get("tls"):
            raise ValidationError("a CA file needs TLS on", "ca_file")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def _bits(kbps: int | None) -> int:
    return int(kbps or 0) * 1000


def rate(text: Any) -> str:
    """Any RouterOS rate pair to plain bits ``"up/down"`` (6 says 10000000, 7 says 10M)."""
    units = {"k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9}
    out = []
    for part in str(text or "").split("/"):
        part = part.strip()
        if not part:
            out.append("0")
        elif part[-1] in units:
            out.append(str(int(part[:-1]) * units[part[-1]]))
        else:
            out.append(str(int(part)))
    return "/".join(out)


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "yes")


class RouterOSBackend(ProvisioningBackend):
    key = "mikrotik.routeros"
    label = "MikroTik RouterOS (API)"
    marker = MARK
    settings_schema = RouterOSSettings
    secret_fields = ("password",)

    # ------------------------------------------------------------------ connection
    def _settings(self, device: DeviceRef) -> dict:
        try:
            return self.validate_settings(dict(device.settings))
        except ValidationError as exc:
            raise ProvisioningError(f"invalid settings: {exc.messages}", retryable=False) from exc

    def connect(self, device: DeviceRef):
        import librouteros
        from librouteros.exceptions import FatalError, LibRouterosError, TrapError

        s = self._settings(device)
        port = device.port or s["port"] or (8729 if s["tls"] else 8728)
        password = device.password.reveal() or s["password"]
        host, username = device.host or s["host"], device.username or s["username"]
        if not host or not username:
            raise ProvisioningError("no host or username for the router", retryable=False)
        wrapper = None
        if s["tls"]:
            ctx = ssl.create_default_context(cafile=s["ca_file"] or None)
            if not s["tls_verify"]:
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            wrapper = lambda sock: ctx.wrap_socket(sock, server_hostname=host)  # noqa: E731
        where = f"{host}:{port}"
        try:
            return librouteros.connect(host, username, password, port=port,
                                       timeout=s["timeout"], ssl_wrapper=wrapper)
        except TrapError as exc:
            if "invalid user name or password" in str(exc) or "cannot log in" in str(exc):
                raise ProvisioningError(f"{where}: login refused (wrong username or password)",
                                        retryable=False) from exc
            raise ProvisioningError(f"{where}: login failed: {exc}", retryable=False) from exc
        except ssl.SSLCertVerificationError as exc:
            raise ProvisioningError(f"{where}: TLS certificate not trusted ({exc.verify_message})",
                                    retryable=False) from exc
        except ssl.SSLError as exc:
            raise ProvisioningError(f"{where}: TLS failed ({exc})", retryable=False) from exc
        except TimeoutError as exc:
            raise ProvisioningError(f"{where}: no answer within {s['timeout']} s (timeout)",
                                    retryable=True) from exc
        except ConnectionRefusedError as exc:
            raise ProvisioningError(f"{where}: connection refused (API service off or wrong "
                                    "port?)", retryable=True) from exc
        except (OSError, FatalError, ConnectionError, LibRouterosError, ValueError) as exc:
            raise ProvisioningError(f"{where}: unreachable ({exc})", retryable=True) from exc

    #: API round trips (a login, a print, a pipelined batch of writes) over this backend's
    #: life: the benchmark and tests read it
    round_trips = 0

    def _session(self, device: DeviceRef):
        return _Session(self.connect(device), device.host or device.settings.get("host", "") or device.name, self)

    # ------------------------------------------------------------------ facts
    def test_connection(self, device: DeviceRef) -> ConnectionResult:
        try:
            with self._session(device) as session:
                identity = session.print("/system/identity")
                resource = session.print("/system/resource")
                board = session.print("/system/routerboard")
        except ProvisioningError as exc:
            return ConnectionResult(False, str(exc))
        res = resource[0] if resource else {}
        rb = board[0] if board else {}
        version = str(res.get("version", ""))
        facts = {"identity": str((identity or [{}])[0].get("name", "")),
                 "version": version.split(" ")[0], "version_full": version,
                 "board": str(res.get("board-name", "")),
                 "architecture": str(res.get("architecture-name", "")),
                 "uptime": str(res.get("uptime", "")),
                 "model": str(rb.get("model", "")),
                 "serial": str(rb.get("serial-number", "")),
                 "firmware": str(rb.get("current-firmware", ""))}
        major = facts["version"].split(".")[0]
        if major.isdigit() and int(major) < 6:
            return ConnectionResult(False, f"RouterOS {version} is not supported (6.43+)", facts)
        return ConnectionResult(True, f"{facts['identity']} RouterOS {version}", facts)

    # ------------------------------------------------------------------ render
    def render(self, device: DeviceRef, subscriber: Subscriber) -> dict[str, Any]:
        s = self._settings(device)
        sub, out = subscriber, {}
        state = sub.state
        listed = state.value in s["delinquent_states"] or (
            state == SubscriberState.THROTTLED and s["throttle_by"] == "address-list")
        suspended = state == SubscriberState.SUSPENDED
        limit = f"{_bits(sub.upload_kbps)}/{_bits(sub.download_kbps)}"
        if s["ppp"] and sub.username:
            profile = self.profile_name(sub)
            out["ppp_secret"] = {
                "name": sub.username, "service": s["ppp_service"], "profile": profile,
                "rate_limit": limit if profile != "default" else "",
                "remote_address": sub.ipv4 or "", "disabled": suspended}
        if s["queues"] and sub.ipv4 and (sub.download_kbps or sub.upload_kbps):
            out["queue"] = {"name": f"backhaul-{sub.key}", "target": _host(sub.ipv4),
                            "max_limit": limit, "disabled": False}
        if listed and sub.ipv4:
            out["address_list"] = {"list": s["delinquent_list"], "address": sub.ipv4,
                                   "disabled": False}
        if s["dhcp_leases"] and sub.mac and sub.ipv4:
            out["dhcp_lease"] = {"mac_address": sub.mac.upper(), "address": sub.ipv4,
                                 "server": s["dhcp_server"], "block_access": suspended,
                                 "disabled": False}
        if s["hotspot"] and sub.username:
            out["hotspot_user"] = {"name": sub.username, "profile": s["hotspot_profile"],
                                   "server": "all", "disabled": suspended}
        if s["check_passwords"]:
            for section in ("ppp_secret", "hotspot_user"):
                if section in out:
                    out[section]["password_sha256"] = _digest(sub.password.reveal())
        return out

    @staticmethod
    def profile_name(sub: Subscriber) -> str:
        if not (sub.download_kbps or sub.upload_kbps):
            return "default"
        return f"backhaul-{sub.download_kbps or 0}k-{sub.upload_kbps or 0}k"

    # ------------------------------------------------------------------ read
    def read(self, device: DeviceRef, keys: Sequence[str] | None = None) -> dict[str, dict]:
        with self._session(device) as session:
            state = self._read_state(session, device)
        out = {}
        for key, sections in state["owned"].items():
            if keys is not None and key not in keys:
                continue
            out[key] = {name: self._shape(name, items[0], state["profiles"], state["passwords"])
                        for name, items in sections.items()}
        return out

    def _read_state(self, session: _Session, device: DeviceRef) -> dict:
        s = self._settings(device)
        owned: dict[str, dict[str, list[dict]]] = {}
        unowned: dict[tuple[str, str], dict] = {}
        in_use: dict[str, int] = {}  # profile name -> secrets (anyone's) using it
        for section, (menu, props) in MENUS.items():
            if section == "hotspot_user" and not s["hotspot"]:
                continue
            for row in session.print(menu, (".id", "comment", *props)):
                comment = str(row.get("comment", ""))
                if section == "ppp_secret":
                    in_use[str(row.get("profile"))] = in_use.get(str(row.get("profile")), 0) + 1
                if not comment.startswith(MARK) or comment == PROFILE_MARK:
                    if not _bool(row.get("dynamic")):
                        unowned.setdefault((section, _natural(section, row)), row)
                    continue
                key = comment[len(MARK):].split(" ")[0]
                owned.setdefault(key, {}).setdefault(section, []).append(row)
        profiles = {}
        for row in session.print("/ppp/profile", (".id", "name", "rate-limit", "comment")):
            profiles[str(row.get("name"))] = row
        return {"owned": owned, "profiles": profiles, "unowned": unowned, "in_use": in_use,
                "passwords": s["check_passwords"]}

    def _shape(self, section: str, row: dict, profiles: dict, passwords: bool = True) -> dict:
        shaped = self._shape_row(section, row, profiles)
        if not passwords:
            shaped.pop("password_sha256", None)
        return shaped

    def _shape_row(self, section: str, row: dict, profiles: dict) -> dict:
        g = lambda k: "" if row.get(k) is None else str(row.get(k))  # noqa: E731
        if section == "ppp_secret":
            profile = g("profile")
            prof = profiles.get(profile, {})
            return {"name": g("name"), "service": g("service"), "profile": profile,
                    "rate_limit": rate(prof.get("rate-limit")) if prof.get("rate-limit") else "",
                    "remote_address": g("remote-address"), "disabled": _bool(row.get("disabled")),
                    "password_sha256": _digest(g("password"))}
        if section == "queue":
            return {"name": g("name"), "target": g("target"), "max_limit": rate(g("max-limit")),
                    "disabled": _bool(row.get("disabled"))}
        if section == "address_list":
            return {"list": g("list"), "address": g("address"),
                    "disabled": _bool(row.get("disabled"))}
        if section == "dhcp_lease":
            return {"mac_address": g("mac-address").upper(), "address": g("address"),
                    "server": g("server"), "block_access": _bool(row.get("block-access")),
                    "disabled": _bool(row.get("disabled"))}
        return {"name": g("name"), "profile": g("profile"), "server": g("server"),
                "disabled": _bool(row.get("disabled")), "password_sha256": _digest(g("password"))}

    # ------------------------------------------------------------------ apply
    def apply(self, device: DeviceRef, changes: Sequence[Change]) -> ApplyResult:
        if not changes:
            return ApplyResult()
        with self._session(device) as session:
            state = self._read_state(session, device)
            owned, profiles = state["owned"], state["profiles"]
            # 1. shared rate profiles the creates/updates need
            adopt = self._settings(device)["adopt_existing"]
            failures: dict[str, str] = {}
            batch, users = [], {}
            for change in changes:
                want = (change.after or {}).get("ppp_secret")
                if not want or want["profile"] == "default":
                    continue
                name, limit = want["profile"], want["rate_limit"]
                users.setdefault(name, []).append(change.key)
                have = profiles.get(name)
                if (have is not None and ".id" in have
                        and str(have.get("comment", "")) != PROFILE_MARK
                        and rate(have.get("rate-limit")) != limit):
                    failures.setdefault(change.key, f"profile {name} exists, was not made by "
                                        "Backhaul and has another rate-limit: rename or remove it")
                elif have is None:
                    profiles[name] = {"name": name, "rate-limit": limit}
                    batch.append((None, "/ppp/profile/add", {"name": name, "rate-limit": limit,
                                                             "comment": PROFILE_MARK}))
                elif (str(have.get("comment", "")) == PROFILE_MARK
                      and rate(have.get("rate-limit")) != limit):
                    have["rate-limit"] = limit
                    batch.append((None, "/ppp/profile/set", {".id": have[".id"],
                                                             "rate-limit": limit}))
            for (_, _, props), (_, reason) in zip(batch, session.run(batch), strict=True):
                name = props.get("name") or next(
                    (n for n, p in profiles.items() if p.get(".id") == props.get(".id")), "")
                for key in users.get(name, []) if reason else ():
                    failures.setdefault(key, f"profile {name}: {reason}")
            # 2. the subscriber objects
            batch, kicks, hotspot_kicks = [], [], []
            for change in changes:
                have = owned.get(change.key, {})
                want = dict(change.after or {})
                sub = change.subscriber
                for section, (menu, _) in MENUS.items():
                    rows = have.get(section, [])
                    target = want.get(section)
                    extra = rows[1:] if target is not None else rows
                    for row in extra:  # duplicates (an interrupted apply) and leftovers
                        batch.append((change.key, f"{menu}/remove", {".id": str(row[".id"])}))
                    if target is None:
                        continue
                    props = self._props(section, target, change.key, sub)
                    if not rows and adopt:
                        found = state["unowned"].pop(
                            (section, _natural(section, _api_keys(props))), None)
                        rows = [found] if found is not None else []
                        adopted = bool(rows)
                    else:
                        adopted = False
                    if rows:
                        current = self._shape(section, rows[0], profiles, state["passwords"])
                        if current == target and not adopted:
                            continue
                        props[".id"] = str(rows[0][".id"])
                        batch.append((change.key, f"{menu}/set", props))
                    else:
                        batch.append((change.key, f"{menu}/add", props))
                secret = want.get("ppp_secret")
                if secret and secret["disabled"] and change.action != ChangeAction.DELETE:
                    kicks.append(secret["name"])
                if change.action == ChangeAction.DELETE and have.get("ppp_secret"):
                    kicks.append(str(have["ppp_secret"][0].get("name")))
                hotspot = want.get("hotspot_user")
                if hotspot and hotspot["disabled"]:
                    hotspot_kicks.append(hotspot["name"])
                if change.action == ChangeAction.DELETE and have.get("hotspot_user"):
                    hotspot_kicks.append(str(have["hotspot_user"][0].get("name")))
            for key, reason in session.run(batch):
                if reason and key:
                    failures.setdefault(key, reason)
            # 3. Backhaul's rate profiles no secret uses any more (a plan that went away)
            in_use = dict(state["in_use"])
            for change in changes:
                for row in owned.get(change.key, {}).get("ppp_secret", []):
                    in_use[str(row.get("profile"))] = in_use.get(str(row.get("profile")), 0) - 1
                want = (change.after or {}).get("ppp_secret")
                if want and change.key not in failures:
                    in_use[want["profile"]] = in_use.get(want["profile"], 0) + 1
            session.run([(None, "/ppp/profile/remove", {".id": str(p[".id"])})
                         for name, p in profiles.items()
                         if ".id" in p and str(p.get("comment", "")) == PROFILE_MARK
                         and in_use.get(name, 0) <= 0])
            # 4. kick live sessions of suspended/removed subscribers
            if kicks:
                names = set(kicks)
                active = [r for r in session.print("/ppp/active", (".id", "name"))
                          if str(r.get("name")) in names]
                session.run([(None, "/ppp/active/remove", {".id": str(r[".id"])})
                             for r in active])
            if hotspot_kicks:
                names = set(hotspot_kicks)
                active = [r for r in session.print("/ip/hotspot/active", (".id", "user"))
                          if str(r.get("user")) in names]
                session.run([(None, "/ip/hotspot/active/remove", {".id": str(r[".id"])})
                             for r in active])
        applied = tuple(c for c in changes if c.key not in failures)
        failed = tuple((c, failures[c.key]) for c in changes if c.key in failures)
        return ApplyResult(applied, failed)

    def existing_secrets(self, device: DeviceRef) -> list[dict]:
        """The PPP secrets made by hand (no Backhaul marker): name, profile, remote address,
        service, disabled — for importing a router's subscribers. Passwords are not returned."""
        with self._session(device) as session:
            rows = session.print("/ppp/secret", (".id", "name", "profile", "remote-address",
                                                 "service", "disabled", "comment"))
        return [{"name": str(r.get("name", "")), "profile": str(r.get("profile", "")),
                 "remote_address": str(r.get("remote-address", "") or ""),
                 "service": str(r.get("service", "")), "disabled": _bool(r.get("disabled")),
                 "comment": str(r.get("comment", "") or "")}
                for r in rows if not str(r.get("comment", "") or "").startswith(MARK)]

    def _props(self, section: str, target: dict, key: str, sub: Subscriber | None) -> dict:
        comment = f"{MARK}{key}"
        yn = lambda b: "yes" if b else "no"  # noqa: E731
        password = sub.password.reveal() if sub is not None else None
        if section == "ppp_secret":
            props = {"name": target["name"], "service": target["service"],
                     "profile": target["profile"], "remote-address": target["remote_address"],
                     "disabled": yn(target["disabled"]), "comment": comment}
            if password is not None:
                props["password"] = password
            if not target["remote_address"]:
                props.pop("remote-address")
            return props
        if section == "queue":
            return {"name": target["name"], "target": target["target"],
                    "max-limit": target["max_limit"], "disabled": yn(target["disabled"]),
                    "comment": comment}
        if section == "address_list":
            return {"list": target["list"], "address": target["address"],
                    "disabled": yn(target["disabled"]), "comment": comment}
        if section == "dhcp_lease":
            return {"mac-address": target["mac_address"], "address": target["address"],
                    "server": target["server"], "block-access": yn(target["block_access"]),
                    "disabled": yn(target["disabled"]), "comment": comment}
        props = {"name": target["name"], "profile": target["profile"],
                 "server": target["server"], "disabled": yn(target["disabled"]),
                 "comment": comment}
        if password is not None:
            props["password"] = password
        return props


def _natural(section: str, row: dict) -> str:
    """What identifies an object on the router regardless of who made it."""
    g = lambda k: str(row.get(k) or "")  # noqa: E731
    if section in ("ppp_secret", "hotspot_user"):
        return g("name").lower()
    if section == "dhcp_lease":
        return g("mac-address").upper()
    if section == "address_list":
        return f"{g('list')}|{g('address')}"
    return g("target")


def _api_keys(props: dict) -> dict:
    return props


def _host(ip: str) -> str:
    return ip if "/" in ip else f"{ip}/32"


class _Session:
    """One logged-in API connection: prints and pipelined, tagged write batches."""

    def __init__(self, api, where: str, owner=None):
        self.api, self.where, self.owner = api, where, owner
        self.round_trips = 1  # the login

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.owner is not None:
            self.owner.round_trips += self.round_trips
        try:
            self.api.close()
        except Exception:  # noqa: BLE001 - closing a broken socket
            pass

    def _wrap(self, exc: Exception) -> ProvisioningError:
        from librouteros.exceptions import FatalError, LibRouterosError, TrapError
        if isinstance(exc, ProvisioningError):
            return exc
        if isinstance(exc, TrapError):
            return ProvisioningError(f"{self.where}: router refused: {exc}", retryable=False)
        if isinstance(exc, (TimeoutError, socket.timeout)):
            return ProvisioningError(f"{self.where}: timeout waiting for the router",
                                     retryable=True)
        if isinstance(exc, (FatalError, ConnectionError, OSError, LibRouterosError)):
            return ProvisioningError(f"{self.where}: connection lost ({exc})", retryable=True)
        return ProvisioningError(f"{self.where}: unexpected reply ({exc!r})", retryable=True)

    def print(self, menu: str, props: Sequence[str] = ()) -> list[dict]:
        words = [f"=.proplist={','.join(props)}"] if props else []
        self.round_trips += 1
        try:
            return list(self.api.rawCmd(f"{menu}/print", *words))
        except Exception as exc:  # noqa: BLE001 - every failure becomes a ProvisioningError
            raise self._wrap(exc) from exc

    def run(self, commands: list[tuple[Any, str, dict]]) -> list[tuple[Any, str]]:
        """Send commands in pipelined batches; ``[(ref, reason or "")]`` in order."""
        from librouteros.exceptions import MultiTrapError, TrapError
        from librouteros.protocol import compose_word
        results = []
        for start in range(0, len(commands), BATCH):
            chunk = commands[start:start + BATCH]
            self.round_trips += 1
            try:
                # untagged: RouterOS answers untagged commands in order (librouteros cannot
                # parse ``.tag`` words in replies anyway)
                for _, cmd, props in chunk:
                    words = [compose_word(k, v) for k, v in props.items()]
                    self.api.protocol.writeSentence(cmd, *words)
                for ref, _, _ in chunk:
                    try:
                        self.api.readResponse()
                        results.append((ref, ""))
                    except (TrapError, MultiTrapError) as exc:
                        results.append((ref, f"router refused: {exc}"))
            except Exception as exc:  # noqa: BLE001
                raise self._wrap(exc) from exc
        return results
