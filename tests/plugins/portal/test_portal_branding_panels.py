"""Branding (staff page and GraphQL behind ``portal.settings.manage``; colours only as
validated hex through the portal's stylesheet; logos recognised by their bytes) and the
``portal_panels`` hook other plugins implement."""
from __future__ import annotations

import base64
import io

import pytest

from backhaul.sdk import db

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwAD"
                       "hgGAWjR9awAAAABJRU5ErkJggg==")
GOOD = {"name": "Maple Fibre", "tagline": "Fibre for Maple Court", "primary_colour": "#0a7d5a",
        "accent_colour": "#ffb000", "support_email": "help@maple.example",
        "support_phone": "+1 555 0100", "support_url": "https://help.maple.example"}


@pytest.fixture
def staff(app, staff_user, login):
    def make(permissions):
        client = app.test_client()
        login(client, staff_user(permissions, email=f"s{len(permissions)}@isp.example"))
        return client
    return make


def test_staff_brand_the_portal_and_customers_see_it(app, staff, csrf_token, customer):
    client = staff(["portal.settings.manage"])
    assert client.get("/settings/portal").status_code == 200
    response = client.post("/settings/portal", data={
        **GOOD, "csrf_token": csrf_token(client),
        "logo": (io.BytesIO(PNG), "logo.png")}, content_type="multipart/form-data")
    assert response.status_code == 302
    page = customer.get("/portal/").get_data(as_text=True)
    assert "Maple Fibre" in page and "Fibre for Maple Court" in page
    assert "+1 555 0100" in page and "help@maple.example" in page
    assert '<img class="p-logo"' in page
    css = customer.get("/portal/brand.css").get_data(as_text=True)
    assert "--brand: #0a7d5a" in css and "--brand-accent: #ffb000" in css
    logo = app.test_client().get("/portal/logo")
    assert logo.status_code == 200 and logo.mimetype == "image/png" and logo.data == PNG


