"""The schema reference page, and the rule that every type and field is described.

``graphql_undescribed.txt`` lists the types and fields that had no SDL description when the
rule was introduced (issue 21). The list may only shrink: a new type or field without a
description fails here, and a described one must leave the list (so it cannot silently grow
back). Describe a field with a string before it in the SDL: ``"What it is." name: Type``.
"""
from __future__ import annotations

from pathlib import Path

from backhaul.core.graphql.reference import reference, undescribed
from backhaul.sdk.testing.auth import fast_sign_in, make_staff_user

BASELINE = Path(__file__).with_name("graphql_undescribed.txt")


def _baseline() -> set[str]:
    return {line.strip() for line in BASELINE.read_text().splitlines()
            if line.strip() and not line.startswith("#")}


def test_every_new_type_and_field_is_described(make_app):
    app = make_app()  # every installed plugin
    missing = set(undescribed(app.extensions["backhaul.graphql"].schema))
    new = sorted(missing - _baseline())
    assert not new, f"describe these in the SDL: {new}"
    fixed = sorted(_baseline() - missing)
    assert not fixed, f"now described (or gone): remove them from {BASELINE.name}: {fixed}"


def test_reference_lists_types_fields_descriptions_and_permissions(make_app):
    app = make_app(plugins=["billing"])
    docs = {t.name: t for t in reference(app.extensions["backhaul.graphql"].schema)}
    account = docs["Account"]
    assert account.kind == "type"
    assert account.description == "A customer: a tenant, a business or a building owner."
    invoices = next(f for f in account.fields if f.name == "billingInvoices")
    assert invoices.type == "[BillingInvoice!]!"
    assert invoices.arguments == [("limit", "Int", "")]
    assert invoices.permissions == ("accounts.account.view", "billing.invoice.view")
    assert list(docs)[:2] == ["Query", "Mutation"]


def test_reference_page_is_served_to_staff_with_the_explorer_permission(make_app):
    app = make_app(plugins=[])
    client = app.test_client()
    with app.app_context():
        allowed = make_staff_user(["core.graphql.explore"])
        other = make_staff_user(["accounts.account.view"])
        assert client.get("/graphql/reference").status_code in (302, 401)
        fast_sign_in(client, other)
        assert client.get("/graphql/reference").status_code == 403
        fast_sign_in(client, allowed)
        page = client.get("/graphql/reference")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="type-Account"' in html
    assert "A customer: a tenant, a business or a building owner." in html
    assert "<code>accounts.account.view</code>" in html
