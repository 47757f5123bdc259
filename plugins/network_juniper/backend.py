"""Junos provisioning backend: desired state through NAPALM's ``junos`` driver.

Everything Backhaul owns lives in one configuration group (``groups backhaul``, applied with
``apply-groups backhaul``), so configuration made by hand is never read, changed or removed.
Per subscriber (``key`` = ``sub-<id>``), in that group:

* policers ``bh-<key>-up`` / ``bh-<key>-down`` for the service's speeds (``if-exceeding
  bandwidth-limit``/``burst-size-limit``, ``then discard``);
* filters ``family inet filter bh-<key>-in`` / ``-out`` matching the subscriber's address and
  sending it through its policer;
* the subscriber's ``/32`` in ``policy-options prefix-list bh-delinquent`` while delinquent
  (the device's own filters redirect or drop what is on that list);
* for a business service with a VLAN: ``interfaces <ifd> unit <vlan>`` (``vlan-id``,
  ``description bh:<key>``, unnumbered inet with the filters, ``disable`` while suspended)
  and a static route to its address through that unit.

A render is ``{object: [statements]}`` in ``display set`` form below the group, which is
exactly what ``read`` parses back, so drift in any owned statement shows. ``apply`` opens
one NETCONF session, locks the configuration, loads one ``set``/``delete`` batch for all
changes (``load_merge_candidate``), takes ``compare_config`` for the record, commits with
**commit confirmed** and confirms once the device still answers — if it stops answering,
Junos rolls the commit back by itself. A batch with nothing to change commits nothing;
``discard_config`` on any error.
"""
from __future__ import annotations

import contextlib
import logging
import re
import shlex
from collections.abc import Iterator, Sequence
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from backhaul.sdk.provisioning import (
    ApplyResult,
    Change,
    ConnectionResult,
    DeviceRef,
    ProvisioningBackend,
    ProvisioningError,
    Subscriber,
    SubscriberState,
)

log = logging.getLogger(__name__)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}$")
_IFD = re.compile(r"^(?:[a-z]{2,4}-\d+/\d+/\d+(?::\d+)?|ae\d+|reth\d+|irb|lo0|em\d|fxp\d)$")


class JunosSettings(Schema):
    """A Junos device's backend settings (host, username and password are the device's)."""

    host = fields.String(load_default="")
    username = fields.String(load_default="")
    password = fields.String(load_default="", metadata={"secret": True,
                             "description": "NETCONF password when not set on the device"})
    port = fields.Integer(load_default=830, validate=validate.Range(min=1, max=65535),
                          metadata={"description": "NETCONF over SSH (830, or 22)"})
    timeout = fields.Integer(load_default=30, validate=validate.Range(min=1, max=600),
                             metadata={"description": "seconds to wait for an RPC"})
    group = fields.String(load_default="backhaul", validate=validate.Regexp(_NAME),
                          metadata={"description": "the configuration group Backhaul owns"})
    delinquent_list = fields.String(load_default="bh-delinquent",
                                    validate=validate.Regexp(_NAME))
    delinquent_states = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in SubscriberState
                                               if s != SubscriberState.ACTIVE])),
        load_default=lambda: ["redirected", "suspended"])
    #: the physical interface business VLANs are units of (e.g. ``ge-0/0/1``, ``ae0``)
    business_interface = fields.String(load_default="", validate=validate.Regexp(
        r"^$|" + _IFD.pattern))
    unnumbered_source = fields.String(load_default="lo0.0",
                                      validate=validate.Regexp(r"^[a-z0-9/:-]+\.\d+$"))
    #: Junos counts commit confirmed in minutes: rolled back unless confirmed in time
    confirm_minutes = fields.Integer(load_default=2, validate=validate.Range(min=1, max=60))
    #: burst-size-limit as time at the bandwidth limit (Juniper suggests 5 ms)
    burst_ms = fields.Integer(load_default=5, validate=validate.Range(min=1, max=1000))