def test_bad_branding_is_refused_beside_the_field(app, staff, csrf_token):
    client = staff(["portal.settings.manage"])
    response = client.post("/settings/portal", data={
        **GOOD, "primary_colour": "red;}body{display:none", "support_url": "javascript:x",
        "csrf_token": csrf_token(client),
        "logo": (io.BytesIO(b"<svg onload=alert(1)>"), "x.svg")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Use a colour like #0b5cad." in text
    assert "https://" in text  # the support_url message
    assert "SVG is not accepted" in text
    from backhaul.plugins.portal.models import Branding

    assert db.session.get(Branding, 1) is None  # nothing saved


def test_branding_page_needs_its_permission(app, staff, csrf_token):
    client = staff(["portal.access.manage"])
    assert client.get("/settings/portal").status_code == 403
    assert client.post("/settings/portal", data={**GOOD, "csrf_token": csrf_token(client)}
                       ).status_code == 403


def test_graphql_mutation_behind_the_same_permission(app, staff_user, api_token):
    allowed = api_token(staff_user(["portal.settings.manage"], email="a@isp.example"),
                        scopes="full")
    denied = api_token(staff_user(["portal.access.manage"], email="b@isp.example"),
                       scopes="full")
    query = """mutation($i: PortalBrandingInput!) { portalUpdateBranding(input: $i) {
        ok errors { field messages } branding { name primaryColour hasLogo } } }"""
    variables = {"i": {"name": "Maple Fibre", "primaryColour": "#0a7d5a",
                       "accentColour": "#ffb000", "logoBase64": base64.b64encode(PNG).decode()}}
    client = app.test_client()
    ok = client.post("/graphql", json={"query": query, "variables": variables},
                     headers={"Authorization": f"Bearer {allowed}"}).get_json()
    assert ok["data"]["portalUpdateBranding"] == {
        "ok": True, "errors": [], "branding": {"name": "Maple Fibre",
                                               "primaryColour": "#0a7d5a", "hasLogo": True}}
    bad = client.post("/graphql", json={"query": query, "variables": {"i": {
        **variables["i"], "accentColour": "orange", "logoBase64": "!!"}}},
        headers={"Authorization": f"Bearer {allowed}"}).get_json()
    fields = {e["field"] for e in bad["data"]["portalUpdateBranding"]["errors"]}
    assert fields == {"logoBase64"} or "accentColour" in fields
    refused = client.post("/graphql", json={"query": query, "variables": variables},
                          headers={"Authorization": f"Bearer {denied}"}).get_json()
    assert refused["data"] is None or refused["data"].get("portalUpdateBranding") is None
    assert refused["errors"]


def test_graphql_send_link_and_contacts(app, staff_user, api_token, tenant, email_channel):
    token = api_token(staff_user(["portal.access.manage"]), scopes="full")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    contacts = client.post("/graphql", headers=headers, json={
        "query": "query($a: ID!) { portalContacts(filter: {accountId: $a}) { nodes { name hasPassword } } }",
        "variables": {"a": str(tenant.account.id)}}).get_json()
    assert contacts["data"]["portalContacts"]["nodes"] == [{"name": "Tina Tenant", "hasPassword": True}]
    sent = client.post("/graphql", headers=headers, json={
        "query": "mutation($c: ID!) { portalSendPasswordLink(contactId: $c) { ok emailed "
                 "errors { field messages } } }", "variables": {"c": str(tenant.contact.id)}}
    ).get_json()
    assert sent["data"]["portalSendPasswordLink"] == {"ok": True, "emailed": True,
                                                      "errors": []}
    missing = client.post("/graphql", headers=headers, json={
        "query": "mutation { portalSendPasswordLink(contactId: \"99999\") { ok errors { field"
                 " } } }"}).get_json()
    assert missing["data"]["portalSendPasswordLink"]["errors"] == [{"field": "contactId"}]


def test_panels_from_other_plugins_show_and_a_broken_one_is_contained(
        portal_app, temp_plugin):
    from portal_helpers import make_tenant, portal_sign_in

    from backhaul.plugins.portal.api import PortalPanel
    from backhaul.sdk import PluginMeta

    seen = []

    def panels(viewer):
        seen.append(viewer)
        return [PortalPanel("probe.usage", "Your data usage", "<p>12.5 GB of 200 GB</p>", 5),
                "not a panel"]

    def broken(viewer):
        raise RuntimeError("boom")

    meta = {"optional_depends_on": ("portal",)}
    good = temp_plugin("panelprobe", PluginMeta(name="panelprobe", **meta),
                       portal_panels=panels)
    bad = temp_plugin("panelbroken", PluginMeta(name="panelbroken", **meta),
                      portal_panels=broken)
    app = portal_app(extra_plugins=[good, bad])
    with app.app_context():
        tenant = make_tenant()
        client = app.test_client()
        portal_sign_in(client)
        page = client.get("/portal/")
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Your data usage" in text and "12.5 GB of 200 GB" in text
        assert 'id="panel-probe-usage"' in text
        assert [(v.account_id, v.contact_id) for v in seen] == [
            (tenant.account.id, tenant.contact.id)]


def test_usage_panel_from_the_usage_plugins_api(portal_app):
    from datetime import UTC, datetime, timedelta

    from portal_helpers import make_tenant, portal_sign_in

    from backhaul.plugins.billing import catalogue, subscriptions
    from backhaul.plugins.usage import rollup

    app = portal_app(plugins=["notifications", "billing", "network", "usage", "portal"])
    with app.app_context():
        tenant = make_tenant(delinquent=False)
        service = catalogue.create_service("Fibre 300", "data", "60.00", currency="USD",
                                           params={"download_mbps": 300, "upload_mbps": 50,
                                                   "allowance_gb": 200})
        sub = subscriptions.subscribe(tenant.account.id, service=service,
                                      start_date=datetime.now(UTC).date() - timedelta(days=40))
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        rollup.add([rollup.Delta(sub.id, now, 150 * 10**9, 10 * 10**9, "radius")])
        db.session.commit()
        client = app.test_client()
        portal_sign_in(client)
        page = client.get("/portal/").get_data(as_text=True)
        assert "Your data usage this month" in page
        assert "160.00 GB of 200.00 GB" in page  # 150 down + 10 up, independent arithmetic
        assert 'value="80.0"' in page and "80% of your monthly allowance" in page
        # another account's usage never shows
        other = make_tenant("Olga Other", "olga@example.net", delinquent=False)
        other_client = app.test_client()
        portal_sign_in(other_client, "olga@example.net")
        assert "Your data usage" not in other_client.get("/portal/").get_data(as_text=True)
        assert other.account.id != tenant.account.id
