"""The PDF invoice is a real PDF: read it back with pypdf."""
from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from backhaul.plugins.billing import invoices, run
from backhaul.plugins.billing import subscriptions as subs
from backhaul.plugins.billing.pdf import render_invoice


def _text(data: bytes) -> tuple[str, PdfReader]:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages), reader


@pytest.mark.billing_settings(company_name="Maple Fibre Co-op",
                              company_address=["1 Main St", "Springfield"])
def test_invoice_pdf_reads_back(app, db, shop, make_account):
    acct = make_account("Zoë Müller")
    subs.subscribe(acct.id, service=shop.fiber, start_date=date(2026, 3, 10))
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    invoice = db.session.query(invoices.Invoice).one()
    data = render_invoice(invoice)
    assert data.startswith(b"%PDF-")
    text, reader = _text(data)
    assert reader.metadata.title == "Invoice INV-000001"
    for expected in ("Maple Fibre Co-op", "Invoice INV-000001", "Zoë Müller",
                     "Fiber 100, 10 Mar 2026 - 31 Mar 2026", "35.48 USD", "3.55 USD",
                     "Amount due", "39.03 USD", "15 Mar 2026"):
        assert expected in text, (expected, text)


def test_credit_note_pdf(app, db, shop, make_account):
    acct = make_account()
    draft = invoices.create_draft(acct.id)
    invoices.add_line(draft, "Router", "100.00", tax_class="standard")
    invoices.finalize(draft, date(2026, 3, 1))
    note = invoices.credit_note(draft, "returned", "22.00")
    db.session.commit()
    text, reader = _text(render_invoice(note))
    assert reader.metadata.title == "Credit note CN-000001"
    assert "Credit for INV-000001: returned" in text and "22.00 USD" in text


@pytest.mark.billing_settings(
    company_name="Maple Fibre Co-op", company_address=["1 Main St", "Springfield IL 62701"],
    company_tax_number="US-12-3456789", company_email="billing@maple.example",
    payment_instructions=["Bank transfer to Maple Credit Union", "IBAN US00 1234 5678 90"])
def test_invoice_pdf_fit_to_send(app, db, shop, make_account):
    """Bill-to is the financial contact; the ISP's details and how to pay are printed; a long
    description wraps instead of being cut (every word of it is in the text)."""
    from backhaul.sdk.accounts import add_contact

    acct = make_account("Résidence Les Érables, unit 4B")
    add_contact(acct, {"name": "Hélène Gagnon (landlord)", "email": "helene@example.org",
                       "is_financial": True})
    long = ("Parking space 12 in the underground garage of Résidence Les Érables, level -2, "
            "next to the elevator, with an electric-vehicle charger")
    subs.subscribe(acct.id, service=shop.maintenance, start_date=date(2026, 3, 1),
                   description=long)
    db.session.commit()
    run.run_billing(date(2026, 3, 1))
    data = render_invoice(db.session.query(invoices.Invoice).one())
    text, _ = _text(data)
    flat = " ".join(text.split())
    for expected in ("Bill to", "Hélène Gagnon (landlord)", "helene@example.org",
                     "Tax number: US-12-3456789", "billing@maple.example",
                     "Bank transfer to Maple Credit Union", "IBAN US00 1234 5678 90",
                     "Payment reference: INV-000001", "with an electric-vehicle charger"):
        assert expected in flat, (expected, text)
    import os
    if os.environ.get("BILLUI_PDF_OUT"):
        with open(os.environ["BILLUI_PDF_OUT"], "wb") as out:
            out.write(data)
