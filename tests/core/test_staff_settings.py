"""Staff settings: the printed admin password must be changed at the first sign-in (and
`ensure-admin` stops printing it then); each staff member's time zone, defaulting to the
ISP's, is the one times are shown in."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from backhaul.core.auth.models import User
from backhaul.core.db import db


@pytest.fixture
def app(make_app):
    application = make_app(plugins=[], TIMEZONE="America/Toronto")
    with application.app_context():
        yield application


def test_printed_admin_password_must_be_changed_first(app, cli, login, csrf_token):
    path = Path(app.instance_path) / "initial_admin_password"
    if path.exists():
        path.unlink()
    assert cli("users", "ensure-admin").exit_code == 0
    password = path.read_text().strip()
    admin = db.session.scalar(sa.select(User))
    admin.test_password = password
    client = app.test_client()
    login(client, admin)
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 302 and page.headers["Location"].endswith("/auth/profile")
    profile = client.get("/auth/profile").get_data(as_text=True)
    assert 'id="must-change-password"' in profile
    gql = client.post("/graphql", json={"query": "{ viewer { email } }"},
                      headers={"X-CSRFToken": csrf_token(client)})
    assert gql.status_code == 403 and gql.get_json()["error"] == "password_change_required"
    changed = client.post("/auth/profile/password", data={
        "current_password": password, "new_password": "my own long password 42",
        "confirm_password": "my own long password 42", "csrf_token": csrf_token(client)})
    assert changed.status_code == 302
    assert client.get("/", follow_redirects=False).status_code == 200
    again = cli("users", "ensure-admin")
    assert password not in again.output and "was changed" in again.output
    path.unlink()


def test_time_zone_defaults_to_the_isps_and_is_the_staff_members_own(app, staff_user,
                                                                      login, csrf_token):
    from flask import render_template_string

    user = staff_user([])
    client = app.test_client()
    login(client, user)
    profile = client.get("/auth/profile").get_data(as_text=True)
    assert "The ISP&#39;s (America/Toronto)" in profile or "The ISP's (America/Toronto)" in \
        profile
    moment = datetime(2026, 12, 31, 14, 30, tzinfo=UTC)
    template = "{{ moment|localtime }}"
    with app.test_request_context():
        from backhaul.core.auth.staff import zone_name_of

        assert zone_name_of(user) == "America/Toronto"
        assert render_template_string(template, moment=moment) == "2026-12-31 09:30 EST"
    refused = client.post("/auth/profile/time-zone", data={
        "time_zone": "Mars/Olympus", "csrf_token": csrf_token(client)})
    assert refused.status_code == 400 and "not a time zone name" in refused.get_data(
        as_text=True)
    client.post("/auth/profile/time-zone", data={"time_zone": "Europe/Paris",
                                                 "csrf_token": csrf_token(client)})
    db.session.expire_all()
    from backhaul.core.auth.staff import zone_name_of

    assert zone_name_of(db.session.get(User, user.id)) == "Europe/Paris"


def test_times_typed_are_the_staff_members_dates_are_the_isps(app, staff_user):
    from datetime import date

    from backhaul.core.accounts.fields import DueTime, LocalDateTime
    from backhaul.core.auth import identity
    from backhaul.core.auth.staff import set_time_zone

    user = staff_user([])
    set_time_zone(user, "Asia/Tokyo")
    db.session.commit()
    with app.test_request_context():
        from flask import g

        g.backhaul_principal = identity.Principal(user=user)
        typed = LocalDateTime().deserialize("2027-01-10T09:00")
        assert typed == datetime(2027, 1, 10, 0, 0, tzinfo=UTC)  # 09:00 in Tokyo
        day = DueTime().deserialize(date(2030, 12, 31).isoformat())
        assert day == datetime(2030, 12, 31, 5, 0, tzinfo=UTC)  # midnight in Toronto
