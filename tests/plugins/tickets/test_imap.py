"""IMAP mailboxes against a real IMAP server: Debian's Dovecot, configured by the test in a
temp folder on a loopback port with a passwd-file user (``backhaul.sdk.testing.dovecot``).
Mail is delivered into it with a real IMAP client (APPEND); the periodic job fetches it by
UID, through a real RQ worker where the job path matters.

What must hold: new mail opens tickets in the inbound address's group and replies thread;
nothing is fetched twice (UIDs), nothing is lost (a failed poll leaves ``last_uid`` alone;
an enormous or malformed message is kept, cut or raw, and the next one is handled); the
server's copy is untouched (read-only); the password is sealed at rest and never shown."""
from __future__ import annotations

import email.utils

import pytest
import sqlalchemy as sa
from tickets_helpers import BILLING, SUPPORT, mail, tickets

from backhaul.sdk import db
from backhaul.sdk.testing import dovecot

PASSWORD = "imap-pass-7b1f"


@pytest.fixture
def imap_server():
    why = dovecot.missing()
    if why:
        from backhaul.sdk.testing.pytest_plugin import peer_missing

        peer_missing(why)
    with dovecot.DovecotPeer({"support": PASSWORD, "other": "x"}) as server:
        yield server


@pytest.fixture
def mailbox(app, desk, imap_server):
    from backhaul.plugins.tickets import imap
    from backhaul.plugins.tickets.models import InboundAddress

    support = db.session.scalar(sa.select(InboundAddress).where(
        InboundAddress.address == SUPPORT))
    row = imap.save_mailbox({"name": "Hosted support", "host": "127.0.0.1",
                             "port": imap_server.port, "security": "none",
                             "username": "support", "password": PASSWORD,
                             "inboundAddressId": support.id})
    db.session.commit()
    return row


def _deliver(server, msg) -> None:
    server.append("support", msg.as_bytes() if hasattr(msg, "as_bytes") else msg)


def _poll() -> int:
    from backhaul.plugins.tickets.imap import poll_all

    handled = poll_all()
    db.session.commit()
    return handled


def _inbound():
    from backhaul.plugins.tickets.models import InboundMail

    return db.session.scalars(sa.select(InboundMail).order_by(InboundMail.id)).all()


def test_new_mail_opens_tickets_replies_thread_and_nothing_is_fetched_twice(
        app, tenant, mailbox, imap_server):
    from backhaul.plugins.tickets.models import ImapMailbox

    first = mail("No internet", Message_ID="<imap-1@example.net>")
    _deliver(imap_server, first)
    _deliver(imap_server, mail("Invoice question", sender="someone@else.example"))
    assert _poll() == 2
    one, two = tickets()
    assert one.group.name == "Support" and one.inbound_address.address == SUPPORT
    assert one.account_id == tenant[0].id  # the sender matched the tenant's contact
    assert two.account_id is None and two.requester_email == "someone@else.example"

    assert _inbound()[0].detail.endswith("fetched from IMAP mailbox Hosted support, UID 1")
    assert _poll() == 0  # nothing new: nothing fetched again
    assert len(tickets()) == 2 and len(_inbound()) == 2

    reply = mail("Re: No internet", body="Still down.", In_Reply_To="<imap-1@example.net>")
    _deliver(imap_server, reply)
    assert _poll() == 1
    assert [m.body_text for m in tickets()[0].messages if m.kind == "inbound"] == [
        "Since this morning.", "Still down."]
    box = db.session.get(ImapMailbox, mailbox.id)
    assert (box.last_uid, box.fetched, box.last_error) == (3, 3, "")

    # read-only: the server still has every message, none marked seen or deleted
    conn = imap_server.client("support")
    conn.select("INBOX", readonly=True)
    _, flags = conn.uid("FETCH", "1:*", "(FLAGS)")
    conn.logout()
    assert len(flags) == 3 and not any(b"\\Seen" in f or b"\\Deleted" in f for f in flags)


