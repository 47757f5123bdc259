"""The PDF invoice (and credit note), drawn with fpdf2 (pure Python).

Layout (A4): the ISP's name, address, tax number and contact details from the billing
settings at the top left, the document's title, number and dates at the top right; "Bill to"
(the account's financial contact, else its primary contact, with the account number and the
service address); the lines in a table whose descriptions wrap (never cut) and whose rows
grow to fit; totals; the payment instructions from the settings with the invoice number as
the payment reference. Every text is measured before it is drawn, so nothing overlaps.

Text is set in DejaVu Sans when the font is installed (every script, ``€``, accents...);
otherwise in the PDF core font Helvetica, with characters it cannot show replaced. The
document carries the invoice number as its title and subject so that archives can index it.
"""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fpdf import FPDF

from backhaul.sdk import Money
from backhaul.sdk.accounts import get_account

from . import settings as billing_settings
from .models import Invoice

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
MARGIN = 18
LINE = 5.0  # mm per text line at 9-10 pt


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
        self.pdf.set_margins(MARGIN, MARGIN, MARGIN)
        self.pdf.set_auto_page_break(True, margin=MARGIN + 6)
        self.pdf.set_title(title)
        self.pdf.set_subject(title)
        self.pdf.set_creator("Backhaul billing")
        self.family, self.unicode = _font(self.pdf)
        self.pdf.add_page()

    @property
    def width(self) -> float:
        return self.pdf.w - 2 * MARGIN

    def text(self, value: str) -> str:
        value = value or ""
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def font(self, bold=False, size=10):
        self.pdf.set_font(self.family, "B" if bold else "", size)

    def block(self, x: float, y: float, width: float, lines, *, size=9, bold_first=False,
              align="L") -> float:
        """Lines wrapped into a column at (x, y); returns the y below it."""
        self.pdf.set_xy(x, y)
        for index, line in enumerate(lines):
            self.font(bold=bold_first and index == 0, size=size + (2 if bold_first and
                                                                    index == 0 else 0))
            self.pdf.set_x(x)
            self.pdf.multi_cell(width, LINE if size < 11 else LINE + 1, self.text(line),
                                align=align, new_x="LEFT", new_y="NEXT")
        return self.pdf.get_y()

    def row(self, widths, values, aligns, *, bold=False, size=9, fill=False) -> None:
        """A table row whose height fits its tallest (wrapped) cell."""
        self.font(bold=bold, size=size)
        heights = []
        for width, value in zip(widths, values, strict=True):
            lines = self.pdf.multi_cell(width - 2, LINE, self.text(value), dry_run=True,
                                        output="LINES")
            heights.append(max(1, len(lines)) * LINE)
        height = max(heights) + 2
        if self.pdf.get_y() + height > self.pdf.h - self.pdf.b_margin:
            self.pdf.add_page()
        y = self.pdf.get_y()
        x = MARGIN
        if fill:
            self.pdf.set_fill_color(240, 243, 247)
            self.pdf.rect(MARGIN, y, sum(widths), height, style="F")
        for width, value, align in zip(widths, values, aligns, strict=True):
            self.pdf.set_xy(x + 1, y + 1)
            self.pdf.multi_cell(width - 2, LINE, self.text(value), align=align)
            x += width
        self.pdf.set_draw_color(221, 227, 234)
        self.pdf.line(MARGIN, y + height, MARGIN + sum(widths), y + height)
        self.pdf.set_xy(MARGIN, y + height)


def _money(amount: int, currency: str) -> str:
    return Money(amount, currency).format()


def bill_to(account) -> list[str]:
    """Who the invoice is addressed to: the financial contact (else the primary one)."""
    if account is None:
        return []
    contacts = list(account.contacts)
    chosen = [c for c in contacts if c.is_financial] or [c for c in contacts if c.is_primary]
    lines = []
    if chosen:
        contact = sorted(chosen, key=lambda c: (not c.is_primary, c.id))[0]
        lines.append(contact.name)
        if contact.name != account.name:
            lines.append(f"for {account.name}")
        if contact.email:
            lines.append(contact.email)
    else:
        lines.append(account.name)
    lines.append(f"Account {account.number}")
    if account.address is not None:
        lines.append(account.address.one_line)
    return lines


