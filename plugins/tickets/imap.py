"""Inbound mail fetched from IMAP mailboxes (``imaplib``), for addresses hosted elsewhere.

Each :class:`~.models.ImapMailbox` is polled by the periodic job ``tickets.imap_poll`` (and
on demand: "Fetch now"). A poll, in one transaction:

1. locks the mailbox row (two workers never fetch the same UIDs),
2. logs in, ``EXAMINE``s the folder (read-only: nothing is flagged, moved or deleted on the
   server — the ISP's own mail client or retention rules stay in charge),
3. asks for the UIDs above ``last_uid`` and takes the lowest ``imap_batch`` of them,
4. fetches each one's first ``max_message_bytes + 1`` bytes (``BODY.PEEK[]<0.n>``: an
   enormous message is never downloaded whole; it is kept cut, as ``failed``, like one the
   SMTP listener would refuse) and hands it to :func:`.mailin.ingest` in a savepoint (a
   message that breaks the rules is kept raw as ``failed``; the next one goes on),
5. advances ``last_uid`` past it.

``last_uid`` commits together with the tickets: a crash before the commit fetches the same
UIDs again next time and nothing was written, so nothing is fetched twice or lost.
A connection or login failure is written to ``last_error`` and tried again at the next poll.
"""
from __future__ import annotations

import imaplib
import logging
import re
import ssl

import sqlalchemy as sa
from marshmallow import ValidationError, validate

from backhaul.sdk import current_plugin_settings, db, utcnow
from backhaul.sdk.instances import decrypt_json, encrypt_json

from .models import ImapMailbox, InboundAddress

log = logging.getLogger("backhaul.tickets")
SECURITY = ("ssl", "starttls", "none")
UIDVALIDITY_RE = re.compile(rb"UIDVALIDITY (\d+)")
FETCH_UID_RE = re.compile(rb"UID (\d+)")


class ImapFailure(Exception):
    """The server could not be reached, refused the login or the folder."""


# ------------------------------------------------------------------------------ set-up
def _text(data: dict, key: str, limit: int, required: bool = True) -> str:
    value = str(data.get(key) or "").strip()
    if (required and not value) or len(value) > limit or any(c in value for c in "\r\n\x00"):
        raise ValidationError({key: [f"1-{limit} characters on one line" if required
                                     else f"at most {limit} characters on one line"]})
    return value


def save_mailbox(data: dict, row: ImapMailbox | None = None) -> ImapMailbox:
    """``name``, ``host``, ``port``, ``security``, ``username``, ``password`` (kept when
    empty on an existing mailbox), ``folder``, ``inboundAddressId``, ``enabled``."""
    name = " ".join(_text(data, "name", 100).split())
    clash = db.session.scalar(sa.select(ImapMailbox.id).where(ImapMailbox.name == name))
    if clash is not None and (row is None or clash != row.id):
        raise ValidationError({"name": [f"'{name}' exists already"]})
    host = _text(data, "host", 255).lower()
    try:
        validate.Regexp(r"^[a-z0-9.\-:\[\]]+$")(host)
    except ValidationError:
        raise ValidationError({"host": ["a host name or IP address"]}) from None
    security = str(data.get("security") or "ssl")
    if security not in SECURITY:
        raise ValidationError({"security": [f"one of {', '.join(SECURITY)}"]})
    try:
        given = data.get("port")
        port = (993 if security == "ssl" else 143) if given in (None, "") else int(given)
    except (TypeError, ValueError):
        port = 0
    if not 1 <= port <= 65535:
        raise ValidationError({"port": ["1-65535"]})
    username = _text(data, "username", 254)
    password = str(data.get("password") or "")
    if len(password) > 1000 or any(c in password for c in "\r\n\x00"):
        raise ValidationError({"password": ["at most 1000 characters on one line"]})
    if not password and (row is None or not row.secrets):
        raise ValidationError({"password": ["the mailbox's password"]})
    folder = _text(data, "folder", 200, required=False) or "INBOX"
    try:
        address = db.session.get(InboundAddress, int(data.get("inboundAddressId")))
    except (TypeError, ValueError):
        address = None
    if address is None:
        raise ValidationError({"inboundAddressId": ["choose the inbound address this "
                                                    "mailbox receives for"]})
    row = row or ImapMailbox(last_uid=0, fetched=0, last_error="")
    if row.id and (row.host, row.username, row.folder) != (host, username, folder):
        row.uid_validity, row.last_uid = None, 0  # another mailbox: start from its first UID
    row.name, row.host, row.port, row.security = name, host, port, security
    row.username, row.folder, row.inbound_address_id = username, folder, address.id
    row.enabled = bool(data.get("enabled", True))
    if password:
        row.secrets = encrypt_json({"password": password})
    db.session.add(row)
    db.session.flush()
    return row


# ------------------------------------------------------------------------------ fetching
def _settings() -> dict:
    return current_plugin_settings("tickets")


def connect(mailbox: ImapMailbox) -> imaplib.IMAP4:
    """Logged in to the mailbox's server (a timeout bounds every step)."""
    timeout = _settings().get("imap_timeout_seconds", 30)
    password = decrypt_json(mailbox.secrets).get("password", "")
    try:
        if mailbox.security == "ssl":
            conn = imaplib.IMAP4_SSL(mailbox.host, mailbox.port, timeout=timeout,
                                     ssl_context=ssl.create_default_context())
        else:
            conn = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=timeout)
            if mailbox.security == "starttls":
                conn.starttls(ssl.create_default_context())
        conn.login(mailbox.username, password)
    except imaplib.IMAP4.error as exc:
        raise ImapFailure(f"the server refused: {_said(exc)}") from None
    except (TimeoutError, OSError, ssl.SSLError) as exc:
        raise ImapFailure(f"cannot reach {mailbox.host}:{mailbox.port}: {exc}") from None
    return conn


