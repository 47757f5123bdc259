"""The Kea backend: desired state as rows of Kea's ``hosts`` table, leases from ``lease4``.

Ownership: every reservation Backhaul writes carries ``user_context = {"backhaul": "<key>"}``
(Kea keeps user context for operators and hooks, and ignores it otherwise); ``read`` selects
only those rows, so reservations made by hand (through Kea's ``host_cmds`` or SQL) are never
read, changed or removed. Kea reads its hosts database on every packet (no host cache unless
the ``host_cache`` hook is loaded), so a committed change is live for the next DHCP request.

States: an active subscriber gets a plain reservation; throttled and redirected ones carry a
client class (``backhaul-throttled`` / ``backhaul-redirected``) that the operator's Kea
configuration can use to hand out a different gateway, DNS or option set; a suspended one has
no reservation (``suspend_mode = remove``, for reservation-only subnets: no lease, no access)
or the class ``backhaul-suspended`` (``suspend_mode = class``).
"""
from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from backhaul.sdk.provisioning import (
    ApplyResult,
    Change,
    ChangeAction,
    ConnectionResult,
    DeviceRef,
    Lease,
    ProvisioningBackend,
    ProvisioningError,
    Subscriber,
    SubscriberState,
)

#: Kea's ``host_identifier_type`` numbering (dhcpdb_create.pgsql)
IDENTIFIER_TYPES = {"hw-address": 0, "duid": 1, "circuit-id": 2, "client-id": 3, "flex-id": 4}
IDENTIFIER_NAMES = {v: k for k, v in IDENTIFIER_TYPES.items()}
MARK_KEY = "backhaul"
MAX_SUBNETS = 4096


class KeaSettings(Schema):
    """A Kea server's backend settings (host/port/user/password are the device's)."""

    database = fields.String(required=True, validate=validate.Length(min=1, max=63),
                             metadata={"description": "Kea's PostgreSQL database name"})
    #: Backhaul pool (CIDR) -> Kea ``subnet4`` id
    subnets = fields.Dict(keys=fields.String(), values=fields.Integer(
        validate=validate.Range(min=1, max=4294967294)), required=True,
        metadata={"description": 'CIDR -> Kea subnet id, e.g. {"100.64.9.0/24": 7}'})
    #: which identity a reservation is keyed by: the MAC, the option-82 circuit-id, or the
    #: MAC when the service has one and the circuit-id otherwise
    identifier = fields.String(load_default="auto", validate=validate.OneOf(
        ["auto", "hw-address", "circuit-id"]))
    suspend_mode = fields.String(load_default="remove", validate=validate.OneOf(
        ["remove", "class"]))
    sslmode = fields.String(load_default="prefer", validate=validate.OneOf(
        ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]))
    timeout = fields.Integer(load_default=10, validate=validate.Range(min=1, max=120))

    @validates("subnets")
    def _valid_subnets(self, value, **_):
        if len(value) > MAX_SUBNETS:
            raise ValidationError(f"at most {MAX_SUBNETS} subnets")
        for cidr in value:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError as exc:
                raise ValidationError(f"{cidr!r}: {exc}") from None
            if net.version != 4:
                raise ValidationError(f"{cidr}: only IPv4 subnets (Kea dhcp4)")


def _marker(key: str) -> str:
    return json.dumps({MARK_KEY: key})


def _key_of(user_context: str | None) -> str | None:
    try:
        value = json.loads(user_context or "")
    except ValueError:
        return None
    key = value.get(MARK_KEY) if isinstance(value, dict) else None
    return key if isinstance(key, str) else None


def _mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", "").replace("-", "").replace(".", ""))


def _identifier(kind: str, raw: bytes) -> str:
    if kind == "hw-address":
        return ":".join(f"{b:02x}" for b in raw)
    return raw.decode("utf-8", "backslashreplace")


