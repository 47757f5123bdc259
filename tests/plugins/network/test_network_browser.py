"""The network page in Chromium: a staff member runs a dry run and sees the drift report."""
from __future__ import annotations

import pytest

from backhaul.sdk import db

pytestmark = pytest.mark.browser


def test_dry_run_from_the_device_page(app, make_live_server, page, staff_user, tmp_path):
    from network_helpers import make_tenant
    from playwright.sync_api import expect

    from backhaul.plugins.network.desired import device_ref
    from backhaul.sdk.testing.provisioning import edit_by_hand

    account, sub, device = make_tenant(app, "Browser Tenant")
    edit_by_hand(device_ref(device), f"sub-{sub.id}", rate="5/5")
    user = staff_user(["network.view", "network.manage", "accounts.account.view"])
    db.session.commit()
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()
    page.goto(live.url("/network/"))
    expect(page.locator("#subnets")).to_contain_text("100.64.9.0/24")
    page.get_by_role("link", name="mdu-router").click()
    page.get_by_role("button", name="Dry run").click()
    expect(page.locator(".reconcile").first).to_contain_text("dry run: 1 difference")
    expect(page.locator(".reconcile").first).to_contain_text("5/5")
    page.screenshot(path=str(tmp_path / "network-device.png"), full_page=True)
    page.get_by_role("button", name="Reconcile now").click()
    expect(page.locator(".reconcile").first).to_contain_text("1 applied")


def test_an_operator_adds_a_device_and_sets_up_a_service_from_the_browser(
        app, make_live_server, page, staff_user, tmp_path):
    """No GraphQL explorer needed: add a device with its backend's own settings, give a data
    service its login, MAC and address, see a bad MAC refused on its field, reveal the
    password once (audited)."""
    import sqlalchemy as sa
    from network_helpers import make_tenant
    from playwright.sync_api import expect

    from backhaul.core.audit.models import AuditEntry
    from backhaul.plugins.network import ipam
    from backhaul.plugins.network.models import Credential, Device
    from backhaul.sdk.instances import decrypt_json

    account, sub, _ = make_tenant(app, "Form Tenant")
    ipam.release(sub.id)
    _other_account, other, _ = make_tenant(app, "Other Tenant")
    from backhaul.plugins.network import credentials
    credentials.set_credentials(other.id, mac="02:00:00:00:00:99")
    user = staff_user(["network.view", "network.manage", "network.credentials.reveal",
                       "accounts.account.view"])
    db.session.commit()
    live = make_live_server(app)
    page.goto(live.url("/login"))
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(user.test_password)
    page.get_by_role("button", name="Sign in").click()

    page.goto(live.url("/network/"))
    page.get_by_role("link", name="Add a device").click()
    page.locator("#f-backend").select_option("testkit.directory")
    page.get_by_role("button", name="Choose").click()
    form = page.locator("#device-form")
    form.get_by_label("Name").fill("bldg-7-router")
    form.get_by_label("Management address").fill("not a host!")
    form.get_by_label("Path").fill(str(app.device_folder))
    form.get_by_label("RADIUS shared secret").fill("nas-secret-123")
    form.get_by_role("button", name="Add device").click()
    expect(page.locator(".field-error")).to_contain_text("an IP address or a host name")
    page.locator("#device-form").get_by_label("Management address").fill("10.20.0.7")
    page.locator("#device-form").get_by_label("RADIUS shared secret").fill("nas-secret-123")
    page.locator("#device-form").get_by_role("button", name="Add device").click()
    expect(page.locator("h1")).to_have_text("bldg-7-router")
    db.session.expire_all()
    device = db.session.scalar(sa.select(Device).where(Device.name == "bldg-7-router"))
    assert device.host == "10.20.0.7"
    assert decrypt_json(device.secrets)["radius_secret"] == "nas-secret-123"
    assert "nas-secret-123" not in device.secrets, "sealed at rest"

    page.goto(live.url(f"/network/services/{sub.id}"))
    creds = page.locator("#credentials-form")
    creds.get_by_label("PPPoE / hotspot login").fill("form.tenant")
    creds.get_by_label("MAC address (DHCP)").fill("02:00:00:00:00:99")  # the other's
    creds.locator("#f-device_id").select_option(label="bldg-7-router")
    creds.get_by_role("button", name="Save credentials").click()
    expect(page.locator(".field-error")).to_contain_text("is used by another service")
    creds = page.locator("#credentials-form")
    creds.get_by_label("MAC address (DHCP)").fill("02-00-00-00-00-AB")
    creds.locator("#f-device_id").select_option(label="bldg-7-router")
    creds.get_by_role("button", name="Save credentials").click()
    expect(page.locator(".flash, [role=status]").first).to_contain_text("Credentials saved")

    page.locator("#assign-form #f-subnet_id").select_option(label="100.64.9.0/24 (pppoe)")
    page.locator("#assign-form").get_by_label("Address").fill("100.64.9.0")
    page.locator("#assign-form").get_by_role("button", name="Assign address").click()
    expect(page.locator(".field-error")).to_contain_text("network or broadcast")
    page.locator("#assign-form #f-subnet_id").select_option(label="100.64.9.0/24 (pppoe)")
    page.locator("#assign-form").get_by_role("button", name="Assign address").click()
    expect(page.locator("#history")).to_contain_text("100.64.9.")

    page.get_by_role("button", name="Show password").click()
    db.session.expire_all()
    row = db.session.scalar(sa.select(Credential).where(Credential.subscription_id == sub.id))
    assert row.username == "form.tenant" and row.mac == "02:00:00:00:00:ab"
    expect(page.locator("#revealed")).to_contain_text(credentials.password_of(row))
    page.screenshot(path=str(tmp_path / "network-service.png"), full_page=True)
    revealed = db.session.scalars(sa.select(AuditEntry).where(
        AuditEntry.action == "network.credential_revealed")).all()
    assert [e.object_id for e in revealed] == [str(row.id)]
    assert credentials.password_of(row) not in str(revealed[0].changes), "never in clear"
