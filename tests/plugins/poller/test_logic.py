"""Counter rates with wraps, levels with hysteresis, flap detection: expectations computed
by hand from the counter widths (2**32, 2**64), not by the code under test."""
from __future__ import annotations

from backhaul.plugins.poller.logic import counter_rate, flap_state, level, raw_state


def test_counter_rate_plain_and_wrapped():
    assert counter_rate(1000, 7000, 60) == 100.0
    # a 32-bit counter wrapping: 4294967000 -> 704 is 1000 octets
    assert counter_rate(4_294_967_000, 704, 10, bits=32) == 100.0
    # the same numbers on a 64-bit counter cannot be a wrap: a reset, no rate
    assert counter_rate(4_294_967_000, 704, 10, bits=64) is None
    assert counter_rate(2**64 - 500, 1500, 20, bits=64) == 100.0
    # an agent restart (huge implied delta) gives no rate rather than a spike
    assert counter_rate(100_000, 5, 60, bits=32) is None
    assert counter_rate(1, 2, 0) is None


def test_level_hysteresis():
    seq = [50, 80, 79, 75, 74, 95, 91, 85, 84, 60]
    got, previous = [], "ok"
    for value in seq:
        previous = level(value, previous, warning=80, critical=90, hysteresis=5)
        got.append(previous)
    assert got == ["ok", "warning", "warning", "warning", "ok", "critical", "critical", "critical",
                   "warning", "ok"]
    assert level(None, "warning", 80, 90) == "warning"


def test_raw_state():
    kw = {"loss_warning": 20, "rtt_warning": 200}
    assert raw_state(100.0, None, {}, **kw)[0] == "down"
    assert raw_state(0.0, 1.0, {}, **kw) == ("up", "")
    assert raw_state(0.0, 250.0, {}, **kw)[0] == "warning"
    assert raw_state(0.0, 1.0, {"cpu": "critical"}, **kw) == ("warning", "critical: cpu")
    assert raw_state(None, None, {}, reachable=False, **kw)[0] == "down"


def test_flapping_after_changes_in_window_and_settles():
    flips = [0, 100, 200, 300]
    assert flap_state(flips, 310, "up", window=900, changes=4)[0] == "flapping"
    state, kept = flap_state(flips, 1150, "up", window=900, changes=4)
    assert state == "up" and kept == [300]