@pytest.mark.with_redis
def test_the_periodic_job_runs_in_a_real_rq_worker(app, tenant, mailbox, imap_server,
                                                     rq_burst):
    from backhaul.core.jobs import enqueue
    from backhaul.plugins.tickets import imap

    _deliver(imap_server, mail("Router blinking red"))
    imap.request_fetch(mailbox)  # "Fetch now": a job, not work in the request
    db.session.commit()
    assert tickets() == []
    rq_burst(app)
    db.session.commit()  # end this snapshot: see the worker's writes
    [ticket] = tickets()
    assert ticket.subject == "Router blinking red"
    enqueue(imap.poll_all)  # the periodic job's function, again: idempotent
    db.session.commit()
    rq_burst(app)
    db.session.commit()
    assert len(tickets()) == 1 and len(_inbound()) == 1


def test_a_failed_login_loses_nothing_and_the_next_poll_catches_up(app, tenant, mailbox,
                                                                    imap_server):
    from backhaul.plugins.tickets import imap
    from backhaul.plugins.tickets.models import ImapMailbox

    _deliver(imap_server, mail("Outage"))
    imap.save_mailbox({"name": mailbox.name, "host": "127.0.0.1", "port": imap_server.port,
                       "security": "none", "username": "support", "password": "wrong",
                       "inboundAddressId": mailbox.inbound_address_id}, mailbox)
    db.session.commit()
    assert _poll() == 0
    box = db.session.get(ImapMailbox, mailbox.id)
    assert "refused" in box.last_error and box.last_uid == 0 and tickets() == []
    assert "wrong" not in box.last_error

    imap.save_mailbox({"name": mailbox.name, "host": "127.0.0.1", "port": imap_server.port,
                       "security": "none", "username": "support", "password": PASSWORD,
                       "inboundAddressId": mailbox.inbound_address_id}, box)
    db.session.commit()
    assert _poll() == 1 and len(tickets()) == 1
    assert db.session.get(ImapMailbox, mailbox.id).last_error == ""


def test_an_unreachable_server_is_reported_not_raised(app, desk):
    from backhaul.plugins.tickets import imap
    from backhaul.plugins.tickets.models import ImapMailbox, InboundAddress
    from backhaul.sdk.testing import free_port

    support = db.session.scalar(sa.select(InboundAddress.id).where(
        InboundAddress.address == SUPPORT))
    row = imap.save_mailbox({"name": "Gone", "host": "127.0.0.1", "port": free_port(),
                             "security": "none", "username": "u", "password": "p",
                             "inboundAddressId": support})
    db.session.commit()
    assert _poll() == 0
    assert "cannot reach" in db.session.get(ImapMailbox, row.id).last_error


