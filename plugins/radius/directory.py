"""What a RADIUS process keeps in memory: the NASes and the subscribers' answers.

A packet never waits for the database when the answer is known: NASes are loaded all at
once (and again every ``NAS_RELOAD`` seconds), a subscriber on first use. Freshness comes
from the network plugin's ``network_subscribers_changed`` hook, which writes an
invalidation row in the same transaction as the change; every process reads the new rows
at most once a second (one small indexed query) and forgets those subscribers. A TTL bounds
what any missed invalidation could cost; unknown logins are remembered briefly too, so a
flood of made-up names cannot turn into a flood of queries.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa

from backhaul.sdk import db, utcnow
from backhaul.sdk.provisioning import Subscriber

from .models import Invalidation, NasSettings

NAS_RELOAD = 30.0
UNKNOWN_NAS_RELOAD = 1.0
POLL = 1.0
TTL = 300.0
UNKNOWN_TTL = 30.0
MAX_ENTRIES = 500_000


@dataclass(frozen=True)
class NasEntry:
    device_id: int
    name: str
    address: str
    secret: bytes
    require_message_authenticator: bool
    dialect: str
    coa_port: int


class Directory:
    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.nases: dict[str, NasEntry] = {}
        self._subs: OrderedDict[str, tuple[float, Subscriber | None]] = OrderedDict()
        self._by_subscription: dict[int, set[str]] = {}
        self._last_invalidation = 0
        self._started = False
        self._nas_at = self._poll_at = -1e9
        self.hits = self.misses = 0

    # ------------------------------------------------------------------ NASes
    def load_nases(self) -> None:
        from backhaul.plugins.network.api import radius_clients

        options = {n.device_id: n for n in db.session.scalars(sa.select(NasSettings))}
        loaded = {}
        for nas in radius_clients():
            opt = options.get(nas.device.id)
            dialect = opt.dialect if opt else _dialect_of(nas.device)
            loaded[nas.device.host] = NasEntry(
                nas.device.id, nas.device.name, nas.device.host,
                nas.secret.reveal().encode(), opt.require_message_authenticator if opt else True,
                dialect, opt.coa_port if opt else 3799)
        self.nases = loaded
        self._nas_at = self.clock()

    def nas(self, address: str) -> NasEntry | None:
        """The NAS at ``address``; an unknown address reloads the list (at most every
        ``UNKNOWN_NAS_RELOAD`` seconds), so a device added a moment ago is served at once."""
        found = self.nases.get(address)
        if found is None and self.clock() - self._nas_at >= UNKNOWN_NAS_RELOAD:
            self.load_nases()
            db.session.rollback()
            found = self.nases.get(address)
        return found

    # ------------------------------------------------------------------ subscribers
    def preload(self) -> int:
        """Every subscriber of every device, a constant number of queries per device (at
        start-up): a fresh process answers its first packets from memory too."""
        from backhaul.plugins.network.api import desired_state, devices

        until = self.clock() + TTL
        count = 0
        for device in devices():
            for sub in desired_state(device.id).subscribers:
                if sub.username:
                    self._remember(sub.username, sub, until)
                    count += 1
        db.session.rollback()
        return count

    def subscriber(self, username: str) -> Subscriber | None:
        now = self.clock()
        hit = self._subs.get(username)
        if hit is not None and hit[0] > now:
            self.hits += 1
            self._subs.move_to_end(username)
            return hit[1]
        self.misses += 1
        from backhaul.plugins.network.api import subscriber_for_username

        found = subscriber_for_username(username)
        db.session.rollback()  # nothing to keep open between packets
        self._remember(username, found, now + (TTL if found else UNKNOWN_TTL))
        return found

    def _remember(self, username: str, found: Subscriber | None, until: float) -> None:
        self._subs[username] = (until, found)
        self._subs.move_to_end(username)
        if found is not None:
            sid = found.extra.get("subscription_id")
            if sid is not None:
                self._by_subscription.setdefault(sid, set()).add(username)
        while len(self._subs) > MAX_ENTRIES:
            self._subs.popitem(last=False)

    def forget(self, subscription_ids) -> None:
        for sid in subscription_ids:
            for username in self._by_subscription.pop(sid, ()):
                self._subs.pop(username, None)
        # an unknown login may just have been created: forget every remembered "unknown"
        for username in [u for u, (_, s) in self._subs.items() if s is None]:
            del self._subs[username]

    # ------------------------------------------------------------------ freshness
    def refresh(self, force: bool = False) -> None:
        """Called between packets: cheap unless a second has passed."""
        now = self.clock()
        if force or now - self._nas_at >= NAS_RELOAD:
            self.load_nases()
        if not force and now - self._poll_at < POLL:
            return
        self._poll_at = now
        if not self._started:  # nothing cached yet: start from the newest invalidation
            self._started = True
            self._last_invalidation = db.session.scalar(
                sa.select(sa.func.coalesce(sa.func.max(Invalidation.id), 0))) or 0
            db.session.rollback()
            return
        rows = db.session.execute(sa.select(Invalidation.id, Invalidation.subscription_id)
                                  .where(Invalidation.id > self._last_invalidation)
                                  .order_by(Invalidation.id).limit(10_000)).all()
        db.session.rollback()
        if rows:
            self._last_invalidation = rows[-1][0]
            self.forget({sid for _, sid in rows})


def _dialect_of(device) -> str:
    text = f"{device.vendor} {device.backend}".lower()
    if "juniper" in text or "junos" in text:
        return "juniper"
    if "mikrotik" in text or "routeros" in text:
        return "mikrotik"
    return "mikrotik"


def invalidate(subscription_ids) -> None:
    """Write invalidations (in the caller's transaction)."""
    now = utcnow()
    db.session.add_all(Invalidation(subscription_id=sid, at=now) for sid in subscription_ids)


def prune_invalidations() -> int:
    """The periodic job: invalidations older than a day have been read by every process."""
    result = db.session.execute(sa.delete(Invalidation).where(
        Invalidation.at < utcnow() - timedelta(days=1)))
    return result.rowcount or 0
