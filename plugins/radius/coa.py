"""Change of Authorization and Disconnect (RFC 5176): the live session follows the business.

When a subscriber's desired state changes, a job looks for its open sessions and, on each
session's NAS, either ends it (Disconnect-Request: suspended, moved out, removed — the
subscriber reconnects and meets the new answer) or changes it in place (CoA-Request with
the new rate and address list: throttled, redirected, restored, speed changed). A NAK or a
timeout is recorded on the session and the job fails, so the job system retries it with
backoff, a bounded number of times.
"""
from __future__ import annotations

import logging

from pyrad import packet as rp
from pyrad.client import Client, Timeout

from backhaul.sdk import current_plugin_settings, db

from .accounting import open_sessions
from .dictionary import dictionary
from .directory import Directory
from .replies import accept_attributes

log = logging.getLogger("backhaul.radius")
CHANGE_ATTRIBUTES = ("Mikrotik-Rate-Limit", "Mikrotik-Address-List", "ERX-Ingress-Policy-Name",
                     "ERX-Egress-Policy-Name", "Session-Timeout", "Idle-Timeout")


def coa_job(subscription_ids: list[int]) -> None:
    from backhaul.plugins.network.api import subscriber_for_username

    sessions = open_sessions(subscription_ids)
    if not sessions:
        return
    directory = Directory()
    directory.load_nases()
    by_id = {n.device_id: n for n in directory.nases.values()}
    settings = current_plugin_settings("radius")
    failures = []
    for session in sessions:
        nas = by_id.get(session.device_id)
        if nas is None:
            session.coa_result = "no NAS with a shared secret"
            continue
        sub = subscriber_for_username(session.username) if session.username else None
        if sub is not None and sub.extra.get("subscription_id") != session.subscription_id:
            sub = None  # the login now belongs to another service
        result = send(nas, session, sub, settings)
        session.coa_result = result[:200]
        if result not in ("ack", "disconnect-ack"):
            failures.append(f"{nas.name}/{session.acct_session_id}: {result}")
    db.session.commit()  # the results stay, whatever happens next
    if failures:
        raise RuntimeError("; ".join(failures)[:1000])


def send(nas, session, sub, settings: dict) -> str:
    """One request to ``nas``; ``"ack"``/``"disconnect-ack"``, ``"nak: ..."`` or
    ``"timeout"``."""
    from backhaul.sdk.provisioning import SubscriberState

    client = Client(server=nas.address, secret=nas.secret, dict=dictionary(),
                    coaport=nas.coa_port)
    client.timeout = float(settings.get("coa_timeout", 2.0))
    client.retries = int(settings.get("coa_retries", 2))
    disconnect = sub is None or sub.state == SubscriberState.SUSPENDED
    code = rp.DisconnectRequest if disconnect else rp.CoARequest
    request = client.CreateCoAPacket(code=code)
    request["User-Name"] = session.username
    request["Acct-Session-Id"] = session.acct_session_id
    if session.framed_ip:
        request["Framed-IP-Address"] = session.framed_ip
    if not disconnect:
        for name, value in accept_attributes(sub, nas.dialect, settings).items():
            if name in CHANGE_ATTRIBUTES:
                request[name] = value
    request.add_message_authenticator()
    try:
        reply = client.SendPacket(request)
    except Timeout:
        return "timeout"
    except OSError as exc:
        return f"error: {exc}"
    if reply.code in (rp.CoAACK, rp.DisconnectACK):
        return "disconnect-ack" if disconnect else "ack"
    cause = reply.get("Error-Cause", [None])[0] if hasattr(reply, "get") else None
    return f"nak{f': Error-Cause {cause}' if cause else ''}"


def disconnect_job(session_id: int) -> None:
    """Staff asked to end one session."""
    from .models import Session

    session = db.session.get(Session, session_id)
    if session is None or session.stopped_at is not None:
        return
    directory = Directory()
    directory.load_nases()
    nas = next((n for n in directory.nases.values() if n.device_id == session.device_id), None)
    result = send(nas, session, None, current_plugin_settings("radius")) if nas else \
        "no NAS with a shared secret"
    session.coa_result = result[:200]
    db.session.commit()
    if result != "disconnect-ack":
        raise RuntimeError(f"disconnect of {session.acct_session_id}: {result}")
