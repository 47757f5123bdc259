"""Desired-state provisioning: the extension point that reaches routers, switches and DHCP servers.

Backhaul does not fire commands at a device one subscriber at a time and hope. For every
device it manages, the network plugin computes the **desired state** — each subscriber routed
to the device, with its state (active, throttled, redirected, suspended; removed means absent)
and what that state implies (speeds, address, credentials). A backend

1. **renders** one subscriber into the objects it would keep on the device (a plain dict, the
   backend's own vocabulary: ``{"ppp_secret": {...}, "queue": {...}}``),
2. **reads** the Backhaul-owned objects actually on the device back into the same shape
   (objects carry a marker — a comment, a name prefix, an apply-group — so anything made by
   hand is never read, changed or removed),
3. **applies** only the difference, which :func:`diff` computes from the two.

The same three calls give a dry run (render + read + diff, no apply), drift detection (a
periodic diff that is not empty although nothing changed in Backhaul) and repair (apply it).
A backend must never write to Backhaul's database: it is called from jobs with plain values.

Errors: raise :class:`ProvisioningError` with ``retryable=True`` when trying later can help
(timeout, device busy), ``False`` when it cannot (bad credentials, unsupported version). The
network plugin records either, retries with backoff (never forever) and the next reconcile
repairs whatever an interrupted apply left behind.
"""
from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar

from .extensions import Extension

__all__ = [
    "ApplyResult",
    "Change",
    "ConnectionResult",
    "DesiredState",
    "DeviceRef",
    "Lease",
    "ProvisioningBackend",
    "ProvisioningError",
    "Secret",
    "Subscriber",
    "SubscriberState",
    "diff",
]


class Secret:
    """A credential that never shows itself: ``repr``/``str`` are redacted, ``reveal()`` is not.

    Passed to backends so a password can be sent to a device without ending up in a log line,
    a traceback's locals dump or an audit record by accident.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | None):
        self._value = value or ""

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", self._value))

    def __repr__(self) -> str:
        return "Secret('***')" if self._value else "Secret('')"

    __str__ = __repr__


class SubscriberState(enum.StrEnum):
    """What the business wants on the wire for one data service."""

    ACTIVE = "active"
    #: online at the delinquent rate (``download_kbps``/``upload_kbps`` already hold that rate)
    THROTTLED = "throttled"
    #: online, but the device sends web traffic to the captive page (an address list)
    REDIRECTED = "redirected"
    #: credentials refused / traffic dropped; the objects stay so restoring is instant
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Subscriber:
    """The complete desired state of one data service on one device.

    ``key`` is stable for the life of the service (``"sub-<service id>"``) and is what a
    backend uses to name or mark the objects it creates, so ``read`` can map them back.
    Speeds are in kbit/s and already reflect the state (a throttled subscriber carries the
    throttle rate); ``None`` means unlimited.
    """

    key: str
    account_number: str
    state: SubscriberState = SubscriberState.ACTIVE
    username: str | None = None
    password: Secret = field(default_factory=lambda: Secret(None), compare=True)
    mac: str | None = None
    circuit_id: str | None = None
    remote_id: str | None = None
    ipv4: str | None = None
    ipv6_prefix: str | None = None
    download_kbps: int | None = None
    upload_kbps: int | None = None
    vlan: int | None = None
    #: name of the service plan (a profile name on a router); informative
    plan: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "state", SubscriberState(self.state))
        if not isinstance(self.password, Secret):
            object.__setattr__(self, "password", Secret(self.password))
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))


@dataclass(frozen=True)
class DeviceRef:
    """A managed device as a backend sees it: where it is and how to log in.

    ``settings`` are the device's backend settings (validated by the backend's
    ``settings_schema``; secret ones decrypted) — e.g. the RouterOS API port, TLS on/off, the
    name of the delinquent address list.
    """

    id: int
    name: str
    backend: str
    host: str = ""
    port: int | None = None
    username: str = ""
    password: Secret = field(default_factory=lambda: Secret(None))
    vendor: str = ""
    settings: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if not isinstance(self.password, Secret):
            object.__setattr__(self, "password", Secret(self.password))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))


@dataclass(frozen=True)
class DesiredState:
    """Every subscriber that should exist on one device; anything else Backhaul-owned goes."""

    device: DeviceRef
    subscribers: tuple[Subscriber, ...] = ()

    def by_key(self) -> dict[str, Subscriber]:
        return {s.key: s for s in self.subscribers}


class ChangeAction(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


@dataclass(frozen=True)
class Change:
    """One subscriber's difference between the device and Backhaul.

    ``before`` is what ``read`` found (``None`` for a create), ``after`` what ``render``
    wants (``None`` for a delete); ``subscriber`` is the desired state for creates and
    updates, so a backend can reach the password or the state without parsing ``after``.
    """

    action: ChangeAction
    key: str
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    subscriber: Subscriber | None = None

    def summary(self) -> dict:
        """A JSON-able description for the dry run, the drift report and the audit trail.

        Secrets never appear: renders must not contain them in clear (see ``render``).
        """
        return {"action": str(self.action), "key": self.key,
                "before": dict(self.before) if self.before is not None else None,
                "after": dict(self.after) if self.after is not None else None}


@dataclass(frozen=True)
class ApplyResult:
    """What an ``apply`` did: the changes made and the ones that failed, with reasons."""

    applied: tuple[Change, ...] = ()
    failed: tuple[tuple[Change, str], ...] = ()

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass(frozen=True)
class ConnectionResult:
    ok: bool
    message: str = ""
    #: what the device said about itself (model, version, serial...), for the device record
    facts: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Lease:
    """An address a device handed out (a DHCP lease), as a backend that can see them reports
    it: shown on the service, so staff see what the tenant's equipment actually got."""

    address: str
    mac: str | None = None
    expires_at: Any = None  # an aware datetime, or None for a lease that does not expire
    hostname: str | None = None