def rate(kbps: int) -> str:
    """Junos's short rate form: 100000 -> ``100m``, 2500 -> ``2500k``, 1000000 -> ``1g``."""
    for unit, size in (("g", 10**6), ("m", 10**3)):
        if kbps % size == 0:
            return f"{kbps // size}{unit}"
    return f"{kbps}k"


def _host(ip: str) -> str:
    return ip if "/" in ip else f"{ip}/32"


class JunosBackend(ProvisioningBackend):
    key = "juniper.junos"
    label = "Juniper Junos (NETCONF, NAPALM)"
    marker = "groups backhaul"
    settings_schema = JunosSettings
    secret_fields = ("password",)

    # ------------------------------------------------------------------ settings
    def _settings(self, device: DeviceRef) -> dict:
        cached = self._validated
        if cached is not None and cached[0] is device.settings:  # the same device, again
            return cached[1]
        try:
            loaded = self.validate_settings(dict(device.settings))
        except ValidationError as exc:
            raise ProvisioningError(f"invalid settings: {exc.messages}", retryable=False) from exc
        self._validated = (device.settings, loaded)
        return loaded

    #: (settings mapping, validated) of the last device: render runs once per subscriber
    _validated: tuple | None = None

    def applies_to(self, device: DeviceRef, subscriber: Subscriber) -> bool:
        """A Junos device acts on addresses and VLANs: a service with neither (a PPPoE
        login answered by RADIUS) has nothing to keep here."""
        return bool(subscriber.ipv4 or subscriber.vlan)

    # ------------------------------------------------------------------ render
    def render(self, device: DeviceRef, subscriber: Subscriber) -> dict[str, Any]:
        s = self._settings(device)
        sub, key, out = subscriber, subscriber.key, {}
        burst = lambda kbps: str(max(1500, kbps * s["burst_ms"] // 8))  # noqa: E731 bytes
        for way, kbps in (("up", sub.upload_kbps), ("down", sub.download_kbps)):
            if kbps:
                out[f"firewall policer bh-{key}-{way}"] = sorted([
                    f"if-exceeding bandwidth-limit {rate(kbps)}",
                    f"if-exceeding burst-size-limit {burst(kbps)}", "then discard"])
        host = _host(sub.ipv4) if sub.ipv4 else None
        if host:
            for name, way, match, kbps in (("in", "up", "source-address", sub.upload_kbps),
                                           ("out", "down", "destination-address",
                                            sub.download_kbps)):
                lines = [f"term police from {match} {host}", "term police then accept"]
                if kbps:
                    lines.append(f"term police then policer bh-{key}-{way}")
                out[f"firewall family inet filter bh-{key}-{name}"] = sorted(lines)
            if sub.state.value in s["delinquent_states"]:
                out[f"policy-options prefix-list {s['delinquent_list']} {host}"] = []
        if sub.vlan and s["business_interface"]:
            ifl = f"{s['business_interface']}.{int(sub.vlan)}"
            lines = [f"description bh:{key}", f"vlan-id {int(sub.vlan)}"]
            if host:
                lines += [f"family inet unnumbered-address {s['unnumbered_source']}",
                          f"family inet filter input bh-{key}-in",
                          f"family inet filter output bh-{key}-out"]
                ip = host.split("/")[0]
                out[f"routing-options static route {host}"] = [
                    f"qualified-next-hop {ip} interface {ifl}"]
            if sub.state == SubscriberState.SUSPENDED:
                lines.append("disable")
            out[f"interfaces {s['business_interface']} unit {int(sub.vlan)}"] = sorted(lines)
        return out

    # ------------------------------------------------------------------ sessions
    @contextlib.contextmanager
    def session(self, device: DeviceRef, *, lock: bool = False) -> Iterator[Any]:
        """An open NAPALM junos driver (``lock``: the configuration locked for the session)."""
        from jnpr.junos import exception as jex
        from napalm import get_network_driver
        from napalm.base import exceptions as nex

        s = self._settings(device)
        host, username = device.host or s["host"], device.username or s["username"]
        password = device.password.reveal() or s["password"]
        port = device.port or s["port"]
        if not host or not username:
            raise ProvisioningError("no host or username for the device", retryable=False)
        where = f"{host}:{port}"
        driver = get_network_driver("junos")(
            host, username, password, timeout=s["timeout"],
            optional_args={"port": port, "config_lock": lock, "lock_disable": not lock})
        try:
            driver.open()
        except jex.ConnectAuthError as exc:
            raise ProvisioningError(f"{where}: login refused (wrong username or password)",
                                    retryable=False) from exc
        except (jex.ConnectTimeoutError, nex.ConnectionException) as exc:
            raise ProvisioningError(f"{where}: no answer (timeout): {exc}",
                                    retryable=True) from exc
        except jex.ConnectRefusedError as exc:
            raise ProvisioningError(f"{where}: connection refused (NETCONF over SSH off or "
                                    "wrong port?)", retryable=True) from exc
        except (jex.LockError, nex.LockError) as exc:
            _close(driver)
            raise ProvisioningError(f"{where}: the configuration is locked by someone else "
                                    f"({_reason(exc)}); retrying later",
                                    retryable=True) from exc
        except (jex.ConnectError, OSError) as exc:
            raise ProvisioningError(f"{where}: unreachable ({exc})", retryable=True) from exc
        try:
            yield driver
        except ProvisioningError:
            raise
        except (jex.RpcTimeoutError, TimeoutError) as exc:
            raise ProvisioningError(f"{where}: timeout waiting for the device",
                                    retryable=True) from exc
        except (jex.ConnectClosedError, jex.ConnectError, OSError, EOFError) as exc:
            raise ProvisioningError(f"{where}: connection lost ({exc})", retryable=True) from exc
        except jex.RpcError as exc:
            raise ProvisioningError(f"{where}: the device refused: {_reason(exc)}",
                                    retryable=False) from exc
        except nex.NapalmException as exc:  # e.g. Junos older than 14.1 (no commit revisions)
            raise ProvisioningError(f"{where}: {_first_line(exc)}", retryable=False) from exc
        except Exception as exc:  # ncclient's transport errors and other surprises
            if type(exc).__module__.startswith(("ncclient", "paramiko")):
                raise ProvisioningError(f"{where}: connection lost ({exc!r})",
                                        retryable=True) from exc
            raise
        finally:
            _close(driver)

    # ------------------------------------------------------------------ facts
    def test_connection(self, device: DeviceRef) -> ConnectionResult:
        try:
            with self.session(device) as driver:
                napalm_facts = driver.get_facts()
        except ProvisioningError as exc:
            return ConnectionResult(False, str(exc))
        facts = {"hostname": napalm_facts.get("hostname", ""),
                 "model": napalm_facts.get("model", ""),
                 "version": napalm_facts.get("os_version", ""),
                 "serial": napalm_facts.get("serial_number", ""),
                 "vendor": napalm_facts.get("vendor", "Juniper"),
                 "uptime": napalm_facts.get("uptime", -1),
                 "interfaces": list(napalm_facts.get("interface_list", []))}
        return ConnectionResult(True, f"{facts['hostname']} {facts['model']} Junos "
                                      f"{facts['version']}", facts)

    # ------------------------------------------------------------------ read
    def read(self, device: DeviceRef, keys: Sequence[str] | None = None) -> dict[str, dict]:
        s = self._settings(device)
        with self.session(device) as driver:
            self._no_pending_commit(driver, device)
            text = self._config(driver, s)
        owned = self.owned(text, s)
        return {k: v for k, v in owned.items() if keys is None or k in keys}

    @staticmethod
    def _no_pending_commit(driver, device: DeviceRef) -> None:
        """While a commit confirmed waits, what the device shows may go away by itself: a
        read would call it converged, an apply would build on it. Both wait instead."""
        if driver.has_pending_commit():
            raise ProvisioningError(
                f"{device.name}: a commit confirmed is waiting on the device (it is confirmed "
                "or rolled back by itself); trying again after it", retryable=True)

    @staticmethod
    def _config(driver, s: dict) -> str:
        """The committed configuration of the group (and the top-level ``apply-groups``),
        ``display set`` form."""
        from lxml import etree

        filter_xml = (f"<configuration><groups><name>{s['group']}</name></groups>"
                      "<apply-groups/></configuration>")
        reply = driver.device.rpc.get_config(filter_xml=etree.XML(filter_xml),
                                             options={"format": "set",
                                                      "database": "committed"})
        return reply.text or ""

    @staticmethod
    def owned(text: str, s: dict) -> dict[str, dict[str, list[str]]]:
        """``display set`` lines of the Backhaul group as ``key -> {object: [statements]}``."""
        prefix = ["set", "groups", s["group"]]
        objects: dict[str, list[str]] = {}
        for line in text.splitlines():
            if '"' in line:
                try:
                    words = shlex.split(line)
                except ValueError:
                    continue
            else:
                words = line.split()
            if words[:3] != prefix:
                continue
            obj, rest = _object(words[3:])
            if obj is not None:
                objects.setdefault(obj, [])
                if rest:
                    objects[obj].append(rest)
        keys_of: dict[str, str] = {}  # object -> key
        address_key: dict[str, str] = {}
        for obj, lines in objects.items():
            m = re.match(r"firewall (?:family inet filter|policer) bh-(.+)-(?:in|out|up|down)$",
                         obj)
            if m:
                keys_of[obj] = m.group(1)
                for line in lines:
                    hit = re.match(r"term police from source-address (\S+)$", line)
                    if hit and obj.endswith("-in"):
                        address_key[hit.group(1)] = m.group(1)
            elif obj.startswith("interfaces "):
                for line in lines:
                    if line.startswith("description bh:"):
                        keys_of[obj] = line.split(":", 1)[1]
        for obj in objects:
            m = re.match(r"(?:routing-options static route|policy-options prefix-list "
                         + re.escape(s["delinquent_list"]) + r") (\S+)$", obj)
            if m and m.group(1) in address_key:
                keys_of[obj] = address_key[m.group(1)]
        out: dict[str, dict[str, list[str]]] = {}
        for obj, key in keys_of.items():
            out.setdefault(key, {})[obj] = sorted(objects[obj])
        return out

    # ------------------------------------------------------------------ apply
    def apply(self, device: DeviceRef, changes: Sequence[Change]) -> ApplyResult:
        s = self._settings(device)
        with self.session(device, lock=True) as driver:
            self._no_pending_commit(driver, device)
            text = self._config(driver, s)
            current = self.owned(text, s)
            applied = f"set apply-groups {s['group']}"
            head = [] if applied in text.splitlines() else [applied]
            batches = {c.key: self.statements(s, current.get(c.key, {}), c.after or {})
                       for c in changes}
            if not any(batches.values()):
                return ApplyResult(tuple(changes))
            failures = self._load(driver, head, batches)
            loaded = [c for c in changes if c.key not in failures]
            self.last_diff = driver.compare_config() if loaded else ""
            if not self.last_diff:
                driver.discard_config()
                return _result(changes, failures)
            self._commit(driver, device, s, changes, failures)
        return _result(changes, failures)

    last_diff = ""

    @staticmethod
    def statements(s: dict, have: dict, want: dict) -> list[str]:
        """``delete``/``set`` lines that turn one subscriber's ``have`` into ``want``."""
        group = f"groups {s['group']}"
        lines = []
        for obj, rel in have.items():
            if want.get(obj) != rel:
                lines.append(f"delete {group} {obj}")
        for obj, rel in want.items():
            if have.get(obj) != rel:
                lines += [f"set {group} {obj} {r}".rstrip() for r in (rel or [""])]
        return lines

    def _load(self, driver, head: list[str], batches: dict[str, list[str]]) -> dict[str, str]:
        """Load every subscriber's lines as one batch. When the device refuses the batch
        (napalm discards the candidate then), try each subscriber alone to find the ones it
        refuses, and load the others together again: one bad entry fails alone."""
        from napalm.base.exceptions import MergeConfigException

        def load(lines: list[str]) -> str | None:
            try:
                driver.load_merge_candidate(config="\n".join(head + lines))
                return None
            except MergeConfigException as exc:
                return _reason(exc)

        whole = load([ln for batch in batches.values() for ln in batch])
        if whole is None:
            return {}
        failures = {}
        for key, batch in batches.items():
            if batch:
                why = load(batch)
                driver.discard_config()
                if why is not None:
                    failures[key] = f"the device refused the configuration: {why}"
        if not failures:  # refused together, accepted apart: nothing to single out
            return {k: f"the device refused the configuration: {whole}" for k in batches}
        good = [ln for k, batch in batches.items() if k not in failures for ln in batch]
        if good and load(good) is not None:
            return {k: f"the device refused the configuration: {whole}" for k in batches}
        return failures

    def _commit(self, driver, device: DeviceRef, s: dict, changes, failures) -> None:
        """Commit confirmed; confirm once the device still answers."""
        from jnpr.junos.exception import CommitError as JCommitError
        from napalm.base.exceptions import CommitError

        message = f"backhaul: {sum(1 for c in changes if c.key not in failures)} subscriber(s)"
        try:
            driver.commit_config(message=message, revert_in=s["confirm_minutes"] * 60)
        except (CommitError, JCommitError) as exc:
            with contextlib.suppress(Exception):
                driver.discard_config()
            for change in changes:
                failures.setdefault(change.key, f"commit refused: {_reason(exc)}")
            return
        except Exception as exc:  # the session went away inside the commit
            raise ProvisioningError(
                f"{device.name}: the session was lost during the commit confirmed ({exc!r}); "
                f"if the device took it, it rolls back by itself within "
                f"{s['confirm_minutes']} min and the next reconcile tries again",
                retryable=True) from exc
        try:
            driver.has_pending_commit()  # two RPCs: the device still answers
            driver.confirm_commit()  # a plain commit: it confirms (harmless if none waits)
        except Exception as exc:
            raise ProvisioningError(
                f"{device.name}: committed with commit confirmed, but the device stopped "
                f"answering before the confirm ({exc!r}); it rolls back by itself within "
                f"{s['confirm_minutes']} min and the next reconcile tries again",
                retryable=True) from exc


def _object(words: list[str]) -> tuple[str | None, str]:
    """Split a group statement into (owned object, statement inside it)."""
    shapes = ((("firewall", "policer"), 3), (("firewall", "family", "inet", "filter"), 5),
              (("routing-options", "static", "route"), 4),
              (("policy-options", "prefix-list"), 4), (("interfaces",), 4))
    for head, size in shapes:
        if tuple(words[:len(head)]) == head and len(words) >= size:
            if head == ("interfaces",) and words[2] != "unit":
                return None, ""
            return " ".join(words[:size]), " ".join(words[size:])
    return None, ""


def _result(changes, failures) -> ApplyResult:
    return ApplyResult(tuple(c for c in changes if c.key not in failures),
                       tuple((c, failures[c.key]) for c in changes if c.key in failures))


def _reason(exc: BaseException) -> str:
    """What the device said: the messages of PyEZ's error list (napalm wraps PyEZ's
    exceptions, so the cause is looked at too), else the exception's text on one line."""
    for candidate in (exc, exc.__cause__, exc.__context__):
        errs = getattr(candidate, "errs", None) or (
            candidate.args[0] if candidate is not None and candidate.args else None)
        if isinstance(errs, dict):
            errs = [errs]
        if isinstance(errs, list) and errs and isinstance(errs[0], dict):
            return " ".join("; ".join(str(e.get("message") or "").strip()
                                      for e in errs).split())[:500]
    return " ".join((str(exc).strip() or repr(exc)).split())[:500]


def _first_line(exc: Exception) -> str:
    text = str(exc).strip() or repr(exc)
    return text.splitlines()[0][:300] if text else repr(exc)


def _close(driver) -> None:
    with contextlib.suppress(Exception):
        driver.close()
