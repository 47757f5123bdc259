"""Account-page panels: every contributed ``AccountPanel`` the principal may see, rendered.

A panel is an independent piece of someone else's code on a core page, so each one renders in
isolation: one that raises is logged with its plugin's name and replaced by a notice, and the
rest of the account page still works.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app, render_template
from markupsafe import Markup

from backhaul.sdk.contributions import AccountPanel

log = logging.getLogger("backhaul.ui")


@dataclass(frozen=True)
class RenderedPanel:
    key: str
    title: str
    plugin: str
    html: Markup
    failed: bool = False


def rendered_panels(account, owned: list[tuple[str, AccountPanel]],
                    may: Callable[[str], bool]) -> list[RenderedPanel]:
    """Render each permitted panel, in ``(order, title)`` order, containing failures."""
    out = []
    for plugin, panel in sorted(owned, key=lambda pair: (pair[1].order, pair[1].title)):
        if panel.permission is not None and not may(panel.permission):
            continue
        try:
            html = Markup(panel.render(account))
            failed = False
        except Exception:
            log.exception("account panel '%s' of plugin '%s' failed for account %s",
                          panel.key, plugin, getattr(account, "id", account))
            html, failed = Markup(""), True
        out.append(RenderedPanel(panel.key, panel.title, plugin, html, failed))
    return out


def render_account_panels(account) -> Markup:
    """The HTML of every panel the current principal may see on ``account``'s page."""
    from backhaul.core.auth.identity import current_principal

    principal = current_principal()
    owned = current_app.extensions["backhaul.contributions"].owned("account_panels")
    panels = rendered_panels(account, owned, principal.has_permission)
    return Markup(render_template("core/_panels.html", panels=panels, account=account))