class ProvisioningError(Exception):
    """A device could not be read or changed. ``retryable`` says whether later may help."""

    def __init__(self, message: str, *, retryable: bool = True):
        super().__init__(message)
        self.retryable = retryable


def diff(desired: Mapping[str, Mapping[str, Any]],
         actual: Mapping[str, Mapping[str, Any]],
         subscribers: Mapping[str, Subscriber] | None = None) -> list[Change]:
    """The changes that make ``actual`` equal ``desired`` (both ``key -> rendered dict``).

    Pure and ordered (creates and updates by key, then deletes), so a dry run shows exactly
    what the apply will do, and two runs over the same states give the same list.
    """
    subscribers = subscribers or {}
    changes: list[Change] = []
    for key in sorted(desired):
        want = desired[key]
        have = actual.get(key)
        if have is None:
            changes.append(Change(ChangeAction.CREATE, key, None, want, subscribers.get(key)))
        elif _normal(have) != _normal(want):
            changes.append(Change(ChangeAction.UPDATE, key, have, want, subscribers.get(key)))
    for key in sorted(set(actual) - set(desired)):
        changes.append(Change(ChangeAction.DELETE, key, actual[key], None, None))
    return changes


def _normal(value: Any) -> Any:
    """Compare renders structurally: mappings by content, sequences in order."""
    if isinstance(value, Mapping):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_normal(v) for v in value]
    return value


class ProvisioningBackend(Extension):
    """Keeps the Backhaul-owned part of one kind of device equal to its desired state.

    Contributed through the ``provisioning_backends`` hook. The network plugin stores devices
    that name a backend by ``key``; the device's ``settings`` are validated by
    ``settings_schema`` (secret ones listed in ``secret_fields`` are encrypted at rest).
    Every method is called from a job or the CLI — never inside a web request — with plain
    values, and none may write to Backhaul's database.
    """

    #: a marker a backend puts on the objects it owns (comment, name prefix...); informative
    marker: ClassVar[str] = "backhaul"
    #: whether ``read`` can see the device's actual state (a write-only target cannot
    #: report drift; the network plugin then re-applies its full desired state on reconcile)
    can_read: ClassVar[bool] = True
    #: whether ``leases`` reports the addresses the device handed out (DHCP servers)
    can_report_leases: ClassVar[bool] = False

    def applies_to(self, device: DeviceRef, subscriber: Subscriber) -> bool:
        """Whether this subscriber has anything on this kind of device at all (a DHCP server
        holds only services with a DHCP identity and an address). Those that do not are left
        out of the desired state, so they are neither created nor reported as missing."""
        return True

    def leases(self, device: DeviceRef, keys: Sequence[str] | None = None,
               ) -> dict[str, list[Lease]]:
        """The leases the device handed out to Backhaul-owned subscribers, ``key -> leases``
        (only when ``can_report_leases``). Called after a reconcile, from the job."""
        return {}

    def test_connection(self, device: DeviceRef) -> ConnectionResult:
        """Log in and say whether the device answers; ``facts`` fill the device record."""
        raise NotImplementedError

    def render(self, device: DeviceRef, subscriber: Subscriber) -> dict[str, Any]:
        """The objects this subscriber needs on the device, as a JSON-able dict. Pure.

        It is compared with what ``read`` returns, so it must use the same shape and the
        device's own normal forms (e.g. ``"10M/20M"`` if that is how the router reports a
        rate). A secret must not appear in clear: render a digest of it (``password_sha256``)
        if drift in it should be detected, and send the secret itself in ``apply`` from
        ``change.subscriber.password``.
        """
        raise NotImplementedError

    def read(self, device: DeviceRef, keys: Sequence[str] | None = None) -> dict[str, dict]:
        """The Backhaul-owned objects on the device, ``key -> render-shaped dict``.

        ``keys`` limits the read to some subscribers (the fast path after one subscriber's
        change); ``None`` reads everything Backhaul owns. Objects without the marker are
        never returned. Raise :class:`ProvisioningError` when the device cannot be read.
        """
        raise NotImplementedError

    def apply(self, device: DeviceRef, changes: Sequence[Change]) -> ApplyResult:
        """Make the changes. Idempotent: a create of something present updates it, a delete
        of something absent succeeds. A change that fails goes into ``failed`` with a
        reason; raise :class:`ProvisioningError` only when nothing could be done at all.
        Kicking a live session when a subscriber is suspended belongs here too.
        """
        raise NotImplementedError
