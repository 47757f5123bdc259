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
