"""Preview URLs: the e-mail HTML that staff pages show in a sandboxed ``<iframe src>``.

Each response carries the sandbox policy of :mod:`..previews` instead of the app-wide one
(the app keeps a header a view has set). A message's preview needs the permission of the
message page; an unsaved template's needs the permission of the editor's preview action and
is shown only to whoever rendered it.
"""
from __future__ import annotations

from flask import Response
from markupsafe import escape

from backhaul.sdk import current_actor, permission_required

from .. import previews


def html_response(body_html: str, status: int = 200) -> Response:
    """``body_html`` as a document that may be framed by our pages and runs no script."""
    response = Response(body_html, status=status, mimetype="text/html")
    response.headers.update(previews.PREVIEW_HEADERS)
    return response


def not_found(message: str) -> Response:
    """A 404 that still shows inside the frame (the app's error page may not be framed)."""
    return html_response(f"<p>{escape(message)}</p>", status=404)


def owner() -> str:
    """Who a stored preview belongs to: the current actor's kind and id ("user:12")."""
    actor = current_actor()
    return f"{actor.kind}:{actor.id}"


def register(bp) -> None:
    @bp.get("/previews/<key>.html")
    @permission_required("notifications.templates.manage")
    def template_preview(key: str):
        body_html = previews.load(key, owner())
        if body_html is None:
            return not_found("This preview has expired or is not yours: "
                             "preview the template again.")
        return html_response(body_html)
