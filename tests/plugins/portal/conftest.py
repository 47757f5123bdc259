"""The portal tests' app: notifications (e-mails the set-password links), billing, the
portal, and the example plugin's signed test gateway (``example.fake``) for payments.

Real peers: PostgreSQL (the suite's database), an aiosmtpd server standing in for the ISP's
SMTP relay (where the set-password links arrive), Chromium for the browser tests.
"""
from __future__ import annotations

import pytest
from notif_helpers import SmtpServer, email_channel, relay, smtp_settings  # noqa: F401 (shared fixtures)
from portal_helpers import FAKE_SECRET, Tenant, make_tenant, portal_sign_in

PLUGINS = ["notifications", "billing", "portal", "example"]
NOTIFICATION_SETTINGS = {"retry_base_seconds": 0, "public_url": "http://bh.test",
                         "company_name": "Maple Fibre"}
BILLING_SETTINGS = {"due_days": 14, "grace_days": 5}


def pytest_configure(config):
    config.addinivalue_line("markers", "portal_settings(**settings): portal plugin settings "
                                       "for the `app` fixture of this test")


@pytest.fixture
def portal_app(make_app):
    def factory(plugins=PLUGINS, extra_plugins=(), **portal_settings):
        return make_app(plugins=list(plugins), extra_plugins=list(extra_plugins),
                        plugin_settings={
            "notifications": NOTIFICATION_SETTINGS, "billing": BILLING_SETTINGS,
            "portal": portal_settings})
    return factory


@pytest.fixture
def app(portal_app, request):
    marker = request.node.get_closest_marker("portal_settings")
    application = portal_app(**(marker.kwargs if marker else {}))
    with application.app_context():
        from backhaul.sdk import db
        from backhaul.sdk.instances import save_instance

        save_instance("payment_gateways", "example.fake", owner="example", name="Fake",
                      settings={"webhook_secret": FAKE_SECRET})
        db.session.commit()
        yield application


@pytest.fixture
def tenant(app) -> Tenant:
    return make_tenant()


@pytest.fixture
def customer(app, tenant):
    """A test client signed in to the portal as the tenant's contact."""
    client = app.test_client()
    response = portal_sign_in(client)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client
