"""SMTP security modes against aiosmtpd: STARTTLS and implicit TLS, with authentication."""
from __future__ import annotations

import shutil
import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from notif_helpers import SmtpHandler, SmtpServer, smtp_settings

from backhaul.plugins.notifications.channels.email_smtp import SmtpEmailChannel
from backhaul.sdk import OutboundMessage
from backhaul.sdk.testing import free_port

# aiosmtpd does not count implicit TLS as TLS when it checks AUTH
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(scope="module")
def server_tls(tmp_path_factory) -> ssl.SSLContext:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a throw-away certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem")],
                   check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "cert.pem", folder / "key.pem")
    return context


def _auth(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"mailer" and auth_data.password == b"s3cret-pass"
    return AuthResult(success=ok)


@pytest.fixture
def secure_server(server_tls):
    """``secure_server(mode)``: "starttls" or "tls", authentication required."""
    servers = []

    def start(mode: str) -> SmtpServer:
        server = SmtpServer(free_port())
        kwargs = {"authenticator": _auth, "auth_required": True}
        if mode == "starttls":
            kwargs.update(tls_context=server_tls, require_starttls=True, auth_require_tls=True)
        else:
            kwargs.update(ssl_context=server_tls, auth_require_tls=False)
        server.controller = Controller(SmtpHandler(server.inbox), hostname="127.0.0.1",
                                       port=server.port, **kwargs)
        server.controller.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


MESSAGE = OutboundMessage(to=("someone@example.net",), subject="Secure", body_text="hi",
                          idempotency_key="")


@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_authenticated_mail_over_tls(secure_server, mode):
    server = secure_server(mode)
    channel = SmtpEmailChannel()
    settings = channel.validate_settings(smtp_settings(
        server.port, security=mode, username="mailer", password="s3cret-pass",
        verify_tls=False))
    result = channel.send(MESSAGE, settings)
    assert result.ok, result.message
    assert server.wait_for(1)[0].rcpt_tos == ["someone@example.net"]

    # a refused login is a failure with a reason (retryable: staff may fix the password)
    wrong = channel.send(MESSAGE, {**settings, "password": "nope", "timeout": 2})
    assert not wrong.ok and wrong.retryable and wrong.message
    assert len(server.inbox) == 1


def test_an_unverifiable_certificate_is_refused_by_default(secure_server):
    server = secure_server("tls")
    channel = SmtpEmailChannel()
    settings = channel.validate_settings(smtp_settings(
        server.port, security="tls", username="mailer", password="s3cret-pass"))
    result = channel.send(MESSAGE, settings)
    assert not result.ok and "CERTIFICATE_VERIFY_FAILED" in result.message
    assert server.inbox == []


def test_plain_mode_never_sends_a_password_without_tls(secure_server):
    server = secure_server("starttls")
    channel = SmtpEmailChannel()
    settings = channel.validate_settings(smtp_settings(
        server.port, security="none", username="mailer", password="s3cret-pass"))
    result = channel.send(MESSAGE, settings)
    assert not result.ok  # the server demands STARTTLS first
    assert server.inbox == []
