"""Write a batch of poll results: counters to rates, threshold levels, state with flap
detection, samples, and on a state change the ``device_state_changed`` hook and one
e-mail to the on-call address."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from backhaul.sdk import call_hook, current_plugin_settings, db, plugin_enabled

from . import affected, logic
from .models import Sample, TargetState
from .snmp_icmp import IcmpResult, SnmpResult
from .targets import Target

log = logging.getLogger(__name__)


@dataclass
class PollResult:
    target: Target
    at: datetime
    icmp: IcmpResult | None = None
    snmp: SnmpResult | None = None
    errors: list[str] = field(default_factory=list)


def _settings() -> dict:
    return current_plugin_settings("poller") or {}


def write_batch(results: list[PollResult]) -> list[tuple[str, str, str]]:
    """Record ``results`` in one transaction (committed here); returns the state changes
    as (target, old, new)."""
    changes = []
    samples = []
    for result in results:
        change = _one(result, samples)
        if change:
            changes.append(change)
    db.session.bulk_insert_mappings(Sample, samples)
    db.session.commit()
    return changes


def _one(result: PollResult, samples: list[dict]):
    target, at = result.target, result.at
    row = db.session.get(TargetState, target.key) or TargetState(
        target=target.key, state="unknown", raw_state="unknown", reason="", levels={},
        counters={}, flips=[])
    db.session.add(row)
    row.name, row.polled_at = target.name[:200], at
    now = at.timestamp()
    add = samples.append
    loss = rtt = None
    if result.icmp is not None:
        loss, rtt = result.icmp.loss, result.icmp.rtt_ms
        add({"target": target.key, "metric": "icmp.loss", "at": at, "value": loss})
        if rtt is not None:
            add({"target": target.key, "metric": "icmp.rtt", "at": at, "value": rtt})
    row.loss, row.rtt_ms = loss, rtt
    levels, counters = dict(row.levels or {}), dict(row.counters or {})
    values = result.snmp.values if result.snmp else {}
    for spec in _specs(target, result.snmp):
        name = spec["name"]
        if name not in values:
            continue
        raw, bits = values[name]
        value = None
        if spec.get("type") == "string":
            add({"target": target.key, "metric": name, "at": at, "text": str(raw)[:255]})
            continue
        if spec.get("type") == "counter":
            before = counters.get(name)
            counters[name] = [int(raw), now]
            if before is not None:
                value = logic.counter_rate(int(before[0]), int(raw), now - before[1],
                                           bits or 32)
                if value is not None:
                    value *= spec.get("scale", 1)
        else:
            value = float(raw) if isinstance(raw, int | float) else None
        if value is None:
            continue
        add({"target": target.key, "metric": name, "at": at, "value": value})
        if spec.get("warning") is not None or spec.get("critical") is not None:
            levels[name] = logic.level(value, levels.get(name, "ok"), spec.get("warning"),
                                       spec.get("critical"), spec.get("hysteresis") or 0)
    row.levels, row.counters = levels, counters
    tpl = target.templates[0]
    reachable = result.snmp is None or not result.snmp.error.startswith(
        ("No SNMP response", "RequestTimedOut", "SNMPv3")) and bool(
        values or not result.snmp.error)
    raw_state, reason = logic.raw_state(loss, rtt, levels, loss_warning=tpl.loss_warning,
                                        rtt_warning=tpl.rtt_warning, reachable=reachable)
    errors = [e for e in result.errors + ([result.snmp.error] if result.snmp else []) if e]
    if errors:
        reason = "; ".join(filter(None, [reason, *errors]))
    settings = _settings()
    flips = list(row.flips or [])
    if row.raw_state not in ("unknown", raw_state):
        flips.append(now)
    row.raw_state = raw_state
    state, row.flips = logic.flap_state(flips, now, raw_state,
                                        window=settings.get("flap_window", 900),
                                        changes=settings.get("flap_changes", 4))
    row.reason = reason[:500]
    old = row.state
    if state == old:
        return None
    row.state, row.changed_at = state, at
    if state == "down":
        affected.mark(target.key, at)
    elif old == "down":
        affected.clear(target.key)
    _announce(target, old, state, row.reason, at)
    return target.key, old, state


def _specs(target: Target, snmp: SnmpResult | None):
    """The template OIDs, then one counter per walked interface direction (octets turned
    into bit/s)."""
    yield from (o for t in target.templates if t.snmp_enabled for o in t.oids)
    if snmp is not None and snmp.interfaces:
        for name in sorted(snmp.values):
            if name.startswith("if."):
                yield {"name": name, "type": "counter", "unit": "bit/s", "scale": 8}


def _announce(target: Target, old: str, new: str, reason: str, at: datetime) -> None:
    call_hook("device_state_changed", target=target.key, name=target.name, old_state=old,
              new_state=new, reason=reason, at=at)
    oncall = _settings().get("oncall_email")
    if not oncall or (old == "unknown" and new == "up") or not plugin_enabled("notifications"):
        return
    from backhaul.plugins.notifications.api import send_email

    site = f" at {target.site}" if target.site else ""
    send_email(oncall, f"[{new.upper()}] {target.name}{site}",
               f"{target.name} ({target.host}){site} is now {new} (was {old}).\n\n"
               f"Reason: {reason or '-'}\nAt: {at.isoformat()}\n",
               source="poller.alert", category="service",
               dedupe_key=f"poller:{target.key}:{at.isoformat()}:{new}")


def prune(now: datetime, days: int) -> int:
    """Delete samples older than ``days`` (bounded retention)."""
    done = db.session.execute(sa.delete(Sample).where(
        Sample.at < now - timedelta(days=days))).rowcount
    db.session.commit()
    return done or 0
