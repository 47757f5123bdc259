"""What an Access-Accept says: the subscriber's desired state in RADIUS attributes.

Rates follow each vendor's convention: MikroTik's ``Mikrotik-Rate-Limit`` is "rx/tx" from the
router's side, i.e. the subscriber's upload then download (``"20000k/100000k"``); Juniper
broadband (ERX dictionary) names ingress/egress policies, which the operator defines once per
rate on the router (``ERX-Ingress-Policy-Name = "bh-20000k"``). A redirected subscriber is
put on the captive-portal address list (MikroTik) or given the redirect policy (Juniper).
"""
from __future__ import annotations

from backhaul.sdk.provisioning import Subscriber, SubscriberState


def policy_name(pattern: str, kbps: int | None) -> str:
    return pattern.format(kbps=kbps if kbps else "unlimited")[:64]


def accept_attributes(sub: Subscriber, dialect: str, settings: dict) -> dict[str, object]:
    """pyrad attribute name -> value for the Access-Accept (or the CoA-Request)."""
    attrs: dict[str, object] = {"Service-Type": "Framed-User", "Framed-Protocol": "PPP"}
    if sub.ipv4:
        attrs["Framed-IP-Address"] = sub.ipv4
    elif settings.get("framed_pool"):
        attrs["Framed-Pool"] = settings["framed_pool"]
    if sub.ipv6_prefix:
        attrs["Delegated-IPv6-Prefix"] = sub.ipv6_prefix
    if settings.get("session_timeout"):
        attrs["Session-Timeout"] = settings["session_timeout"]
    if settings.get("idle_timeout"):
        attrs["Idle-Timeout"] = settings["idle_timeout"]
    if settings.get("interim_interval"):
        attrs["Acct-Interim-Interval"] = settings["interim_interval"]
    redirected = sub.state == SubscriberState.REDIRECTED
    if dialect == "mikrotik":
        if sub.download_kbps or sub.upload_kbps:
            attrs["Mikrotik-Rate-Limit"] = (f"{sub.upload_kbps or 0}k/"
                                            f"{sub.download_kbps or 0}k")
        if redirected:
            attrs["Mikrotik-Address-List"] = settings["redirect_address_list"]
    elif dialect == "juniper":
        pattern = settings["juniper_policy"]
        if redirected:
            attrs["ERX-Ingress-Policy-Name"] = settings["juniper_redirect_policy"]
            attrs["ERX-Egress-Policy-Name"] = settings["juniper_redirect_policy"]
        else:
            attrs["ERX-Ingress-Policy-Name"] = policy_name(pattern, sub.upload_kbps)
            attrs["ERX-Egress-Policy-Name"] = policy_name(pattern, sub.download_kbps)
    return attrs
