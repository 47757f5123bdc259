"""The desired state of a device: every data service routed to it, in constant queries.

A service is routed to a device through its credential (``device_id``). Its state follows
the account's status meaning: ``active`` -> active; ``delinquent`` -> the plugin's
``delinquent_behaviour`` (suspend, throttle to ``throttle_kbps``, redirect); anything else
(moved out, prospect) or an ended subscription -> absent, i.e. removed from the device.
An active service another plugin throttles (``network_desired_overrides``: a fair-usage
cap) is ``throttled`` at the lower of its plan and that rate.
"""
from __future__ import annotations

import sqlalchemy as sa

from backhaul.plugins.billing.api import subscriptions
from backhaul.sdk import call_hook, current_plugin_settings, db, hook_implementers
from backhaul.sdk.accounts import Account, AccountStatus
from backhaul.sdk.instances import decrypt_json
from backhaul.sdk.provisioning import DesiredState, DeviceRef, Secret, Subscriber

from .models import Assignment, Credential, Device, Subnet

BEHAVIOURS = {"suspend": "suspended", "throttle": "throttled", "redirect": "redirected"}


def device_ref(device: Device) -> DeviceRef:
    secrets = decrypt_json(device.secrets)
    return DeviceRef(id=device.id, name=device.name, backend=device.backend, host=device.host,
                     port=device.port, username=device.username,
                     password=Secret(secrets.get("password")), vendor=device.vendor,
                     settings={**(device.settings or {}), **secrets.get("settings", {})})


def split_settings(backend, settings: dict) -> tuple[dict, dict]:
    """A backend's validated settings as (kept in clear, sealed with the device's secrets):
    the backend's secret settings never sit in the database readable."""
    from backhaul.sdk.instances import secret_fields

    secret = set(secret_fields(backend))
    return ({k: v for k, v in settings.items() if k not in secret},
            {k: v for k, v in settings.items() if k in secret and v not in (None, "")})


def _kbps(params: dict, key: str) -> int | None:
    value = params.get(key)
    return int(value) * 1000 if isinstance(value, int | float) else None


def desired_state(device_id: int, only: set[int] | None = None) -> DesiredState:
    """What ``device_id`` should hold (``only``: just these subscription ids)."""
    device = db.session.get(Device, device_id)
    query = sa.select(Credential).where(Credential.device_id == device_id)
    if only is not None:  # one service's change (or a RADIUS lookup): never load them all
        query = query.where(Credential.subscription_id.in_(set(only)))
    creds = {c.subscription_id: c for c in db.session.scalars(query)}
    if not creds:
        return DesiredState(device_ref(device), ())
    data = {s.id: s for s in subscriptions(
        type_keys=["data"], subscription_ids=set(creds) if only is not None else None)
        if s.id in creds}
    accounts = dict(db.session.execute(
        sa.select(Account.id, AccountStatus.meaning).join(
            AccountStatus, AccountStatus.id == Account.status_id)
        .where(Account.id.in_({s.account_id for s in data.values()}))).all()) if data else {}
    numbers = dict(db.session.execute(sa.select(Account.id, Account.number).where(
        Account.id.in_(set(accounts)))).all()) if accounts else {}
    held = db.session.execute(
        sa.select(Assignment.subscription_id, Assignment.address, Subnet.kind)
        .join(Subnet, Subnet.id == Assignment.subnet_id)
        .where(Assignment.subscription_id.in_(set(data)), Assignment.valid_to.is_(None))
        .order_by(Assignment.id)).all() if data else []
    addresses = {sid: a for sid, a, _kind in held if ":" not in a}
    prefixes = {sid: a for sid, a, kind in held if kind == "pd"}
    settings = current_plugin_settings("network")
    limits = overrides(sorted(sid for sid, s in data.items()
                              if accounts.get(s.account_id) == "active"))
    out = []
    for sid, sub in sorted(data.items()):
        meaning = accounts.get(sub.account_id)
        if meaning == "active":
            state = "throttled" if sid in limits else "active"
        elif meaning == "delinquent":
            state = BEHAVIOURS[settings["delinquent_behaviour"]]
        else:
            continue
        cred = creds[sid]
        down, up = _kbps(sub.params, "download_mbps"), _kbps(sub.params, "upload_mbps")
        if state == "throttled":
            cap = limits.get(sid, settings["throttle_kbps"])
            down, up = min(down or cap, cap), min(up or cap, cap)
        out.append(Subscriber(
            key=f"sub-{sid}", account_number=numbers.get(sub.account_id, ""), state=state,
            username=cred.username, password=Secret(decrypt_json(cred.secret).get("password")),
            mac=cred.mac, circuit_id=cred.circuit_id, remote_id=cred.remote_id,
            ipv4=addresses.get(sid), ipv6_prefix=prefixes.get(sid), vlan=cred.vlan,
            download_kbps=down, upload_kbps=up,
            plan=sub.service_name,
            extra={"subscription_id": sid, "account_id": sub.account_id}))
    return DesiredState(device_ref(device), tuple(out))


def overrides(subscription_ids: list[int]) -> dict[int, int]:
    """``{subscription: kbit/s}`` other plugins throttle now (``network_desired_overrides``);
    the lowest answer wins, nonsense answers (not a positive integer) are ignored."""
    if not subscription_ids or not hook_implementers("network_desired_overrides"):
        return {}
    wanted, out = set(subscription_ids), {}
    for _plugin, answer in call_hook("network_desired_overrides",
                                     subscription_ids=list(subscription_ids)):
        for sid, kbps in (answer or {}).items():
            if sid in wanted and isinstance(kbps, int) and not isinstance(kbps, bool) \
                    and kbps > 0:
                out[sid] = min(kbps, out.get(sid, kbps))
    return out
