"""What a signed-in customer sees: status, balance, invoices (HTML and billing's PDF),
transactions — and only their own: another account's invoice id is a 404, like an id that
does not exist, in HTML and PDF alike."""
from __future__ import annotations

import io

import pytest
from portal_helpers import make_tenant
from pypdf import PdfReader

from backhaul.sdk import db


def test_overview_shows_status_balance_and_the_overdue_invoice(customer, tenant):
    from backhaul.plugins.billing.models import Invoice

    invoice = db.session.get(Invoice, tenant.invoice_id)
    due = invoice.amount_due.format()
    page = customer.get("/portal/").get_data(as_text=True)
    assert 'id="account-status">Delinquent<' in page
    assert "Your service is suspended" in page
    assert due in page and invoice.display_number in page
    assert f"/portal/pay?invoice={invoice.id}" in page


def test_invoice_page_and_pdf(customer, tenant):
    from backhaul.plugins.billing.models import Invoice

    invoice = db.session.get(Invoice, tenant.invoice_id)
    page = customer.get(f"/portal/invoices/{invoice.id}").get_data(as_text=True)
    assert invoice.display_number in page and invoice.lines[0].description in page
    assert invoice.amount_due.format() in page
    pdf = customer.get(f"/portal/invoices/{invoice.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert invoice.display_number in text and "Tina Tenant" in text
    listing = customer.get("/portal/invoices").get_data(as_text=True)
    assert f"/portal/invoices/{invoice.id}.pdf" in listing


def test_transactions_list_the_ledger(customer, tenant):
    page = customer.get("/portal/transactions").get_data(as_text=True)
    assert 'id="transactions"' in page and "Invoice" in page


@pytest.mark.parametrize("suffix", ["", ".pdf"])
def test_another_accounts_invoice_is_404_like_a_missing_one(app, customer, tenant, suffix):
    other = make_tenant("Olga Other", "olga@example.net")
    response = customer.get(f"/portal/invoices/{other.invoice_id}{suffix}")
    assert response.status_code == 404
    missing = customer.get(f"/portal/invoices/999999{suffix}")
    assert missing.status_code == 404
    assert "Olga" not in response.get_data(as_text=True)
    # and it cannot be paid from here either
    assert customer.get(f"/portal/pay?invoice={other.invoice_id}").status_code == 404
    # their own still works
    assert customer.get(f"/portal/invoices/{tenant.invoice_id}{suffix}").status_code == 200


def test_a_draft_is_never_shown(app, customer, tenant):
    from backhaul.plugins.billing import invoices

    draft = invoices.create_draft(tenant.account.id)
    db.session.commit()
    assert customer.get(f"/portal/invoices/{draft.id}").status_code == 404
    assert customer.get(f"/portal/invoices/{draft.id}.pdf").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(app, tenant):
    client = app.test_client()
    for path in ("/portal/", "/portal/invoices", f"/portal/invoices/{tenant.invoice_id}",
                 f"/portal/invoices/{tenant.invoice_id}.pdf", "/portal/transactions",
                 "/portal/pay", "/portal/card"):
        response = client.get(path)
        assert response.status_code == 302 and "/portal/login" in response.headers["Location"]
