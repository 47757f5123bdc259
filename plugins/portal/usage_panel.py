"""The "Your data usage" panel, from the usage plugin's published API (``usage.api``):
each data service's counted usage this month against its allowance."""
from __future__ import annotations

from flask import render_template

from .api import PortalPanel, PortalViewer

GB = 10**9


def gb(octets: int | None) -> str:
    return f"{(octets or 0) / GB:,.2f} GB"


def panels(viewer: PortalViewer) -> list[PortalPanel]:
    from backhaul.plugins.usage.api import account_usage

    services = account_usage(viewer.account_id)
    if not services:
        return []
    html = render_template("portal/_usage_panel.html", services=services, gb=gb)
    return [PortalPanel("portal.usage", "Your data usage this month", html, order=20)]
