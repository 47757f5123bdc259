"""``backhaul serve radius.server`` as a real process, against Debian's radclient (a real
third-party client) and pyrad's client: PAP and CHAP, Message-Authenticator both ways,
delinquent replies, accounting with Gigawords, retransmissions counted once, drops."""
from __future__ import annotations

import shutil
import socket
import time

import pytest
import sqlalchemy as sa
from pyrad import packet as rp
from pyrad.client import Client, Timeout
from radius_helpers import NAS_SECRET, RadiusProcess, eventually, make_subscriber

from backhaul.plugins.radius.dictionary import dictionary
from backhaul.sdk import db
from backhaul.sdk.testing import free_port
from backhaul.sdk.testing.pytest_plugin import peer_missing
from backhaul.sdk.testing.radius import radclient

pytestmark = pytest.mark.postgres


@pytest.fixture
def server(app):
    if shutil.which("radclient") is None:
        peer_missing("radclient (freeradius-utils)")
    with RadiusProcess(app, free_port(), free_port()) as process:
        yield process


def _pap(user, password, ma=True):
    return (f'User-Name = "{user}"\nUser-Password = "{password}"\n'
            + ("Message-Authenticator = 0x00\n" if ma else ""))


def _client(server, secret=NAS_SECRET, **kw):
    return Client(server="127.0.0.1", authport=server.auth_port, acctport=server.acct_port,
                  secret=secret.encode(), dict=dictionary(), timeout=1, retries=3, **kw)


def test_pap_and_chap_accept_and_reject_with_radclient(app, server):
    _, sub, _ = make_subscriber(app)
    user = f"pppoe{sub.id}"
    target = f"127.0.0.1:{server.auth_port}"
    code, out = radclient(target, "auth", NAS_SECRET, _pap(user, "tenant-pass"))
    assert code == 0 and "Access-Accept" in out, out
    assert "Framed-IP-Address = 100.64.20.7" in out
    assert 'Mikrotik-Rate-Limit = "20000k/100000k"' in out, "upload/download as RouterOS wants"
    code, out = radclient(target, "auth", NAS_SECRET, _pap(user, "wrong-pass"))
    assert "Access-Reject" in out, out
    chap = f'User-Name = "{user}"\nCHAP-Password = "tenant-pass"\nMessage-Authenticator = 0x00\n'
    code, out = radclient(target, "auth", NAS_SECRET, chap)
    assert code == 0 and "Access-Accept" in out, out
    chap_bad = chap.replace("tenant-pass", "nope-nope")
    code, out = radclient(target, "auth", NAS_SECRET, chap_bad)
    assert "Access-Reject" in out, out
    code, out = radclient(target, "auth", NAS_SECRET, _pap("nobody-here", "x"))
    assert "Access-Reject" in out, out
    from backhaul.plugins.radius.models import LastAuth

    time.sleep(1.5)  # written in batches, once a second
    db.session.expire_all()
    last = {r.username: r for r in db.session.scalars(sa.select(LastAuth))}
    assert last[user].accepted is False and last[user].reason == "wrong password (CHAP)"
    assert last[user].subscription_id == sub.id
    assert last["nobody-here"].reason == "unknown user"


def test_requests_without_or_with_a_forged_message_authenticator_are_dropped(app, server):
    _, sub, _ = make_subscriber(app)
    target = f"127.0.0.1:{server.auth_port}"
    code, out = radclient(target, "auth", NAS_SECRET, _pap(f"pppoe{sub.id}", "tenant-pass",
                                                           ma=False))
    assert code != 0 and "Access-Accept" not in out, "no Message-Authenticator: no answer"
    code, out = radclient(target, "auth", "wrong-secret", _pap(f"pppoe{sub.id}", "tenant-pass"))
    assert code != 0 and "Access-" not in out.split("Sent")[-1].split("\n", 1)[-1], out
    client = _client(server)
    request = client.CreateAuthPacket(code=rp.AccessRequest, User_Name=f"pppoe{sub.id}")
    request["User-Password"] = request.PwCrypt("tenant-pass")
    request.add_message_authenticator()
    raw = request.RequestPacket()  # pyrad signs it; then the signature is forged
    at = raw.index(bytes([80, 18]))
    raw = raw[:at + 2] + b"\x01" * 16 + raw[at + 18:]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(1.5)
        sock.sendto(raw, ("127.0.0.1", server.auth_port))
        with pytest.raises(TimeoutError):
            sock.recv(4096)


def test_every_accept_carries_a_valid_message_authenticator(app, server):
    _, sub, _ = make_subscriber(app)
    client = _client(server, enforce_ma=True)  # pyrad refuses a reply without a valid one
    request = client.CreateAuthPacket(code=rp.AccessRequest, User_Name=f"pppoe{sub.id}")
    request["User-Password"] = request.PwCrypt("tenant-pass")
    request.add_message_authenticator()
    reply = client.SendPacket(request)
    assert reply.code == rp.AccessAccept
    assert reply.message_authenticator
    assert reply.verify_message_authenticator(NAS_SECRET.encode(), request.authenticator,
                                              request.code)
    assert reply["Framed-IP-Address"] == ["100.64.20.7"]


