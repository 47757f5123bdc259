"""Hook specifications the portal publishes for other plugins."""
from __future__ import annotations

from backhaul.sdk import hookspec


@hookspec
def portal_panels(viewer):
    """Contribute panels to the signed-in customer's portal home page.

    Called once per page view, inside the request, for the signed-in contact only. Read
    only: do not write or commit. Show only what belongs to ``viewer.account_id`` (the
    portal has already checked who the viewer is; you must not widen it). An implementation
    that raises is logged and left out; the page still renders.

    :param viewer: a :class:`~backhaul.plugins.portal.api.PortalViewer`.
    :returns: a list of :class:`~backhaul.plugins.portal.api.PortalPanel` (``[]`` or
        ``None`` for nothing to show).
    """


__all__ = ["portal_panels"]
