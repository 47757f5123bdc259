"""Contacts: validation and normalisation, one primary, financial routing, preferences."""
import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.core.accounts.contacts import (
    add_contact,
    remove_contact,
    set_primary,
    update_contact,
)
from backhaul.core.db import db
from backhaul.sdk.accounts import Contact, contacts_for, create_account


@pytest.fixture
def account(app):
    account = create_account(name="Jane Doe")
    db.session.commit()
    return account


def test_email_and_phone_are_normalised(account):
    contact = add_contact(account, {"name": "Jane", "email": "  Jane.Doe@Example.COM ",
                                    "phone": "(415) 555-2671"})
    db.session.commit()
    assert (contact.email, contact.phone) == ("jane.doe@example.com", "+14155552671")
    assert contact.is_primary  # the first contact is primary


@pytest.mark.parametrize("field,value", [("email", "not-an-email"), ("email", "a@b"),
                                         ("phone", "12345"), ("phone", "call me maybe")])
def test_invalid_email_or_phone_is_a_field_error(account, field, value):
    with pytest.raises(ValidationError) as err:
        add_contact(account, {"name": "X", field: value})
    assert list(err.value.messages) == [field]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Contact.id))) == 0


def test_phone_uses_the_configured_default_country(make_app):
    app = make_app(plugins=[], PLUGIN_SETTINGS={"accounts": {"default_country": "GB"}})
    with app.app_context():
        account = create_account(name="Flat 3")
        contact = add_contact(account, {"name": "Ann", "phone": "020 7946 0018"})
        assert contact.phone == "+442079460018"


def test_contact_needs_a_way_to_reach_them(account):
    with pytest.raises(ValidationError) as err:
        add_contact(account, {"name": "Ghost"})
    assert "email" in err.value.messages
    with pytest.raises(ValidationError) as err:
        add_contact(account, {"name": "Portal", "phone": "+14155552671", "portal_access": True})
    assert "Portal access" in err.value.messages["email"][0]


def test_exactly_one_primary(account):
    jane = add_contact(account, {"name": "Jane", "email": "jane@example.com"})
    john = add_contact(account, {"name": "John", "email": "john@example.com", "is_primary": True})
    db.session.commit()
    assert [c.name for c in account.contacts if c.is_primary] == ["John"]
    set_primary(jane)
    db.session.commit()
    db.session.expire_all()
    assert db.session.scalars(sa.select(Contact.name).where(Contact.is_primary)).all() == ["Jane"]
    with pytest.raises(ValidationError):
        update_contact(jane, {"is_primary": False})
    with pytest.raises(ValidationError) as err:
        remove_contact(jane)
    assert "primary" in err.value.messages["contact"][0]
    remove_contact(john)
    db.session.commit()


def test_the_database_refuses_two_primaries(account):
    add_contact(account, {"name": "Jane", "email": "jane@example.com"})
    db.session.commit()
    db.session.add(Contact(account_id=account.id, name="Sneaky", email="s@example.com",
                           is_primary=True, preferences={}))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_duplicate_email_on_one_account(account):
    add_contact(account, {"name": "Jane", "email": "jane@example.com"})
    with pytest.raises(ValidationError) as err:
        add_contact(account, {"name": "Jane 2", "email": "JANE@example.com"})
    assert "already uses" in err.value.messages["email"][0]


def test_billing_goes_to_financial_contacts_only(account):
    tenant = add_contact(account, {"name": "Tenant", "email": "t@example.com"})
    assert contacts_for(account, "billing") == [tenant]  # the tenant pays: no financial contact
    owner = add_contact(account, {"name": "Owner", "email": "o@example.com",
                                  "is_financial": True})
    assert contacts_for(account, "billing") == [owner]
    assert contacts_for(account, "outages") == [tenant, owner]


def test_preferences_per_category(account):
    tenant = add_contact(account, {"name": "Tenant", "email": "t@example.com",
                                   "phone": "+14155552671",
                                   "preferences": {"outages": {"sms": True, "email": False}}})
    assert tenant.preferences["billing"] == {"email": True, "sms": False}
    assert contacts_for(account, "outages", "email") == []
    assert contacts_for(account, "outages", "sms") == [tenant]
    update_contact(tenant, {"preferences": {"jobs": {"email": False}}})
    assert contacts_for(account, "jobs") == []
    assert contacts_for(account, "outages", "sms") == [tenant]
    with pytest.raises(ValidationError) as err:
        update_contact(tenant, {"preferences": {"spam": {"email": True}}})
    assert "Unknown category" in err.value.messages["preferences"][0]
    with pytest.raises(ValueError):
        contacts_for(account, "spam")