def test_a_delinquent_subscriber_gets_the_delinquent_reply(app, server):
    from backhaul.sdk.accounts import set_status

    account, sub, _ = make_subscriber(app)
    set_status(account, "delinquent", reason="delinquency")
    db.session.commit()
    time.sleep(1.3)  # the process reads invalidations once a second
    code, out = radclient(f"127.0.0.1:{server.auth_port}", "auth", NAS_SECRET,
                          _pap(f"pppoe{sub.id}", "tenant-pass"))
    assert "Access-Reject" in out and 'Reply-Message = "Account suspended"' in out, out
    set_status(account, "active", reason="delinquency_cleared")
    db.session.commit()
    time.sleep(1.3)
    code, out = radclient(f"127.0.0.1:{server.auth_port}", "auth", NAS_SECRET,
                          _pap(f"pppoe{sub.id}", "tenant-pass"))
    assert "Access-Accept" in out, out


def _acct(user, status, session, in_octets, out_octets, gw_in=0, gw_out=0):
    return (f'User-Name = "{user}"\nAcct-Status-Type = {status}\nAcct-Session-Id = "{session}"\n'
            f"Acct-Input-Octets = {in_octets}\nAcct-Output-Octets = {out_octets}\n"
            f"Acct-Input-Gigawords = {gw_in}\nAcct-Output-Gigawords = {gw_out}\n"
            "Framed-IP-Address = 100.64.20.7\nAcct-Session-Time = 60\n")


def test_accounting_with_gigawords_and_a_retransmitted_interim(app, server):
    from backhaul.plugins.radius.models import Session

    _, sub, _ = make_subscriber(app)
    user, target = f"pppoe{sub.id}", f"127.0.0.1:{server.acct_port}"
    code, out = radclient(target, "acct", NAS_SECRET, _acct(user, "Start", "S-1", 0, 0))
    assert code == 0 and "Accounting-Response" in out, out
    code, out = radclient(target, "acct", NAS_SECRET,
                          _acct(user, "Interim-Update", "S-1", 1000, 2000, 1, 2))
    assert code == 0, out
    # the same Interim again, byte for byte (a retransmission), then as a new packet
    client = _client(server)
    request = client.CreateAcctPacket(User_Name=user)
    for name, value in (("Acct-Status-Type", "Interim-Update"), ("Acct-Session-Id", "S-1"),
                        ("Acct-Input-Octets", 5000), ("Acct-Output-Octets", 7000),
                        ("Acct-Input-Gigawords", 1), ("Acct-Output-Gigawords", 2)):
        request[name] = value
    raw = request.RequestPacket()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(3)
        for _ in range(2):
            sock.sendto(raw, ("127.0.0.1", server.acct_port))
            assert sock.recv(4096)[0] == rp.AccountingResponse
    code, out = radclient(target, "acct", NAS_SECRET,
                          _acct(user, "Interim-Update", "S-1", 5000, 7000, 1, 2))
    assert code == 0

    def session():
        row = db.session.scalar(sa.select(Session).where(Session.acct_session_id == "S-1"))
        return row and (row.subscription_id, row.stopped_at is None, row.input_octets,
                        row.output_octets)

    assert eventually(session, (sub.id, True, 2**32 + 5000, 2 * 2**32 + 7000)) == \
        (sub.id, True, 2**32 + 5000, 2 * 2**32 + 7000)
    code, out = radclient(target, "acct", NAS_SECRET,
                          _acct(user, "Stop", "S-1", 9000, 9000, 1, 2))
    assert code == 0
    code, out = radclient(target, "acct", NAS_SECRET,  # a late interim after the stop
                          _acct(user, "Interim-Update", "S-1", 9999, 9999, 1, 2))
    time.sleep(0.5)  # the late interim is answered; give it time to (wrongly) count
    assert eventually(session, (sub.id, False, 2**32 + 9000, 2 * 2**32 + 9000)) == \
        (sub.id, False, 2**32 + 9000, 2 * 2**32 + 9000)


def test_unknown_nas_and_garbage_are_dropped_and_the_server_keeps_answering(app, server):
    from backhaul.plugins.network.models import Device

    _, sub, _ = make_subscriber(app)
    device = db.session.scalar(sa.select(Device))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.5)
        zero_vsa = bytes([1, 7, 0, 37]) + bytes(16) + bytes([26, 17]) + \
            (14988).to_bytes(4, "big") + bytes([8, 0]) + bytes(9)
        for junk in (b"", b"\x01", b"\xff" * 19, b"\x01\x01\xff\xff" + bytes(16), zero_vsa):
            sock.sendto(junk, ("127.0.0.1", server.auth_port))
        with pytest.raises(TimeoutError):
            sock.recv(4096)
    device.host = "10.255.0.1"  # now 127.0.0.1 is an unknown NAS
    db.session.commit()
    code, out = radclient(f"127.0.0.1:{server.auth_port}", "auth", NAS_SECRET,
                          _pap(f"pppoe{sub.id}", "tenant-pass"))
    assert code != 0 or "Access-Accept" not in out  # the NAS list is still cached: either way
    device.host = "127.0.0.1"
    db.session.commit()
    client = _client(server)
    request = client.CreateAuthPacket(code=rp.AccessRequest, User_Name=f"pppoe{sub.id}")
    request["User-Password"] = request.PwCrypt("tenant-pass")
    request.add_message_authenticator()
    try:
        assert client.SendPacket(request).code == rp.AccessAccept, "still answering"
    except Timeout:
        pytest.fail(f"the server stopped answering: {server.output()[-2000:]}")