@pytest.mark.tickets_settings(max_message_bytes=20_000, imap_batch=2)
def test_enormous_and_malformed_mail_is_kept_and_the_rest_goes_on(app, tenant, mailbox,
                                                                  imap_server):
    from backhaul.plugins.tickets.models import ImapMailbox

    huge = mail("Photos of the cabinet", body="x" * 80_000)
    _deliver(imap_server, huge)
    malformed = (b"From: tina@example.net\r\nTo: " + SUPPORT.encode() + b"\r\n"
                 b"Subject: =?utf-8?B?broken\r\nMessage-ID: <bad@example.net>\r\n"
                 b"Date: " + email.utils.formatdate().encode() + b"\r\n"
                 b"Content-Type: multipart/mixed; boundary=\"nope\"\r\n\r\n"
                 b"--wrong\r\nContent-Type: text/plain; charset=klingon\r\n"
                 b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64\xff\xfe\r\n")
    _deliver(imap_server, malformed)
    _deliver(imap_server, mail("Normal one", to=BILLING))

    assert _poll() == 2  # imap_batch = 2: the third waits for the next poll
    assert db.session.get(ImapMailbox, mailbox.id).last_uid == 2
    assert _poll() == 1
    big, bad, normal = _inbound()
    assert big.outcome == "failed" and big.size == 20_000  # only the first part downloaded
    assert "over max_message_bytes" in big.detail
    assert bad.outcome in ("ticket", "failed") and bad.raw == malformed  # kept raw
    assert normal.outcome == "ticket"
    assert tickets()[-1].subject == "Normal one"


def test_password_is_sealed_at_rest_and_never_shown(app, mailbox, staff_user, api_token):
    from backhaul.plugins.tickets.models import ImapMailbox

    stored = db.session.execute(sa.text(
        "SELECT secrets FROM tickets_imap_mailbox WHERE id = :id"), {"id": mailbox.id}).scalar()
    assert stored and PASSWORD not in stored
    client = app.test_client()
    token = api_token(staff_user(["tickets.ticket.view", "tickets.settings.manage"]), "full")
    body = client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
        "query": "{ ticketsImapMailboxes { nodes { name hasPassword lastUid inboundAddress "
                 "{ address } } } }"}).get_json()
    assert body["data"]["ticketsImapMailboxes"]["nodes"] == [
        {"name": "Hosted support", "hasPassword": True, "lastUid": 0,
         "inboundAddress": {"address": SUPPORT}}]
    # saving without a password keeps the stored one
    mutation = ("mutation($id: ID, $input: TicketsImapMailboxInput!) { "
                "ticketsSaveImapMailbox(id: $id, input: $input) { ok errors { field messages }"
                " imapMailbox { folder hasPassword } } }")
    base = {"name": "Hosted support", "host": "127.0.0.1", "port": 143, "security": "none",
            "username": "support", "inboundAddressId": str(mailbox.inbound_address_id)}
    out = client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
        "query": mutation, "variables": {"id": str(mailbox.id),
                                         "input": {**base, "folder": "Support"}}}).get_json()
    assert out["data"]["ticketsSaveImapMailbox"]["ok"], out
    db.session.rollback()
    assert db.session.get(ImapMailbox, mailbox.id).secrets == stored
    # field errors at the edge
    out = client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
        "query": mutation, "variables": {"input": {**base, "name": "New", "security": "tls?",
                                                   "password": "p"}}}).get_json()
    payload = out["data"]["ticketsSaveImapMailbox"]
    assert payload["ok"] is False and payload["errors"][0]["field"] == "security"
    out = client.post("/graphql", headers={"Authorization": f"Bearer {token}"}, json={
        "query": mutation, "variables": {"input": {**base, "name": "New"}}}).get_json()
    assert out["data"]["ticketsSaveImapMailbox"]["errors"][0]["field"] == "password"


def test_setup_page_adds_a_mailbox_and_never_echoes_the_password(app, desk, staff_user,
                                                                 login, csrf_token):
    from backhaul.plugins.tickets.models import ImapMailbox, InboundAddress

    client = app.test_client()
    login(client, staff_user(["tickets.ticket.view", "tickets.settings.manage"]))
    support = db.session.scalar(sa.select(InboundAddress.id).where(
        InboundAddress.address == SUPPORT))
    form = {"name": "Hosted", "host": "imap.example.net", "security": "ssl", "port": "",
            "username": "support", "password": "hunter2-secret", "folder": "INBOX",
            "inboundAddressId": str(support), "csrf_token": csrf_token(client)}
    bad = client.post("/tickets/setup/mailboxes", data={**form, "port": "99999"})
    assert bad.status_code == 422 and b"1-65535" in bad.data
    assert b"hunter2-secret" not in bad.data
    ok = client.post("/tickets/setup/mailboxes", data=form)
    assert ok.status_code == 302
    row = db.session.scalar(sa.select(ImapMailbox))
    assert (row.port, row.security) == (993, "ssl")
    page = client.get("/tickets/setup")
    assert b"support @ imap.example.net:993" in page.data
    assert b"hunter2-secret" not in page.data
    edit = client.get(f"/tickets/setup/mailboxes/{row.id}")
    assert edit.status_code == 200 and b"hunter2-secret" not in edit.data


