"""The PDF invoice (and credit note), drawn with fpdf2 (pure Python).

Text is set in DejaVu Sans when the font is installed (every script, ``€``, accents...);
otherwise in the PDF core font Helvetica, with characters it cannot show replaced. The
document carries the invoice number as its title and subject so that archives can index it.
"""
from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

from backhaul.sdk import Money
from backhaul.sdk.accounts import get_account

from . import settings as billing_settings
from .models import Invoice

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


def _font(pdf: FPDF) -> tuple[str, bool]:
    for folder in FONT_DIRS:
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.exists() and bold.exists():
            pdf.add_font("DejaVu", "", str(regular))
            pdf.add_font("DejaVu", "B", str(bold))
            return "DejaVu", True
    return "Helvetica", False


class _Doc:
    def __init__(self, title: str):
        self.pdf = FPDF(format="A4")
        self.pdf.set_margins(18, 18, 18)
        self.pdf.set_title(title)
        self.pdf.set_subject(title)
        self.pdf.set_creator("Backhaul billing")
        self.pdf.add_page()
        self.family, self.unicode = _font(self.pdf)

    def text(self, value: str) -> str:
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def cell(self, width: float, value: str, *, bold=False, size=10, align="L", ln=False):
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.cell(width, 6, self.text(value), align=align,
                      new_x="LMARGIN" if ln else "RIGHT", new_y="NEXT" if ln else "TOP")


def _money(amount: int, currency: str) -> str:
    return Money(amount, currency).format()


def render_invoice(invoice: Invoice) -> bytes:
    """The PDF of a finalized invoice or credit note, as bytes."""
    defaults = billing_settings.load()
    credit = invoice.kind == "credit_note"
    title = f"{'Credit note' if credit else 'Invoice'} {invoice.display_number}"
    doc = _Doc(title)
    doc.cell(0, defaults.company_name, bold=True, size=16, ln=True)
    for line in defaults.company_address:
        doc.cell(0, line, size=9, ln=True)
    doc.pdf.ln(6)
    doc.cell(0, title, bold=True, size=14, ln=True)
    account = get_account(invoice.account_id)
    meta = [("Account", f"{account.number} - {account.name}" if account else "")]
    if account is not None and account.address is not None:
        meta.append(("Service address", account.address.one_line))
    meta += [("Issued", f"{invoice.issue_date:%d %b %Y}" if invoice.issue_date else ""),
             ("Due", f"{invoice.due_date:%d %b %Y}" if invoice.due_date and not credit else "")]
    if invoice.period_start and invoice.period_end:
        meta.append(("Period", f"{invoice.period_start:%d %b %Y} - {invoice.period_end:%d %b %Y}"))
    for label, value in meta:
        if value:
            doc.cell(40, label, bold=True)
            doc.cell(0, value, ln=True)
    doc.pdf.ln(4)
    widths = (86, 16, 26, 26, 20)
    for width, head, align in zip(widths, ("Description", "Qty", "Unit price", "Amount",
                                           "Tax"), "LRRRR", strict=True):
        doc.cell(width, head, bold=True, align=align)
    doc.pdf.ln(7)
    cur = invoice.currency
    for line in invoice.lines:
        qty = f"{line.quantity.normalize():f}"
        values = (line.description[:60], qty, _money(line.unit_price_amount, cur),
                  _money(line.amount, cur), _money(line.tax_amount, cur))
        for width, value, align in zip(widths, values, "LRRRR", strict=True):
            doc.cell(width, value, size=9, align=align)
        doc.pdf.ln(6)
    doc.pdf.ln(4)
    totals = [("Subtotal", invoice.subtotal_amount), ("Tax", invoice.tax_amount),
              ("Total", invoice.total_amount)]
    if not credit:
        totals += [("Paid", invoice.paid_amount),
                   ("Amount due", invoice.amount_due.amount)]
    for label, amount in totals:
        doc.cell(128, "")
        doc.cell(24, label, bold=label in ("Total", "Amount due"))
        doc.cell(22, _money(amount, cur), bold=label in ("Total", "Amount due"), align="R",
                 ln=True)
    if invoice.status == "void":
        doc.pdf.ln(6)
        doc.cell(0, f"VOID: {invoice.void_reason}", bold=True, size=12, ln=True)
    return bytes(doc.pdf.output())


__all__ = ["render_invoice"]
