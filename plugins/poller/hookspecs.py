"""Hooks the poller plugin publishes. Implement with ``@hookimpl(optionalhook=True)``."""
from __future__ import annotations

from backhaul.sdk import hookspec


@hookspec
def device_state_changed(target, name, old_state, new_state, reason, at):
    """A polled target's state changed (up, warning, down, flapping; first poll: from
    ``unknown``).

    Called by the poller inside the transaction that records the change: write rows or
    enqueue jobs only. While a target flaps, one call announces ``flapping`` and the next
    comes when it settles.

    :param target: ``"device:7"`` (a network device) or ``"item:12"`` (an inventory item).
    :param name: the target's name, for people.
    :param old_state: the state before.
    :param new_state: the state now.
    :param reason: why, in words ("100% loss", "critical: cpu 97 >= 90").
    :param at: the poll time (aware datetime).
    """