def _said(exc: Exception) -> str:
    text = exc.args[0] if exc.args else exc
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return str(text)[:300]


def _uid_validity(conn: imaplib.IMAP4) -> int | None:
    _, data = conn.response("UIDVALIDITY")
    for item in data or []:
        if item is not None:
            try:
                return int(item)
            except (TypeError, ValueError):
                return None
    return None


def new_uids(conn: imaplib.IMAP4, after: int) -> list[int]:
    """UIDs above ``after``, ascending. (``n:*`` always matches the newest message even when
    its UID is below n: those are filtered out.)"""
    typ, data = conn.uid("SEARCH", None, "UID", f"{after + 1}:*")
    if typ != "OK":
        raise ImapFailure(f"SEARCH failed: {data!r}"[:300])
    uids = sorted({int(u) for u in b" ".join(d for d in data if d).split()})
    return [u for u in uids if u > after]


def fetch(conn: imaplib.IMAP4, uid: int, limit: int) -> bytes | None:
    """The message's first ``limit`` bytes (all of a smaller one), or None when it is gone."""
    typ, data = conn.uid("FETCH", str(uid), f"(BODY.PEEK[]<0.{limit}>)")
    if typ != "OK":
        raise ImapFailure(f"FETCH {uid} failed: {data!r}"[:300])
    for item in data or []:
        if isinstance(item, tuple) and len(item) == 2:
            found = FETCH_UID_RE.search(item[0])
            if found is None or int(found.group(1)) == uid:
                return item[1]
    return None  # expunged between SEARCH and FETCH


def poll(mailbox: ImapMailbox) -> int:
    """Fetch the mailbox's new messages (see the module docstring); the number handled.
    Does not commit."""
    from .mailin import ingest, record

    mailbox = db.session.get(ImapMailbox, mailbox.id, with_for_update=True,
                             populate_existing=True)
    settings = _settings()
    limit = settings.get("max_message_bytes", 10_000_000)
    batch = settings.get("imap_batch", 50)
    mailbox.last_polled_at = utcnow()
    try:
        conn = connect(mailbox)
    except ImapFailure as exc:
        mailbox.last_error = str(exc)
        return 0
    handled = 0
    try:
        typ, data = conn.select(_quoted(mailbox.folder), readonly=True)
        if typ != "OK":
            raise ImapFailure(f"cannot open folder {mailbox.folder}: {_said(Exception(*data))}")
        validity = _uid_validity(conn)
        if validity is not None and validity != mailbox.uid_validity:
            if mailbox.uid_validity is not None:
                log.warning("imap %s: UIDVALIDITY changed (%s -> %s): fetching again",
                            mailbox.name, mailbox.uid_validity, validity)
            mailbox.uid_validity, mailbox.last_uid = validity, 0
        rcpt = [mailbox.inbound_address.address]
        for uid in new_uids(conn, mailbox.last_uid)[:batch]:
            raw = fetch(conn, uid, limit + 1)
            if raw is not None:
                _ingest_one(raw, rcpt, mailbox, uid, ingest, record)
                handled += 1
            mailbox.last_uid = uid
        mailbox.last_error = ""
    except ImapFailure as exc:
        mailbox.last_error = str(exc)
    except (imaplib.IMAP4.error, OSError) as exc:
        mailbox.last_error = f"connection lost: {_said(exc)}"
    finally:
        mailbox.fetched += handled
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return handled


def _ingest_one(raw: bytes, rcpt: list[str], mailbox, uid, ingest, record) -> None:
    source = f" — fetched from IMAP mailbox {mailbox.name}, UID {uid}"
    try:
        with db.session.begin_nested():
            mail = ingest(raw, "", rcpt)
            mail.detail = (mail.detail + source)[:4000]
    except Exception as exc:  # noqa: BLE001  keep the raw mail, say why, go on
        log.exception("imap %s: UID %s could not be handled; kept as failed", mailbox.name,
                      uid)
        with db.session.begin_nested():
            record(raw, "", rcpt, "failed",
                   f"could not be handled: {type(exc).__name__}: {exc}{source}")


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def poll_all() -> int:
    """Periodic (``tickets.imap_poll``): every enabled mailbox, one batch each."""
    ids = db.session.scalars(sa.select(ImapMailbox.id).where(ImapMailbox.enabled)
                             .order_by(ImapMailbox.id)).all()
    return sum(poll_mailbox(i) for i in ids)


def poll_mailbox(mailbox_id: int) -> int:
    """One mailbox (the job behind "Fetch now"); 0 for a mailbox deleted meanwhile."""
    mailbox = db.session.get(ImapMailbox, mailbox_id)
    return poll(mailbox) if mailbox is not None else 0


def request_fetch(mailbox: ImapMailbox) -> None:
    """"Fetch now": a job after commit (a remote server is never waited for in a request);
    one waiting job per mailbox at a time."""
    from backhaul.sdk import enqueue

    enqueue(poll_mailbox, mailbox.id, key=f"tickets.imap:{mailbox.id}:{mailbox.last_uid}:"
                                          f"{utcnow():%Y%m%d%H%M}", max_attempts=1)
