"""Reconcile: render the desired state, read the device, apply only the difference.

The same path gives the dry run (no apply), drift detection (a difference nobody caused in
Backhaul) and repair (apply it). Every run is recorded (``network_reconcile``: changes,
applied, error) and each apply that changed something is in the audit trail. A device that
cannot be reached is recorded with its reason; the job retries it with the job system's
backoff (bounded attempts) when retrying can help, and the periodic reconcile repairs
whatever an interrupted apply left behind.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from backhaul.sdk import audit, call_hook, db, enqueue, registered, utcnow
from backhaul.sdk.provisioning import Change, ProvisioningError, diff

from .desired import desired_state
from .models import Credential, Device, Lease, PendingReconcile, Reconcile


@dataclass
class Outcome:
    record: Reconcile
    changes: list[Change] = field(default_factory=list)
    retryable: bool = False


def reconcile(device_id: int, *, dry_run: bool = False,
              only: set[int] | None = None) -> Outcome:
    """Reconcile one device (``only``: just these subscription ids). Flushes, no commit."""
    device = db.session.get(Device, device_id)
    record = Reconcile(device_id=device_id, at=utcnow(), dry_run=dry_run, changes=[],
                       applied=0)
    outcome = Outcome(record)
    try:
        backend = registered("provisioning_backends").get(device.backend)
        if backend is None:
            raise ProvisioningError(f"no provisioning backend '{device.backend}' is installed",
                                    retryable=False)
        desired = desired_state(device_id, only)
        ref = desired.device
        wanted = {s.key: backend.render(ref, s) for s in desired.subscribers
                  if backend.applies_to(ref, s)}
        keys = sorted(f"sub-{sid}" for sid in only) if only is not None else None
        changes = diff(wanted, backend.read(ref, keys), desired.by_key())
        outcome.changes = changes
        record.changes = [c.summary() for c in changes]
        if changes and not dry_run:
            result = backend.apply(ref, changes)
            record.applied = len(result.applied)
            if result.failed:
                record.error = "; ".join(f"{c.key}: {why}" for c, why in result.failed)[:4000]
        if not dry_run and backend.can_report_leases:
            _store_leases(device_id, backend.leases(ref, keys), only)
    except ProvisioningError as exc:
        record.error = str(exc)[:4000]
        outcome.retryable = exc.retryable
    if not dry_run:
        device.last_reconcile_at = record.at
        device.last_error = record.error
        if record.applied or record.error:
            audit.record("network.reconciled", "network_device", device_id,
                         {"applied": record.applied, "error": record.error})
    db.session.add(record)
    db.session.flush()
    return outcome


def _store_leases(device_id: int, leases: dict, only: set[int] | None) -> None:
    """Replace what is known of the device's leases (just ``only``'s after a fast-path run)."""
    stale = sa.delete(Lease).where(Lease.device_id == device_id)
    if only is not None:
        stale = stale.where(Lease.subscription_id.in_(only))
    db.session.execute(stale)
    now = utcnow()
    for key, found in leases.items():
        sid = _subscription_of(key)
        if sid is None or (only is not None and sid not in only):
            continue
        for lease in found[:16]:  # a service holds a handful; a misbehaving device is bounded
            db.session.add(Lease(device_id=device_id, subscription_id=sid,
                                 address=str(lease.address)[:64], mac=lease.mac,
                                 hostname=(lease.hostname or None) and lease.hostname[:255],
                                 expires_at=lease.expires_at, seen_at=now))


def _subscription_of(key: str) -> int | None:
    prefix, _, number = key.partition("-")
    return int(number) if prefix == "sub" and number.isdigit() else None


def reconcile_job(device_id: int, subscription_ids: list[int] | None = None) -> None:
    """The job: reconcile, keep the record, and fail (so the job system retries with
    backoff) only when the device could not be reached and trying again can help.

    With ``subscription_ids`` (a business event's job) it reconciles every service pending
    on the device — its own and those of events since — and takes them off the list; a job
    that finds the list empty (an earlier one took its services) ends without contacting the
    device. Without (the periodic job) the whole device is reconciled.
    """
    if subscription_ids is None:
        taken = _take_pending(device_id)
        only = None
    else:
        taken = _take_pending(device_id)
        if not taken:
            return  # handled by an earlier job for this device
        only = taken
    outcome = reconcile(device_id, only=only)
    if outcome.retryable or (outcome.record.error and only is not None):
        # still owed: the retry or the device's next job takes them again (the periodic
        # whole-device reconcile retries the rest and clears the list)
        _add_pending(device_id, taken)
    if outcome.retryable:
        db.session.commit()  # the record of this attempt stays
        raise RuntimeError(f"device {device_id}: {outcome.record.error}")


def _take_pending(device_id: int) -> set[int]:
    """Claim (delete) the device's pending services; two jobs never claim the same row."""
    table = PendingReconcile.__table__
    rows = db.session.execute(table.delete().where(table.c.device_id == device_id)
                              .returning(table.c.subscription_id)).scalars()
    return set(rows)


def _add_pending(device_id: int, subscription_ids) -> None:
    """Add services to the device's pending list; ones already there stay once."""
    if not subscription_ids:
        return
    table = PendingReconcile.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    db.session.execute(insert(table).on_conflict_do_nothing(), [
        {"device_id": device_id, "subscription_id": sid} for sid in sorted(subscription_ids)])


def reconcile_all_job() -> None:
    """The periodic job: every device, each in its own job."""
    for device_id in db.session.scalars(sa.select(Device.id).order_by(Device.id)):
        enqueue(reconcile_job, device_id)


def enqueue_for_subscriptions(subscription_ids: set[int],
                              also: dict[int, set[int]] | None = None) -> int:
    """After a business event: reconcile just these services on the devices they use
    (``also``: device id -> services to reconcile there too, e.g. the device a service was
    moved away from, so it is removed there at once). The services join the device's
    pending list and a job is enqueued; whichever job runs first takes the whole list."""
    rows = db.session.execute(sa.select(Credential.device_id, Credential.subscription_id)
                              .where(Credential.subscription_id.in_(subscription_ids),
                                     Credential.device_id.is_not(None))).all()
    rows = list(rows) + [(d, s) for d, sids in (also or {}).items() for s in sids]
    by_device: dict[int, list[int]] = {}
    for device_id, sid in rows:
        if sid not in by_device.setdefault(device_id, []):
            by_device[device_id].append(sid)
    for device_id, sids in by_device.items():
        _add_pending(device_id, sids)
        enqueue(reconcile_job, device_id, sorted(sids))
    if subscription_ids:
        call_hook("network_subscribers_changed", subscription_ids=sorted(subscription_ids))
    return len(by_device)


def test_connection(device_id: int):
    """Log in to the device; keep what it says about itself (``facts``) or the reason."""
    from .desired import device_ref

    device = db.session.get(Device, device_id)
    backend = registered("provisioning_backends").get(device.backend)
    if backend is None:
        device.last_error = f"no provisioning backend '{device.backend}' is installed"
        return False, device.last_error
    try:
        result = backend.test_connection(device_ref(device))
    except ProvisioningError as exc:
        device.last_error = str(exc)[:4000]
        return False, device.last_error
    if result.ok:
        device.facts = dict(result.facts)
    else:
        device.last_error = result.message[:4000]
    db.session.flush()
    return result.ok, result.message
