"""The public unsubscribe page: no sign-in, the signed token is the credential.

``GET`` shows what the link will do and a button (mail scanners that follow links must not
unsubscribe anyone); ``POST`` does it. The same ``POST`` answers RFC 8058 one-click requests
(``List-Unsubscribe-Post: List-Unsubscribe=One-Click``) sent by mail providers, which carry
no CSRF token; the view is CSRF-exempt because it uses no ambient credentials.
"""
from __future__ import annotations

from flask import render_template, request

from backhaul.sdk import csrf_exempt, db, public
from backhaul.sdk.accounts import Contact

from .. import unsubscribe


def register(bp) -> None:
    @bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
    @public
    @csrf_exempt
    def unsubscribe_view(token: str):
        data = unsubscribe.read_token(token)
        contact = db.session.get(Contact, data["contact_id"]) if data else None
        if contact is None:
            return render_template("notifications/unsubscribe.html", invalid=True), 404
        done = None
        if request.method == "POST":
            done = unsubscribe.apply(contact, data["category"], data["medium"])
            db.session.commit()
        return render_template("notifications/unsubscribe.html", invalid=False, data=data,
                               contact=contact, done=done, token=token)