class KeaBackend(ProvisioningBackend):
    key = "kea.pgsql"
    label = "ISC Kea (PostgreSQL host backend)"
    marker = '{"backhaul": "<key>"} in user_context'
    settings_schema = KeaSettings
    can_report_leases = True

    # ---------------------------------------------------------------- connection
    def _connect(self, device: DeviceRef):
        import psycopg

        settings = KeaSettings().load(dict(device.settings))
        try:
            return psycopg.connect(
                host=device.host or "127.0.0.1", port=device.port or 5432,
                user=device.username or None, password=device.password.reveal() or None,
                dbname=settings["database"], sslmode=settings["sslmode"],
                connect_timeout=settings["timeout"], application_name="backhaul-kea")
        except psycopg.OperationalError as exc:
            text = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            refused_for_good = "authentication failed" in text or "does not exist" in text
            raise ProvisioningError(f"Kea database: {text}",
                                    retryable=not refused_for_good) from None

    def _query(self, device: DeviceRef, work):
        import psycopg

        conn = self._connect(device)
        try:
            with conn:
                return work(conn)
        except psycopg.errors.UndefinedTable:
            raise ProvisioningError("Kea's schema is missing from this database: run "
                                    "`kea-admin db-init pgsql` first", retryable=False) from None
        except psycopg.OperationalError as exc:
            raise ProvisioningError(f"Kea database: {exc}".strip()) from None
        finally:
            conn.close()

    def test_connection(self, device: DeviceRef) -> ConnectionResult:
        def probe(conn):
            version = conn.execute("SELECT version, minor FROM schema_version").fetchone()
            owned = conn.execute("SELECT count(*) FROM hosts WHERE user_context LIKE %s",
                                 (f'{{"{MARK_KEY}": %',)).fetchone()[0]
            leases = conn.execute("SELECT count(*) FROM lease4 WHERE state = 0").fetchone()[0]
            return version, owned, leases

        try:
            (major, minor), owned, leases = self._query(device, probe)
        except ProvisioningError as exc:
            return ConnectionResult(False, str(exc))
        return ConnectionResult(True, f"Kea schema {major}.{minor}; {owned} reservation(s) "
                                      f"owned by Backhaul; {leases} active lease(s)",
                                {"kea_schema": f"{major}.{minor}",
                                 "backhaul_reservations": owned, "active_leases": leases})

    # ---------------------------------------------------------------- desired state
    def _settings(self, device: DeviceRef) -> dict:
        return KeaSettings().load(dict(device.settings))

    def _kea_subnet(self, settings: dict, address: str) -> int | None:
        ip = ipaddress.ip_address(address)
        for cidr, subnet_id in settings["subnets"].items():
            if ip in ipaddress.ip_network(cidr):
                return subnet_id
        return None

    def _identity(self, settings: dict, sub: Subscriber) -> tuple[str, str] | None:
        mode = settings["identifier"]
        if sub.mac and mode in ("auto", "hw-address"):
            return "hw-address", sub.mac.lower()
        if sub.circuit_id and mode in ("auto", "circuit-id"):
            return "circuit-id", sub.circuit_id
        return None

    def applies_to(self, device: DeviceRef, subscriber: Subscriber) -> bool:
        """A reservation needs an identity, an IPv4 address in a mapped subnet, and (with
        ``suspend_mode = remove``) a state other than suspended."""
        settings = self._settings(device)
        if (subscriber.state == SubscriberState.SUSPENDED
                and settings["suspend_mode"] == "remove"):
            return False
        return bool(subscriber.ipv4 and self._identity(settings, subscriber)
                    and self._kea_subnet(settings, subscriber.ipv4) is not None)

    def render(self, device: DeviceRef, subscriber: Subscriber) -> dict[str, Any]:
        settings = self._settings(device)
        kind, value = self._identity(settings, subscriber) or ("hw-address", "")
        state = subscriber.state
        return {"identifier_type": kind, "identifier": value,
                "subnet_id": self._kea_subnet(settings, subscriber.ipv4 or "0.0.0.0"),
                "ipv4": subscriber.ipv4,
                "classes": "" if state == SubscriberState.ACTIVE else f"backhaul-{state}"}

    def read(self, device: DeviceRef, keys: Sequence[str] | None = None) -> dict[str, dict]:
        def select(conn):
            sql = ("SELECT dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id, "
                   "'0.0.0.0'::inet + ipv4_address, dhcp4_client_classes, user_context "
                   "FROM hosts WHERE ")
            if keys is None:
                return conn.execute(sql + "user_context LIKE %s",
                                    (f'{{"{MARK_KEY}": %',)).fetchall()
            return conn.execute(sql + "user_context = ANY(%s)",
                                ([_marker(k) for k in keys],)).fetchall()

        found: dict[str, dict] = {}
        for raw, kind_no, subnet_id, address, classes, context in self._query(device, select):
            key = _key_of(context)
            if key is None:
                continue
            kind = IDENTIFIER_NAMES.get(kind_no, str(kind_no))
            found[key] = {"identifier_type": kind, "identifier": _identifier(kind, bytes(raw)),
                          "subnet_id": subnet_id,
                          "ipv4": str(address) if address is not None else None,
                          "classes": classes or ""}
        return found

    def apply(self, device: DeviceRef, changes: Sequence[Change]) -> ApplyResult:
        """One transaction; each change in a savepoint, so a reservation Kea refuses (the
        same MAC reserved by hand in that subnet) fails alone with its reason."""
        import psycopg

        def write(conn):
            applied, failed = [], []
            for change in changes:
                try:
                    with conn.transaction():
                        conn.execute("DELETE FROM hosts WHERE user_context = %s",
                                     (_marker(change.key),))
                        if change.action != ChangeAction.DELETE:
                            self._insert(conn, change)
                    applied.append(change)
                except psycopg.errors.UniqueViolation:
                    failed.append((change, "another reservation (not Backhaul's) holds this "
                                           "identity in the Kea subnet"))
                except (psycopg.errors.DataError, psycopg.errors.IntegrityError) as exc:
                    failed.append((change, f"Kea refused the reservation: "
                                           f"{str(exc).splitlines()[0]}"))
            return applied, failed

        applied, failed = self._query(device, write)
        return ApplyResult(tuple(applied), tuple(failed))

    def _insert(self, conn, change: Change) -> None:
        want = change.after
        kind = want["identifier_type"]
        raw = (_mac_bytes(want["identifier"]) if kind == "hw-address"
               else want["identifier"].encode())
        conn.execute(
            "INSERT INTO hosts (dhcp_identifier, dhcp_identifier_type, dhcp4_subnet_id, "
            "ipv4_address, dhcp4_client_classes, user_context) "
            "VALUES (%s, %s, %s, %s::inet - '0.0.0.0'::inet, %s, %s)",
            (raw, IDENTIFIER_TYPES[kind], want["subnet_id"], want["ipv4"],
             want["classes"] or None, _marker(change.key)))

    # ---------------------------------------------------------------- leases
    def leases(self, device: DeviceRef, keys: Sequence[str] | None = None,
               ) -> dict[str, list[Lease]]:
        """Kea's active leases (state 0) of the addresses Backhaul reserved."""
        def select(conn):
            sql = ("SELECT h.user_context, '0.0.0.0'::inet + l.address, l.hwaddr, l.expire, "
                   "l.hostname FROM hosts h JOIN lease4 l ON l.address = h.ipv4_address "
                   "AND l.subnet_id = h.dhcp4_subnet_id AND l.state = 0 WHERE ")
            if keys is None:
                return conn.execute(sql + "h.user_context LIKE %s",
                                    (f'{{"{MARK_KEY}": %',)).fetchall()
            return conn.execute(sql + "h.user_context = ANY(%s)",
                                ([_marker(k) for k in keys],)).fetchall()

        out: dict[str, list[Lease]] = {}
        for context, address, hwaddr, expire, hostname in self._query(device, select):
            key = _key_of(context)
            if key:
                mac = _identifier("hw-address", bytes(hwaddr)) if hwaddr else None
                out.setdefault(key, []).append(Lease(str(address), mac, expire, hostname))
        return out
