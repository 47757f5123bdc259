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


@hookspec
def network_desired_overrides(subscription_ids):
    """Rate limits other plugins put on data services right now (e.g. the usage plugin's
    fair-usage throttle once a service has used its allowance).

    Called wherever the desired state is built — a reconcile, a RADIUS answer, a CoA — with
    the active services among those being built, so it must answer from one query for the
    whole list, and never talk to the network. A service it names is provisioned as
    ``throttled`` at the given rate (never faster than its own plan; the lowest answer wins
    when several plugins answer). When an override starts or ends, its plugin asks the
    network plugin to bring those services in step (``api.reconcile_subscribers``).

    :param subscription_ids: a sorted list of subscription ids.
    :returns: ``{subscription id: kbit/s both ways}`` for the services to throttle; the
        others are absent.
    """
