"""Accounts, statuses, numbering, occupancy: the kernel that every plugin attaches to."""
import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.db import db
from backhaul.sdk.accounts import (
    Account,
    AccountStatus,
    StatusChange,
    create_account,
    get_status,
    set_status,
)


def _events(events, hook):
    return [payload for name, payload in events if name == hook]


def test_default_statuses_seeded_once_and_not_resurrected(app):
    db.session.execute(sa.delete(AccountStatus))  # a fresh install (the migration seeds too)
    db.session.commit()
    assert get_status("active").meaning == "active"
    db.session.commit()
    keys = {s.key for s in db.session.scalars(sa.select(AccountStatus))}
    assert {"prospect", "active", "delinquent", "inactive", "moved_out"} <= keys
    db.session.delete(get_status("suspended"))
    db.session.commit()
    get_status("active")
    assert db.session.scalar(sa.select(AccountStatus).where(AccountStatus.key == "suspended")) is None


def test_create_account_numbers_and_events(app, events):
    first = create_account(name="Jane Doe")
    second = create_account({"name": "John Roe", "account_type": "business", "status": "prospect"})
    db.session.commit()
    assert (first.number, second.number) == ("A000001", "A000002")
    assert first.status.key == "active" and second.status.key == "prospect"
    created = _events(events, "account_created")
    assert sorted(c["account_id"] for c in created) == sorted([first.id, second.id])
    changed = _events(events, "account_status_changed")
    assert {"account_id": first.id, "old_status": None, "new_status": "active",
            "reason": "created"}.items() <= changed[0].items()


def test_account_number_is_gap_free_after_rollback(app):
    create_account(name="Rolled back")
    db.session.rollback()
    account = create_account(name="Kept")
    db.session.commit()
    assert account.number == "A000001"


def test_account_number_format_is_configurable(make_app):
    app = make_app(plugins=[], ACCOUNT_NUMBER_FORMAT="MDU-{year}-{seq:04d}")
    with app.app_context():
        account = create_account(name="X")
        db.session.commit()
        assert account.number.startswith("MDU-") and account.number.endswith("-0001")


def test_set_status_emits_after_commit_only(app, events):
    account = create_account(name="Jane")
    db.session.commit()
    events.clear()
    assert set_status(account, "delinquent", reason="delinquency")
    assert _events(events, "account_status_changed") == []
    db.session.commit()
    (event,) = _events(events, "account_status_changed")
    assert (event["old_status"], event["new_status"], event["reason"]) == (
        "active", "delinquent", "delinquency")
    assert not set_status(account, "delinquent")  # no change, no event
    set_status(account, "inactive")
    db.session.rollback()
    assert len(_events(events, "account_status_changed")) == 1
    history = db.session.scalars(sa.select(StatusChange.new_status).order_by(StatusChange.id)).all()
    assert history == ["active", "delinquent"]


def test_unknown_status_is_a_field_error(app):
    account = create_account(name="Jane")
    with pytest.raises(ValidationError) as err:
        set_status(account, "nonsense")
    assert "Unknown status 'nonsense'" in err.value.messages["status"][0]
    with pytest.raises(ValidationError) as err:
        create_account(name="Bob", status="nope")
    assert "status" in err.value.messages


def test_invalid_account_fields(app):
    with pytest.raises(ValidationError) as err:
        create_account(name="", account_type="castle")
    assert set(err.value.messages) == {"name", "account_type"}
    assert db.session.scalar(sa.select(sa.func.count(Account.id))) == 0


def test_parent_and_groups(app):
    owner = create_account(name="Maple Holdings", account_type="building_owner")
    unit = create_account(name="Tenant", parent_id=owner.id, groups=["Maple Court", "VIP"])
    db.session.commit()
    assert unit.parent is owner and [g.name for g in unit.groups] == ["Maple Court", "VIP"]
    with pytest.raises(ValidationError):
        create_account(name="Orphan", parent_id=9999)
    from backhaul.core.accounts.accounts import search_accounts, update_account

    with pytest.raises(ValidationError) as err:
        update_account(owner, {"parent_id": unit.id})
    assert "ancestor" in err.value.messages["parent_id"][0]
    assert db.session.scalars(search_accounts(group="VIP")).all() == [unit]


def test_account_numbers_are_unique_and_gap_free_under_concurrency(app):
    """Four threads create accounts at once (PostgreSQL: real row locks on the counter)."""
    import threading

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers; the race is meaningful on PostgreSQL")
    barrier, errors = threading.Barrier(4), []

    def work(n):
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                for i in range(5):
                    create_account(name=f"T{n}-{i}")
                    if i == 2:
                        db.session.rollback()  # a rolled-back creation leaves no gap
                    else:
                        db.session.commit()
            except Exception as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert errors == []
    numbers = sorted(db.session.scalars(sa.select(Account.number)))
    assert numbers == [f"A{n:06d}" for n in range(1, 17)]
