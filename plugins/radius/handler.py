"""One datagram in, at most one datagram out: the RADIUS server's decisions.

Order of checks, cheapest and most hostile-input-proof first: per-source rate limit, the
structural guard (:mod:`.wire`), the NAS by source address (unknown: dropped), pyrad's
decoding with the NAS's secret, the authenticators — Message-Authenticator required on every
Access-Request unless the NAS is explicitly relaxed, the Request Authenticator on every
Accounting-Request — and only then the subscriber. Every drop is counted by reason; replies
to retransmissions (same source, id and authenticator) are sent again from a short cache
instead of being processed twice.
"""
from __future__ import annotations

import hmac
import logging
import socket
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from pyrad import packet as rp

from backhaul.sdk import db
from backhaul.sdk.provisioning import SubscriberState

from . import accounting, wire
from .dictionary import dictionary, vendors_decoded
from .directory import Directory
from .replies import accept_attributes

log = logging.getLogger("backhaul.radius")

DUPLICATE_SECONDS = 10.0
#: an unchanged authentication outcome is written again after this many seconds
LAST_AUTH_REFRESH = 300.0
MAX_DUPLICATES = 65_536


@dataclass(frozen=True)
class _Pending:
    key: tuple
    source: tuple
    device_id: int
    update: accounting.Update
    subscription_id: int | None
    account_id: int | None
    reply: bytes


class Bucket:
    """A token bucket per source address: a flood from one NAS cannot starve the others."""

    def __init__(self, rate: float, clock=time.monotonic):
        self.rate, self.clock = rate, clock
        self.tokens: dict[str, tuple[float, float]] = {}

    def allow(self, source: str) -> bool:
        now = self.clock()
        tokens, at = self.tokens.get(source, (self.rate, now))
        tokens = min(self.rate, tokens + (now - at) * self.rate)
        if tokens < 1:
            self.tokens[source] = (tokens, now)
            return False
        self.tokens[source] = (tokens - 1, now)
        return True


