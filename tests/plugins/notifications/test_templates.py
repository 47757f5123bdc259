"""Template language: sandboxed, strict, validated at save time with the failing line."""
from __future__ import annotations

from datetime import date

import pytest

from backhaul.plugins.notifications import templates
from backhaul.plugins.notifications.api import Variable
from backhaul.sdk import Money

INVOICE = (Variable("invoice.number", "", "INV-1"), Variable("invoice.total", "", Money(4999, "USD")),
           Variable("invoice.due_date", "", date(2026, 12, 15)),
           Variable("invoice.lines", "", [{"description": "Fibre 100", "amount": "49.99"}]))


def test_renders_the_done_when_sentence_with_money_and_dates():
    text = templates.validate(
        "Your invoice {{ invoice.number }} of {{ invoice.total }} is due on "
        "{{ invoice.due_date }}", INVOICE)
    assert text == "Your invoice INV-1 of 49.99 USD is due on 2026-12-15"


def test_syntax_error_is_rejected_with_its_line():
    with pytest.raises(templates.TemplateProblem) as err:
        templates.validate("Hello\n\n{% if invoice.number %}\nno end", INVOICE, "body_text")
    assert err.value.field == "body_text"
    assert err.value.line == 3  # the block that is never closed
    assert "endif" in err.value.message
    with pytest.raises(templates.TemplateProblem) as err:
        templates.validate("Dear customer,\n{{ invoice.number }\nthanks", INVOICE, "subject")
    assert (err.value.field, err.value.line) == ("subject", 2)
    assert str(err.value).startswith("subject, line 2: ")


def test_unknown_filter_is_rejected_with_its_line():
    with pytest.raises(templates.TemplateProblem) as err:
        templates.validate("a\n{{ invoice.number|shout }}", INVOICE)
    assert err.value.line == 2 and "shout" in err.value.message


@pytest.mark.parametrize("source, line, name", [
    ("Hi\n{{ invoce.number }}", 2, "invoce.number"),
    ("Hi\n\n{{ invoice.nummber }}", 3, "invoice.nummber"),
    # a branch that the example values would never take is checked too
    ("{% if false %}\n\n{{ customer.name }}\n{% endif %}", 3, "customer.name"),
    ("{{ invoice['numbr'] }}", 1, "invoice.numbr"),
])
def test_unknown_variable_is_rejected_with_its_line(source, line, name):
    with pytest.raises(templates.TemplateProblem) as err:
        templates.validate(source, INVOICE)
    assert err.value.line == line
    assert f"unknown variable '{name}'" in err.value.message


def test_loop_variables_and_attributes_below_a_leaf_are_fine():
    out = templates.validate("{% for l in invoice.lines %}{{ l.description }}: {{ l.amount }}"
                             "{% endfor %} {{ invoice.total.currency }} "
                             "{{ invoice.due_date|date('%d %B %Y') }}", INVOICE)
    assert out == "Fibre 100: 49.99 USD 15 December 2026"


def test_dict_methods_are_not_variables():
    with pytest.raises(templates.TemplateProblem, match="unknown variable 'invoice.items'"):
        templates.validate("{{ invoice.items }}", INVOICE)
    with pytest.raises(templates.TemplateProblem):
        templates.render("{{ invoice.items }}", {"invoice": {"number": "1"}})


def test_sandbox_refuses_python_internals():
    with pytest.raises(templates.TemplateProblem) as err:
        templates.render("{{ ''.__class__.__mro__ }}", {})
    assert err.value.line == 1
    with pytest.raises(templates.TemplateProblem):
        templates.render("{{ x.__init__.__globals__ }}", {"x": templates})


def test_render_failure_reports_the_line_of_the_missing_value():
    with pytest.raises(templates.TemplateProblem) as err:
        templates.render("one\ntwo\n{{ invoice.total }}", {"invoice": {"number": "1"}})
    assert err.value.line == 3 and "total" in err.value.message


def test_html_is_autoescaped_text_is_not():
    ctx = {"contact": {"name": "<b>Bob & Co</b>"}}
    assert templates.render("{{ contact.name }}", ctx, html=True) == \
        "&lt;b&gt;Bob &amp; Co&lt;/b&gt;"
    assert templates.render("{{ contact.name }}", ctx) == "<b>Bob & Co</b>"


def test_nest_and_merge():
    nested = templates.nest({"a.b": 1, "a.c": 2, "d": 3})
    assert nested == {"a": {"b": 1, "c": 2}, "d": 3}
    assert templates.merge(nested, {"a": {"c": 9}}) == {"a": {"b": 1, "c": 9}, "d": 3}
