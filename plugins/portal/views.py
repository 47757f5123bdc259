"""The customer pages (``/portal/...``): sign-in, set-password links, the account, invoices,
transactions, auto-pay. Payment pages are in :mod:`.views_pay` (same blueprint).

Every page but sign-in, the set-password pages and the brand assets needs a portal session
(:func:`.access.customer_required`), and shows only the signed-in contact's account: an
invoice id of another account is a 404, exactly like an id that does not exist.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import ValidationError

from backhaul.plugins.billing import api as billing
from backhaul.sdk import call_hook, db, public
from backhaul.sdk.accounts import get_account

from . import access, branding, links, sessions, signin
from .access import customer_required
from .api import PortalPanel

bp = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates",
               static_folder="static", static_url_path="/static")


@bp.before_app_request
def _fresh_viewer():
    # ``g`` lives on the app context, which a test client (or a CLI) may share across
    # requests: every request looks its customer up anew.
    g.pop("portal_viewer", None)
    g.pop("portal_session", None)


@bp.app_context_processor
def _portal_globals():
    if not request.path.startswith("/portal"):
        return {}
    return {"brand": branding.current(), "viewer": g.get("portal_viewer")}


def _ip() -> str:
    return request.remote_addr or ""


def _safe_next(target: str | None) -> str | None:
    """A path inside the portal, never elsewhere (no open redirect), never sign-in again."""
    if not target or not target.startswith("/portal") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path.startswith(("/portal/login",
                                                                "/portal/password")):
        return None
    return target


# ------------------------------------------------------------------------- brand assets
@bp.get("/brand.css")
@public
def brand_css():
    response = Response(branding.stylesheet(branding.current()), mimetype="text/css")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/logo")
@public
def logo():
    found = branding.logo()
    if found is None:
        abort(404)
    response = Response(found[0], mimetype=found[1])
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# ------------------------------------------------------------------------------ sign-in
@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    next_url = _safe_next(request.values.get("next"))
    if request.method == "GET" and access.current_viewer() is not None:
        return redirect(next_url or url_for("portal.home"))
    errors, email, status = {}, "", 200
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()[:254]
        password = request.form.get("password") or ""
        if not email:
            errors["email"] = ["Enter your e-mail address."]
        if not password:
            errors["password"] = ["Enter your password."]
        if errors:
            status = 400
        else:
            outcome = signin.sign_in(email, password, _ip(),
                                     signin.Limits.from_settings(access.settings()))
            if outcome.ok:
                old = request.cookies.get(sessions.COOKIE)
                if old:  # no fixation: a previous session of this browser ends
                    found = sessions.lookup(old, access.idle())
                    if found:
                        sessions.revoke(found[0], "replaced")
                token = sessions.create(outcome.contact.id, access.absolute(), _ip())
                db.session.commit()
                response = redirect(next_url or url_for("portal.home"))
                access.set_cookie(response, token)
                return response
            db.session.commit()  # the failed attempt is recorded
            errors = {"_schema": [outcome.message]}
            status = 429 if outcome.status in ("throttled", "locked") else 401
    response = current_app.make_response((render_template(
        "portal/login.html", errors=errors, email=email, next=next_url), status))
    if status == 429:
        response.headers["Retry-After"] = "60"
    return access.no_store(response)


@bp.post("/logout")
@customer_required
def logout(viewer):
    row = g.get("portal_session")
    if row is not None:
        sessions.revoke(row, "signed out")
        db.session.commit()
    response = redirect(url_for("portal.login"))
    access.clear_cookie(response)
    flash("You have signed out.", "success")
    return response


def link_url(token: str) -> str:
    base = access.settings().get("public_url", "").rstrip("/")
    path = url_for("portal.set_password", token=token)
    return f"{base}{path}" if base else url_for("portal.set_password", token=token,
                                                _external=True)


def send_link(contact, requested_by: str) -> int | None:
    """Issue a set-password link for ``contact`` and e-mail it (the caller commits)."""
    from .models import Login

    minutes = access.settings()["link_minutes"]
    token = links.issue(contact, minutes, requested_by)
    login = db.session.get(Login, contact.id)
    return links.send(contact, link_url(token), minutes, branding.current().name,
                      has_password=bool(login and login.password_hash))


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot():
    errors, sent = {}, False
    if request.method == "POST":
        email = signin.normalise(request.form.get("email"))
        if not email or "@" not in email:
            errors["email"] = ["Enter the e-mail address you use with us."]
        else:
            # The same answer whatever the address: nobody learns who is a customer; the
            # number of links is bounded per address and per IP.
            if links.may_send(email, _ip()):
                for contact in signin.portal_contacts(email):
                    send_link(contact, "self")
            signin.record("reset", email, _ip(), True, "requested")
            db.session.commit()
            sent = True
    return access.no_store(current_app.make_response((render_template(
        "portal/forgot.html", errors=errors, sent=sent), 400 if errors else 200)))


@bp.route("/password/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):
    if links.valid(token) is None:
        return access.no_store(current_app.make_response(
            (render_template("portal/link_invalid.html"), 404)))
    errors = {}
    if request.method == "POST":
        try:
            links.set_password(token, request.form.get("password") or "",
                               request.form.get("confirm") or "")
        except ValidationError as exc:
            db.session.rollback()
            errors = exc.messages
        else:
            db.session.commit()
            flash("Your password is set. Sign in with it now.", "success")
            response = redirect(url_for("portal.login"))
            access.clear_cookie(response)
            return response
    return access.no_store(current_app.make_response(
        (render_template("portal/set_password.html", errors=errors, token=token),
         400 if errors else 200)))


# ---------------------------------------------------------------------------- the account
def panels(viewer) -> list[PortalPanel]:
    found = []
    for plugin, answer in call_hook("portal_panels", viewer=viewer):
        for panel in answer or ():
            if isinstance(panel, PortalPanel):
                found.append(panel)
            else:
                current_app.logger.error("plugin '%s': portal_panels returned %s, expected "
                                         "PortalPanel; ignored", plugin, type(panel).__name__)
    return sorted(found, key=lambda p: (p.order, p.key))


@bp.get("/")
@customer_required
def home(viewer):
    account = get_account(viewer.account_id)
    summary = billing.customer_billing(viewer.account_id)
    open_invoices = billing.customer_invoices(viewer.account_id, open_only=True, limit=20)
    methods = billing.payment_methods(viewer.account_id)
    return render_template("portal/home.html", account=account, summary=summary,
                           open_invoices=open_invoices,
                           recent=billing.customer_invoices(viewer.account_id, limit=5),
                           method=next((m for m in methods if m.is_default), None),
                           panels=panels(viewer))


@bp.get("/invoices")
@customer_required
def invoices(viewer):
    return render_template("portal/invoices.html",
                           invoices=billing.customer_invoices(viewer.account_id, limit=200),
                           summary=billing.customer_billing(viewer.account_id))


@bp.get("/invoices/<int:invoice_id>")
@customer_required
def invoice(viewer, invoice_id: int):
    doc = billing.customer_invoice(viewer.account_id, invoice_id)
    if doc is None:
        abort(404)
    return render_template("portal/invoice.html", invoice=doc,
                           account=get_account(viewer.account_id))


@bp.get("/invoices/<int:invoice_id>.pdf")
@customer_required
def invoice_pdf(viewer, invoice_id: int):
    found = billing.customer_invoice_pdf(viewer.account_id, invoice_id)
    if found is None:
        abort(404)
    name, pdf = found
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}"'})


@bp.get("/transactions")
@customer_required
def transactions(viewer):
    return render_template("portal/transactions.html",
                           transactions=billing.customer_transactions(viewer.account_id, 200),
                           summary=billing.customer_billing(viewer.account_id))


@bp.post("/autopay")
@customer_required
def autopay(viewer):
    wanted = request.form.get("autopay") == "on"
    if not wanted and branding.current().autopay_locked:
        flash("Automatic payment is required for your account and cannot be turned off. "
              "Contact us if you need to change how you pay.", "error")
        return redirect(url_for("portal.home"))
    if wanted and not billing.customer_billing(viewer.account_id).has_payment_method:
        flash("Save a card first: automatic payment charges your saved card.", "error")
        return redirect(url_for("portal.card"))
    billing.set_customer_autopay(viewer.account_id, wanted)
    db.session.commit()
    flash("Automatic payment is on: each new invoice is charged to your saved card."
          if wanted else "Automatic payment is off: pay each invoice here.", "success")
    return redirect(url_for("portal.home"))


from . import views_pay  # noqa: E402,F401  (the payment pages join this blueprint)