class Handler:
    def __init__(self, directory: Directory, settings: dict, clock=time.monotonic):
        self.directory = directory
        self.settings = settings
        self.clock = clock
        self.counts: Counter[str] = Counter()
        self.drops: Counter[str] = Counter()
        self.bucket = Bucket(float(settings.get("max_pps_per_source", 5000)), clock)
        self._recent: OrderedDict[tuple, tuple[float, bytes]] = OrderedDict()
        #: username -> (subscription id, device id, at, accepted, reason): flushed in batches
        self.last_auth: dict[str, tuple] = {}
        self._written: dict[str, tuple] = {}
        #: accounting updates waiting for the next group commit
        self.pending: list[_Pending] = []
        self._current_key: tuple = ()
        self._current_source: tuple = ("", 0)

    # ------------------------------------------------------------------ entry point
    def handle(self, data: bytes, source: tuple[str, int]) -> bytes | None:
        address = source[0]
        if not self.bucket.allow(address):
            return self._drop("rate limited", address)
        try:
            code = wire.check(data, vendors_decoded=vendors_decoded())
        except wire.Malformed as exc:
            return self._drop(f"malformed: {exc}", address)
        if code not in (wire.ACCESS_REQUEST, wire.ACCOUNTING_REQUEST):
            return self._drop(f"unexpected code {code}", address)
        nas = self.directory.nas(address)
        if nas is None:
            return self._drop("unknown NAS", address)
        key = (address, source[1], data[1], data[4:20])
        self._current_key, self._current_source = key, source
        cached = self._recent.get(key)
        if cached is not None and self.clock() - cached[0] < DUPLICATE_SECONDS:
            self.counts["duplicate"] += 1
            return cached[1]
        try:
            if code == wire.ACCESS_REQUEST:
                reply = self._access(data, nas, address)
            else:
                reply = self._accounting(data, nas, address)
        except (rp.PacketError, KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
            return self._drop(f"undecodable: {type(exc).__name__}", address)
        if reply is not None:
            self._remember(key, reply)
        return reply

    def _drop(self, reason: str, address: str) -> None:
        kind = reason.split(":")[0]
        self.drops[kind] += 1
        if self.drops[kind] <= 20 or self.drops[kind] % 1000 == 0:
            log.warning("RADIUS packet from %s dropped: %s", address, reason[:200])
        return None

    def _remember(self, key, reply: bytes) -> None:
        self._recent[key] = (self.clock(), reply)
        while len(self._recent) > MAX_DUPLICATES:
            self._recent.popitem(last=False)

    # ------------------------------------------------------------------ access
    def _access(self, data: bytes, nas, address: str) -> bytes | None:
        pkt = rp.AuthPacket(packet=data, secret=nas.secret, dict=dictionary())
        if pkt.message_authenticator:
            if not pkt.verify_message_authenticator():
                return self._drop("bad Message-Authenticator (wrong secret?)", address)
        elif nas.require_message_authenticator:
            return self._drop("no Message-Authenticator", address)
        self.counts["access-request"] += 1
        username = _first(pkt, "User-Name") or ""
        sub = self.directory.subscriber(username) if username else None
        reason = self._check_password(pkt, sub) if sub is not None else "unknown user"
        if reason is None and sub.state == SubscriberState.SUSPENDED:
            reason = "suspended: the account is delinquent"
        sid = sub.extra.get("subscription_id") if sub is not None else None
        self._note_auth(username[:64], sid, nas.device_id, reason)
        reply = pkt.CreateReply()
        if reason is not None:
            reply.code = rp.AccessReject
            self.counts["access-reject"] += 1
            if reason.startswith("suspended"):
                reply["Reply-Message"] = self.settings.get("suspended_message",
                                                           "Account suspended")
        else:
            reply.code = rp.AccessAccept
            self.counts["access-accept"] += 1
            for name, value in accept_attributes(sub, nas.dialect, self.settings).items():
                reply[name] = value
        reply.add_message_authenticator()
        return reply.ReplyPacket()

    @staticmethod
    def _check_password(pkt, sub) -> str | None:
        password = sub.password.reveal()
        if not password:
            return "no password set"
        if "User-Password" in pkt:
            given = pkt.PwDecrypt(pkt["User-Password"][0])
            return None if hmac.compare_digest(given.encode(), password.encode()) \
                else "wrong password"
        if "CHAP-Password" in pkt:
            return None if pkt.VerifyChapPasswd(password) else "wrong password (CHAP)"
        return "no PAP or CHAP password"

    def _note_auth(self, username: str, sid, device_id: int, reason: str | None) -> None:
        """Buffer the outcome for the writer; the same outcome again within
        ``LAST_AUTH_REFRESH`` seconds is not written again (a steady state writes little)."""
        outcome = (sid, device_id, reason is None, reason or "")
        now = self.clock()
        seen = self._written.get(username)
        if seen is not None and seen[0] == outcome and now - seen[1] < LAST_AUTH_REFRESH:
            return
        self._written[username] = (outcome, now)
        if len(self._written) > 2 * MAX_DUPLICATES:
            self._written.clear()
        self.last_auth[username] = (sid, device_id, _now(), outcome[2], outcome[3])

    # ------------------------------------------------------------------ accounting
    def _accounting(self, data: bytes, nas, address: str) -> bytes | None:
        pkt = rp.AcctPacket(packet=data, secret=nas.secret, dict=dictionary())
        if not pkt.VerifyAcctRequest():
            return self._drop("bad accounting authenticator (wrong secret?)", address)
        if pkt.message_authenticator and not pkt.verify_message_authenticator():
            return self._drop("bad Message-Authenticator (wrong secret?)", address)
        # the standard RFC 2866 attributes read raw (pyrad decodes a value on every access,
        # the larger part of an accounting packet's cost); pyrad did the framing above
        status = _raw_int(pkt, 40)
        self.counts[f"accounting-{status}"] += 1
        username = _raw_text(pkt, 1) or ""
        framed_ip = _raw(pkt, 8)
        cause = _raw(pkt, 49)
        update = accounting.Update(
            status=status, session_id=(_raw_text(pkt, 44) or "")[:64], username=username,
            at=_event_time(_raw_int(pkt, 55), _raw_int(pkt, 41)),
            input_octets=(_raw_int(pkt, 52) << 32) + _raw_int(pkt, 42),
            output_octets=(_raw_int(pkt, 53) << 32) + _raw_int(pkt, 43),
            session_time=_raw_int(pkt, 46),
            framed_ip=socket.inet_ntoa(framed_ip) if framed_ip and len(framed_ip) == 4
            else None,
            calling_station=_raw_text(pkt, 31),
            terminate_cause=_raw_int(pkt, 49) if cause else None)
        if update.status not in (1, 2, 3, 7, 8) or (
                update.status in (1, 2, 3) and not update.session_id):
            return self._drop("accounting without a status or session id", address)
        sub = self.directory.subscriber(username) if username else None
        # answered by the server loop: once journaled, or once committed without a journal
        self.pending.append(_Pending(
            self._current_key, self._current_source, nas.device_id, update,
            sub.extra.get("subscription_id") if sub else None,
            sub.extra.get("account_id") if sub else None, pkt.CreateReply().ReplyPacket()))
        return None

    def take_accounting(self) -> list:
        """The pending accounting updates, handed to the writer (the list empties)."""
        batch, self.pending = self.pending, []
        return batch

    def record_accounting(self, batch: list, send) -> int:
        """Record a batch in one transaction, then answer all of it (``send(reply,
        source)``): one commit serves many packets; a failure rolls the batch back and
        answers none of it — the NASes retransmit. Safe to call from the writer thread.
        (Used without the journal; with it, :meth:`answer` comes first, :meth:`apply`
        after.)"""
        if not batch:
            return 0
        if not self.apply([as_item(i) for i in batch]):
            self.drops["not recorded"] += len(batch)
            return 0
        self.answer(batch, send)
        return len(batch)

    def answer(self, batch: list, send) -> None:
        for item in batch:
            self._remember(item.key, item.reply)
            send(item.reply, item.source)

    @staticmethod
    def apply(items: list) -> bool:
        """Commit ``items`` (:class:`.accounting.Item`) in one transaction; False (rolled
        back, logged) when it failed."""
        try:
            accounting.record_many(items)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("%d accounting update(s) not recorded", len(items))
            return False
        return True

    # ------------------------------------------------------------------ upkeep
    def take_last_auth(self) -> dict:
        """The buffered last authentications, handed to the writer (the buffer empties)."""
        batch, self.last_auth = self.last_auth, {}
        return batch

    def health(self) -> dict:
        return {"packets": dict(self.counts), "drops": dict(self.drops),
                "nases": len(self.directory.nases), "cache_hits": self.directory.hits,
                "cache_misses": self.directory.misses}


def as_item(pending: _Pending) -> accounting.Item:
    return accounting.Item(pending.device_id, pending.update, pending.subscription_id,
                           pending.account_id)


def write_last_auth(batch: dict) -> None:
    """One pipelined INSERT ... ON CONFLICT per login (psycopg's executemany), in username
    order (so processes writing overlapping logins lock rows in one order, never
    deadlocking); cheap in Python, so the writer thread barely holds the interpreter."""
    if not batch:
        return
    rows = [{"username": username, "subscription_id": sid, "device_id": device_id,
             "at": at, "accepted": accepted, "reason": reason[:200]}
            for username, (sid, device_id, at, accepted, reason) in sorted(batch.items())]
    try:
        db.session.execute(UPSERT_LAST_AUTH, rows)
        db.session.commit()
    except Exception:
        db.session.rollback()
        log.exception("last authentications not recorded")


UPSERT_LAST_AUTH = sa.text(
    "INSERT INTO radius_last_auth (username, subscription_id, device_id, at, accepted, reason) "
    "VALUES (:username, :subscription_id, :device_id, :at, :accepted, :reason) "
    "ON CONFLICT (username) DO UPDATE SET subscription_id = excluded.subscription_id, "
    "device_id = excluded.device_id, at = excluded.at, accepted = excluded.accepted, "
    "reason = excluded.reason")


def _first(pkt, name: str):
    try:
        values = pkt[name]
    except KeyError:
        return None
    return values[0] if values else None


def _raw(pkt, code: int) -> bytes | None:
    values = OrderedDict.get(pkt, code)
    return values[0] if values else None


def _raw_int(pkt, code: int) -> int:
    """An RFC 2865 ``integer`` (4 octets; anything else reads as 0)."""
    value = _raw(pkt, code)
    return int.from_bytes(value, "big") if value and len(value) == 4 else 0


def _raw_text(pkt, code: int) -> str | None:
    value = _raw(pkt, code)
    return None if value is None else value.decode("utf-8", "replace")


def _event_time(stamp: int | None, delay: int) -> datetime:
    """Event-Timestamp when the NAS's clock is believable, else now minus Acct-Delay-Time."""
    now = _now()
    if stamp:
        at = datetime.fromtimestamp(stamp, UTC)
        if abs(at - now) < timedelta(days=1):  # a NAS with a wrong clock is not trusted
            return at
    return now - timedelta(seconds=min(delay, 3600))


def _now() -> datetime:
    return datetime.now(UTC)
