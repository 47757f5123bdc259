"""Hooks the network plugin publishes (``META.hookspecs``) for RADIUS, usage and others.

Implementers that do not depend on ``network`` mark them ``@hookimpl(optionalhook=True)``.
"""
from __future__ import annotations

from backhaul.sdk import hookspec


@hookspec
def network_subscribers_changed(subscription_ids):
    """The desired state of these data services may have changed (status, speed, address,
    credentials, device, move-out).

    Called inside the transaction that changed them, with the provisioning jobs just
    enqueued: write rows or enqueue jobs (both commit or roll back with the change), never
    talk to the network here. The RADIUS plugin forgets its cached answers and sends CoA.

    :param subscription_ids: a sorted list of subscription ids.
    """
