"""The poller's arithmetic, without Flask or a database: counter rates with wrap handling,
threshold levels with hysteresis, a target's state and flap detection."""
from __future__ import annotations

WRAP = {32: 2 ** 32, 64: 2 ** 64}
LEVELS = ("ok", "warning", "critical")
#: a delta above this share of the counter's range is a reset (agent restart), not a wrap
RESET_SHARE = 0.5


def counter_rate(previous: int, current: int, seconds: float, bits: int = 32) -> float | None:
    """Per-second rate of an SNMP counter between two reads.

    A smaller current value is a wrap of a ``bits``-bit counter (``2**bits`` added) unless
    the implied delta is implausible (more than half the range: an agent restart), which
    gives ``None`` (no rate for this interval). No time elapsed also gives ``None``.
    """
    if seconds <= 0:
        return None
    delta = current - previous
    if delta < 0:
        delta += WRAP[bits]
        if delta > WRAP[bits] * RESET_SHARE:
            return None
    return delta / seconds


def level(value: float | None, previous: str, warning: float | None, critical: float | None,
          hysteresis: float = 0.0) -> str:
    """The value's level: ``critical`` at or above ``critical``, ``warning`` at or above
    ``warning``. A level once reached holds until the value falls below its threshold minus
    ``hysteresis`` (so a value hovering at a threshold raises one alert, not fifty)."""
    if value is None:
        return previous
    hysteresis = abs(hysteresis or 0.0)

    def holds(threshold, name):
        if threshold is None:
            return False
        limit = threshold - hysteresis if LEVELS.index(previous) >= LEVELS.index(name) \
            else threshold
        return value >= limit

    if holds(critical, "critical"):
        return "critical"
    if holds(warning, "warning"):
        return "warning"
    return "ok"


def raw_state(loss: float | None, rtt_ms: float | None, levels: dict[str, str], *,
              loss_warning: float, rtt_warning: float, reachable: bool = True
              ) -> tuple[str, str]:
    """(state, reason) from one poll: ``down`` at 100% ICMP loss (or, without ICMP, when
    SNMP did not answer), ``warning`` on loss/latency over their limits or any threshold
    level, else ``up``."""
    if loss is not None and loss >= 100:
        return "down", "100% ICMP loss"
    if loss is None and not reachable:
        return "down", "no SNMP answer"
    reasons = []
    if loss is not None and loss >= loss_warning:
        reasons.append(f"{loss:.0f}% ICMP loss")
    if rtt_ms is not None and rtt_ms >= rtt_warning:
        reasons.append(f"latency {rtt_ms:.0f} ms")
    reasons += [f"{lvl}: {name}" for name, lvl in sorted(levels.items()) if lvl != "ok"]
    return ("warning", ", ".join(reasons)) if reasons else ("up", "")


def flap_state(flips: list[float], now: float, raw: str, *, window: float, changes: int
               ) -> tuple[str, list[float]]:
    """The reported state and the kept flip times: ``flapping`` while at least ``changes``
    raw state changes happened within ``window`` seconds, else the raw state."""
    kept = [t for t in flips if now - t <= window][-50:]
    return ("flapping" if len(kept) >= changes else raw), kept
