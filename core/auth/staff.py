"""A staff member's own settings (``auth_user_setting``): time zone and forced password change.

Time: every staff member reads and enters times in their own time zone, by default the ISP's
(``TIMEZONE`` in the configuration). Dates without a time ("on 31 December") are the ISP's
days. Templates format stored UTC moments with the ``localtime`` filter::

    {{ event.due_at|localtime }}            -> 2026-12-31 09:00 EST
    {{ event.due_at|localtime("%d %b") }}   -> 31 Dec

A printed/initial password (the one ``backhaul run`` prints for the first admin) is marked
``must_change_password``: after signing in with it, every page but the profile and sign-out
redirects to the profile page until it is changed.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, g, has_app_context, has_request_context
from marshmallow import ValidationError

from ..db import db
from .models import User, UserSetting


def isp_zone_name() -> str:
    return str(current_app.config.get("TIMEZONE") or "UTC") if has_app_context() else "UTC"


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def setting(user: User | None, create: bool = False) -> UserSetting | None:
    if user is None or user.id is None:
        return None
    row = db.session.get(UserSetting, user.id)
    if row is None and create:
        row = UserSetting(user_id=user.id, time_zone=None, must_change_password=False)
        db.session.add(row)
        db.session.flush()
    return row


def _current_user() -> User | None:
    if not has_request_context():
        return None
    from .identity import current_principal

    principal = current_principal()
    return getattr(principal, "user", None) if principal else None


def zone_name_of(user: User | None) -> str:
    row = setting(user)
    return (row.time_zone if row and row.time_zone else None) or isp_zone_name()


def staff_zone() -> ZoneInfo:
    """The signed-in staff member's zone (the ISP's when none is set or outside a request)."""
    if has_request_context():
        cached = g.get("_bh_staff_zone")
        if cached is None:
            cached = g._bh_staff_zone = _zone(zone_name_of(_current_user()))
        return cached
    return _zone(isp_zone_name())


def localtime(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M", zone_suffix: bool = True
              ) -> str:
    """A stored (UTC) moment as the staff member reads it."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(staff_zone())
    text = local.strftime(fmt)
    return f"{text} {local.tzname()}" if zone_suffix and "%H" in fmt else text


def set_time_zone(user: User, name: str | None) -> str | None:
    """Set (or with ``None``/"" clear: follow the ISP) the user's time zone."""
    name = (name or "").strip() or None
    if name is not None and name not in available_timezones():
        raise ValidationError({"time_zone": [f"'{name}' is not a time zone name such as "
                                             "America/Toronto or Europe/Paris."]})
    setting(user, create=True).time_zone = name
    db.session.flush()
    return name


def must_change_password(user: User | None) -> bool:
    row = setting(user)
    return bool(row and row.must_change_password)


def require_password_change(user: User, required: bool = True) -> None:
    setting(user, create=True).must_change_password = required
    db.session.flush()


def common_zones() -> list[str]:
    """Zones offered in the profile form (every IANA name, sorted; UTC first)."""
    return ["UTC", *sorted(z for z in available_timezones() if "/" in z
                           and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))]


__all__ = ["common_zones", "isp_zone_name", "localtime", "must_change_password",
           "require_password_change", "set_time_zone", "staff_zone", "zone_name_of"]