def render_invoice(invoice: Invoice) -> bytes:
    """The PDF of a finalized invoice or credit note, as bytes."""
    defaults = billing_settings.load()
    credit = invoice.kind == "credit_note"
    kind = "Credit note" if credit else "Invoice"
    doc = _Doc(f"{kind} {invoice.display_number}")
    pdf = doc.pdf
    top = pdf.get_y()
    left_w = doc.width * 0.55
    right_x = MARGIN + left_w + 6
    right_w = doc.width - left_w - 6
    isp = [defaults.company_name, *defaults.company_address]
    if defaults.company_tax_number:
        isp.append(f"Tax number: {defaults.company_tax_number}")
    isp += [value for value in (defaults.company_email, defaults.company_phone) if value]
    below_left = doc.block(MARGIN, top, left_w, isp, size=9, bold_first=True)
    meta = [f"{kind} {invoice.display_number}"]
    if invoice.issue_date:
        meta.append(f"Issued {invoice.issue_date:%d %b %Y}")
    if invoice.due_date and not credit:
        meta.append(f"Due {invoice.due_date:%d %b %Y}")
    if invoice.period_start and invoice.period_end:
        last = invoice.period_end - timedelta(days=1)  # period_end is exclusive
        meta.append(f"Period {invoice.period_start:%d %b %Y} - {last:%d %b %Y}")
    below_right = doc.block(right_x, top, right_w, meta, size=9, bold_first=True, align="R")
    y = max(below_left, below_right) + 8

    account = get_account(invoice.account_id)
    doc.font(bold=True, size=9)
    pdf.set_xy(MARGIN, y)
    pdf.cell(left_w, LINE, doc.text("Bill to"), new_x="LMARGIN", new_y="NEXT")
    y = doc.block(MARGIN, pdf.get_y(), left_w, bill_to(account), size=10) + 8
    pdf.set_xy(MARGIN, y)

    widths = (doc.width - 94, 14, 28, 28, 24)
    aligns = ("L", "R", "R", "R", "R")
    doc.row(widths, ("Description", "Qty", "Unit price", "Amount", "Tax"), aligns,
            bold=True, fill=True)
    cur = invoice.currency
    for line in invoice.lines:
        doc.row(widths, (line.description, f"{line.quantity.normalize():f}",
                         _money(line.unit_price_amount, cur), _money(line.amount, cur),
                         _money(line.tax_amount, cur)), aligns)
    pdf.ln(3)
    totals = [("Subtotal", invoice.subtotal_amount), ("Tax", invoice.tax_amount),
              ("Total", invoice.total_amount)]
    if not credit:
        totals += [("Paid", invoice.paid_amount), ("Amount due", invoice.amount_due.amount)]
    label_w, value_w = 40, 36
    for label, amount in totals:
        strong = label in ("Total", "Amount due")
        if pdf.get_y() + LINE + 1 > pdf.h - pdf.b_margin:
            pdf.add_page()
        doc.font(bold=strong, size=10)
        pdf.set_x(MARGIN + doc.width - label_w - value_w)
        pdf.cell(label_w, LINE + 1, doc.text(label))
        pdf.cell(value_w, LINE + 1, doc.text(_money(amount, cur)), align="R",
                 new_x="LMARGIN", new_y="NEXT")
    if invoice.status == "void":
        pdf.ln(6)
        doc.font(bold=True, size=12)
        pdf.multi_cell(0, LINE + 1, doc.text(f"VOID: {invoice.void_reason}"))
    if invoice.memo:
        pdf.ln(4)
        doc.block(MARGIN, pdf.get_y(), doc.width, [invoice.memo], size=9)
    if not credit and defaults.payment_instructions:
        pdf.ln(6)
        doc.block(MARGIN, pdf.get_y(), doc.width,
                  ["How to pay", *defaults.payment_instructions,
                   f"Payment reference: {invoice.display_number}"], size=9, bold_first=True)
    return bytes(pdf.output())


__all__ = ["bill_to", "render_invoice"]
