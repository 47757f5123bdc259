"""Adding a managed device: one function behind both the form and ``networkCreateDevice``.

The backend's settings are validated by its own schema; its secret settings, the device's
login password and its RADIUS shared secret are sealed with the SDK's secrets keys.
"""
from __future__ import annotations

import ipaddress
import re

import sqlalchemy as sa
from marshmallow import ValidationError

from backhaul.sdk import db, registered
from backhaul.sdk.instances import encrypt_json

from .desired import split_settings
from .models import Device, Site

_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$")
ROLES = ("router", "switch", "access-server", "dhcp-server", "olt", "radio", "other")


def _text(value, field: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit or "\x00" in value:
        raise ValidationError({field: [f"at most {limit} characters"]})
    return value


def create_device(*, name: str, backend: str, site_id: int | None = None,
                  role: str | None = None, vendor: str | None = None, host: str | None = None,
                  port: int | None = None, username: str | None = None,
                  password: str | None = None, radius_secret: str | None = None,
                  settings: dict | None = None) -> Device:
    name = _text(name, "name", 100)
    if not name:
        raise ValidationError({"name": ["1-100 characters"]})
    if db.session.scalar(sa.select(Device.id).where(Device.name == name)):
        raise ValidationError({"name": [f"a device named '{name}' exists"]})
    extension = registered("provisioning_backends").get(backend or "")
    if extension is None:
        raise ValidationError({"backend": [f"no provisioning backend '{backend}' is "
                                           "installed"]})
    role = role or "router"
    if role not in ROLES:
        raise ValidationError({"role": [f"one of {', '.join(ROLES)}"]})
    if site_id is not None and db.session.get(Site, site_id) is None:
        raise ValidationError({"siteId": [f"there is no site {site_id}"]})
    host = _text(host, "host", 255)
    if host:
        try:  # an address; RADIUS finds its NAS by it. Names are kept as typed.
            host = str(ipaddress.ip_address(host))
        except ValueError:
            if not _HOSTNAME.match(host):
                raise ValidationError({"host": ["an IP address or a host name"]}) from None
    if port is not None and not 1 <= int(port) <= 65535:
        raise ValidationError({"port": ["1-65535"]})
    if radius_secret is not None and radius_secret and not 8 <= len(radius_secret) <= 128:
        raise ValidationError({"radiusSecret": ["8-128 characters"]})
    try:
        loaded = extension.validate_settings(dict(settings or {}))
    except ValidationError as exc:
        raise ValidationError({"settings": exc.normalized_messages()}) from None
    plain, sealed = split_settings(extension, loaded)
    device = Device(name=name, backend=extension.key, site_id=site_id, role=role,
                    vendor=_text(vendor, "vendor", 64), host=host, port=port,
                    username=_text(username, "username", 100), settings=plain,
                    secrets=encrypt_json({k: v for k, v in (
                        ("password", password), ("radius_secret", radius_secret),
                        ("settings", sealed)) if v}))
    db.session.add(device)
    db.session.flush()
    return device