def test_a_rebuilt_folder_new_uidvalidity_is_fetched_again_without_duplicates(
        app, tenant, mailbox, imap_server):
    """A folder deleted and created again restarts its UIDs (a new UIDVALIDITY): its new
    mail at UID 1 must not be skipped as "already seen", and mail that was fetched before
    (the same Message-ID) is not added twice."""
    from backhaul.plugins.tickets import imap
    from backhaul.plugins.tickets.models import ImapMailbox

    conn = imap_server.client("support")
    assert conn.create("Support")[0] == "OK"
    imap_server.append("support", mail("First", Message_ID="<r-1@example.net>").as_bytes(),
                       "Support")
    imap_server.append("support", mail("Second", Message_ID="<r-2@example.net>").as_bytes(),
                       "Support")
    imap.save_mailbox({"name": mailbox.name, "host": "127.0.0.1", "port": imap_server.port,
                       "security": "none", "username": "support", "folder": "Support",
                       "inboundAddressId": mailbox.inbound_address_id}, mailbox)
    db.session.commit()
    assert _poll() == 2
    first_validity = db.session.get(ImapMailbox, mailbox.id).uid_validity

    assert conn.delete("Support")[0] == "OK" and conn.create("Support")[0] == "OK"
    conn.logout()
    imap_server.append("support", mail("First", Message_ID="<r-1@example.net>").as_bytes(),
                       "Support")  # restored from a backup
    imap_server.append("support", mail("Third", Message_ID="<r-3@example.net>").as_bytes(),
                       "Support")
    assert _poll() == 2
    box = db.session.get(ImapMailbox, mailbox.id)
    assert box.uid_validity != first_validity and box.last_uid == 2
    assert [t.subject for t in tickets()] == ["First", "Second", "Third"]
    assert [m.outcome for m in _inbound()] == ["ticket", "ticket", "threaded", "ticket"]


def test_two_workers_polling_at_once_fetch_each_message_once(app, tenant, mailbox,
                                                             imap_server):
    """Two workers run the poll at the same moment (at-least-once job delivery, or the
    periodic job and "Fetch now"): the mailbox row lock makes the second wait and then see
    the first one's ``last_uid``."""
    import threading

    from backhaul.plugins.tickets.imap import poll_all

    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    for n in range(5):
        _deliver(imap_server, mail(f"Message {n}", Message_ID=f"<c-{n}@example.net>"))
    start, counts, errors = threading.Barrier(2), [], []

    def worker():
        with app.app_context():
            try:
                start.wait()
                counts.append(poll_all())
                db.session.commit()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and sorted(counts) == [0, 5]
    db.session.rollback()
    assert len(tickets()) == 5 and len(_inbound()) == 5


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_tls_is_verified_and_works_with_a_trusted_certificate(app, desk, tenant, security,
                                                              monkeypatch):
    """IMAPS and STARTTLS against Dovecot with a self-signed certificate: refused while the
    certificate is not trusted (the password is never sent over an unverified channel),
    fetched once it is (``SSL_CERT_FILE``, read by Python's default TLS context)."""
    from backhaul.plugins.tickets import imap
    from backhaul.plugins.tickets.models import ImapMailbox, InboundAddress

    if dovecot.missing():
        pytest.skip(dovecot.missing())
    with dovecot.DovecotPeer({"support": PASSWORD}, tls=True) as server:
        server.append("support", mail("Over TLS").as_bytes())
        support = db.session.scalar(sa.select(InboundAddress.id).where(
            InboundAddress.address == SUPPORT))
        row = imap.save_mailbox({
            "name": "TLS", "host": "127.0.0.1", "security": security,
            "port": server.tls_port if security == "ssl" else server.port,
            "username": "support", "password": PASSWORD, "inboundAddressId": support})
        db.session.commit()
        assert _poll() == 0
        error = db.session.get(ImapMailbox, row.id).last_error
        assert "certificate verify failed" in error, error
        assert tickets() == []

        monkeypatch.setenv("SSL_CERT_FILE", str(server.cert_path))
        assert _poll() == 1
        assert [t.subject for t in tickets()] == ["Over TLS"]
        assert db.session.get(ImapMailbox, row.id).last_error == ""
