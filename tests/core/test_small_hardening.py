"""Small findings of the audit (issue 11, finding 11), each against the real app."""
from __future__ import annotations

import stat

import sqlalchemy as sa


def test_hsts_on_https_responses_only(app, client):
    secure = client.get("/login", base_url="https://bh.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/login").headers


def test_instance_folder_and_sqlite_files_are_private(tmp_path):
    from backhaul.core.app import create_app
    from backhaul.core.db import db

    instance = tmp_path / "inst"
    app = create_app({"INSTANCE_PATH": str(instance), "SECRET_KEY": None,
                      "DATABASE_URL": f"sqlite:///{instance / 'backhaul.db'}"})
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE IF NOT EXISTS t (x int)"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert stat.S_IMODE(instance.stat().st_mode) == 0o700
    for path in instance.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_percent_and_underscore_in_account_search_are_literal(app):
    from backhaul.core.accounts.accounts import search_accounts
    from backhaul.core.db import db
    from backhaul.sdk.accounts import create_account

    create_account(name="Ann 50% Off")
    create_account(name="Bob Smith")
    create_account(name="Cat_Z")
    db.session.flush()
    names = lambda text: sorted(a.name for a in db.session.scalars(search_accounts(text)))  # noqa: E731
    assert names("%") == ["Ann 50% Off"]
    assert names("_") == ["Cat_Z"]
    assert names("b") == ["Bob Smith"]
