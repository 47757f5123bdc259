"""FreeRADIUS for scale: the rlm_sql tables kept in step, its accounting picked up as usage.

An ISP that outgrows one process puts a FreeRADIUS fleet in front of Backhaul's PostgreSQL
(``docs/freeradius/``): FreeRADIUS reads ``radius_fr_check`` / ``radius_fr_reply`` (per
login) and ``radius_fr_nas`` (clients), and writes ``radius_fr_acct`` (its radacct).

* **Check rows** hold how to verify the password. Backhaul keeps passwords sealed, so by
  default it writes a salted ``SSHA2-512-Password`` (FreeRADIUS's pap module verifies PAP
  against it; CHAP cannot be answered from a hash). ``freeradius_secrets = true`` writes
  ``Cleartext-Password`` (PAP and CHAP) and the NAS shared secrets into these tables in
  clear, because FreeRADIUS must read them: the operator chooses that trade-off, and should
  then limit who can read the database. A suspended subscriber gets ``Auth-Type := Reject``.
* **Reply rows** are the same attributes Backhaul's own server answers with.
* The sync runs by a job for the services that changed (``network_subscribers_changed``)
  and in full periodically; the pickup job turns radacct rows into sessions through the
  same monotonic accounting as Backhaul's server (so re-reading a row counts nothing twice).
"""
from __future__ import annotations

import base64
import hashlib
import os
from datetime import timedelta

import sqlalchemy as sa

from backhaul.sdk import current_plugin_settings, db, utcnow
from backhaul.sdk.provisioning import SubscriberState

from . import accounting
from .models import FrAcct, FrCheck, FrNas, FrReply, NasSettings, Session
from .replies import accept_attributes

REPLY_SKIP = {"Service-Type", "Framed-Protocol"}
PICKUP_OVERLAP = timedelta(minutes=5)
PICKUP_BATCH = 5000


def ssha512(password: str) -> str:
    """FreeRADIUS's ``SSHA2-512-Password``: base64(SHA-512(password + salt) + salt)."""
    salt = os.urandom(16)
    return base64.b64encode(hashlib.sha512(password.encode() + salt).digest() + salt).decode()


def _subscribers(subscription_ids: set[int] | None):
    """(subscriber, dialect) for every service on a device, or just these."""
    from backhaul.plugins.network.api import desired_state, devices

    options = {n.device_id: n.dialect for n in db.session.scalars(sa.select(NasSettings))}
    from .directory import _dialect_of

    for device in devices():
        state = desired_state(device.id)
        for sub in state.subscribers:
            sid = sub.extra.get("subscription_id")
            if subscription_ids is None or sid in subscription_ids:
                yield sub, options.get(device.id, _dialect_of(device))


def sync(subscription_ids: list[int] | None = None) -> int:
    """Rewrite the check/reply rows of these services (all when None). Flushes."""
    settings = current_plugin_settings("radius")
    wanted = set(subscription_ids) if subscription_ids is not None else None
    for model in (FrCheck, FrReply):
        stale = sa.delete(model)
        if wanted is not None:
            stale = stale.where(model.subscription_id.in_(wanted))
        db.session.execute(stale)
    count = 0
    for sub, dialect in _subscribers(wanted):
        if not sub.username:
            continue
        sid = sub.extra.get("subscription_id")
        password = sub.password.reveal()
        checks = []
        if settings.get("freeradius_secrets"):
            checks.append(("Cleartext-Password", ":=", password))
        elif password:
            checks.append(("SSHA2-512-Password", ":=", ssha512(password)))
        if sub.state == SubscriberState.SUSPENDED:
            checks.append(("Auth-Type", ":=", "Reject"))
        db.session.add_all(FrCheck(username=sub.username, attribute=a, op=o, value=v,
                                   subscription_id=sid) for a, o, v in checks)
        if sub.state == SubscriberState.SUSPENDED:
            replies = {"Reply-Message": settings["suspended_message"]}
        else:
            replies = {k: v for k, v in accept_attributes(sub, dialect, settings).items()
                       if k not in REPLY_SKIP}
        db.session.add_all(FrReply(username=sub.username, attribute=k, op=":=", value=str(v),
                                   subscription_id=sid) for k, v in replies.items())
        count += 1
    sync_nases(settings)
    db.session.flush()
    return count


def sync_nases(settings: dict) -> None:
    """The client table: only when the operator chose to keep secrets there."""
    from backhaul.plugins.network.api import radius_clients

    db.session.execute(sa.delete(FrNas))
    if not settings.get("freeradius_secrets"):
        return
    db.session.add_all(FrNas(nasname=n.device.host, shortname=n.device.name[:32],
                             type="other", secret=n.secret.reveal(),
                             description="managed by Backhaul") for n in radius_clients())


def clients_conf() -> str:
    """A FreeRADIUS ``clients.conf`` for the NASes (for operators who keep secrets out of
    the database): printed by ``backhaul radius-clients``."""
    from backhaul.plugins.network.api import radius_clients

    out = ["# generated by Backhaul: backhaul radius-clients"]
    for nas in radius_clients():
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in nas.device.name)
        secret = nas.secret.reveal().replace("\\", "\\\\").replace('"', '\\"')
        out.append(f'client {name} {{\n\tipaddr = {nas.device.host}\n\tsecret = "{secret}"\n'
                   "\trequire_message_authenticator = yes\n}")
    return "\n".join(out) + "\n"


def sync_job(subscription_ids: list[int] | None = None) -> None:
    sync(subscription_ids)


def pickup() -> int:
    """Turn FreeRADIUS's accounting rows into Backhaul sessions (and usage). Idempotent."""
    from backhaul.plugins.network.api import radius_clients, subscriber_for_username

    nases = {n.device.host: n.device.id for n in radius_clients()}
    since = db.session.scalar(sa.select(sa.func.max(Session.updated_at)).where(
        Session.source == "freeradius"))
    query = sa.select(FrAcct).order_by(FrAcct.radacctid).limit(PICKUP_BATCH)
    if since is not None:
        cutoff = since - PICKUP_OVERLAP
        query = query.where(sa.or_(FrAcct.acctupdatetime >= cutoff,
                                   FrAcct.acctstoptime >= cutoff,
                                   FrAcct.acctstarttime >= cutoff))
    done = 0
    known: dict[str, object] = {}
    for row in db.session.scalars(query):
        device_id = nases.get(str(row.nasipaddress))
        if device_id is None:
            continue
        username = row.username or ""
        if username not in known:
            known[username] = subscriber_for_username(username) if username else None
        sub = known[username]
        at = row.acctstoptime or row.acctupdatetime or row.acctstarttime or utcnow()
        accounting.record(device_id, accounting.Update(
            status=accounting.STOP if row.acctstoptime else accounting.INTERIM,
            session_id=(row.acctuniqueid or row.acctsessionid)[:64], username=username,
            at=at, input_octets=int(row.acctinputoctets or 0),
            output_octets=int(row.acctoutputoctets or 0),
            session_time=int(row.acctsessiontime or 0),
            framed_ip=str(row.framedipaddress) if row.framedipaddress else None,
            calling_station=row.callingstationid),
            subscription_id=sub.extra.get("subscription_id") if sub else None,
            account_id=sub.extra.get("account_id") if sub else None, source="freeradius")
        done += 1
    return done
