"""The run command's demo data touches demo rows only (issue 10, defects 1 and 3)."""
from __future__ import annotations

import sqlalchemy as sa

from backhaul.sdk.testing import run_cli


def _subs_of(db, number):
    from backhaul.plugins.billing.models import Invoice, Subscription
    from backhaul.sdk.accounts import get_account_by_number

    account = get_account_by_number(number)
    subs = db.session.scalars(sa.select(Subscription).where(
        Subscription.account_id == account.id)).all()
    invoices = db.session.scalars(sa.select(Invoice).where(
        Invoice.account_id == account.id)).all()
    return account, subs, invoices


def test_demo_bills_current_tenants_only_and_a_reload_leaves_new_accounts_alone(app, db):
    assert run_cli(app, "demo", "load").exit_code == 0
    _, subs, invoices = _subs_of(db, "DEMO-0001")
    assert subs and invoices, "a current demo tenant is subscribed and billed"
    _, subs, invoices = _subs_of(db, "DEMO-0010")  # moved out before the demo's run
    assert subs == [] and invoices == [], "the moved-out demo tenant is not billed"

    from backhaul.sdk.accounts import create_account
    own = create_account(name="Operator's First Customer")
    db.session.commit()
    before = db.session.execute(sa.text("SELECT count(*) FROM billing_subscription")).scalar()
    assert run_cli(app, "demo", "load").exit_code == 0
    after = db.session.execute(sa.text("SELECT count(*) FROM billing_subscription")).scalar()
    assert after == before
    assert _subs_of(db, own.number)[1] == []
