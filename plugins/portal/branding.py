"""Branding: each ISP's portal looks like its own (name, logo, colours, support contact).

One row (id 1), edited by staff with ``portal.settings.manage`` on the Portal page or with
``portalUpdateBranding``. Colours are ``#rrggbb`` only, and reach the page through a
stylesheet the portal serves (``/portal/brand.css``), never an inline style: the
Content-Security-Policy forbids those, and a colour cannot smuggle CSS. The logo is a PNG,
JPEG, GIF or WebP of at most :data:`MAX_LOGO_BYTES`, recognised by its first bytes (never by
a name or a claimed type); SVG is refused (it can carry script).
"""
from __future__ import annotations

from dataclasses import dataclass

from marshmallow import Schema, ValidationError, fields, validate

from backhaul.sdk import db

from .models import Branding

MAX_LOGO_BYTES = 256 * 1024
HEX = validate.Regexp(r"^#[0-9a-fA-F]{6}$", error="Use a colour like #0b5cad.")
_SIGNATURES = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"),
               (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))


class BrandingSchema(Schema):
    name = fields.Str(required=True, validate=validate.Length(min=1, max=100))
    tagline = fields.Str(load_default="", validate=validate.Length(max=200))
    primary_colour = fields.Str(required=True, validate=HEX)
    accent_colour = fields.Str(required=True, validate=HEX)
    support_email = fields.Str(load_default="", validate=validate.Length(max=254))
    support_phone = fields.Str(load_default="", validate=validate.Length(max=30))
    support_url = fields.Str(load_default="", validate=validate.Length(max=300))
    autopay_locked = fields.Bool(load_default=False)



def _checks(data: dict) -> dict[str, list[str]]:
    errors = {}
    email = str(data.get("support_email") or "").strip()
    if email and (("@" not in email) or any(c.isspace() for c in email)):
        errors["support_email"] = ["Use an e-mail address like help@isp.example."]
    url = str(data.get("support_url") or "").strip()
    if url and not url.startswith(("https://", "http://")):
        errors["support_url"] = ["Use a web address starting with https://."]
    return errors


def _logo_problem(logo_bytes: bytes) -> str | None:
    if len(logo_bytes) > MAX_LOGO_BYTES:
        return f"The logo is over {MAX_LOGO_BYTES // 1024} KB: use a smaller image."
    if sniff(logo_bytes) is None:
        return "Use a PNG, JPEG, GIF or WebP image (SVG is not accepted)."
    return None


@dataclass(frozen=True)
class Brand:
    name: str
    tagline: str
    primary_colour: str
    accent_colour: str
    support_email: str
    support_phone: str
    support_url: str
    has_logo: bool
    logo_version: str
    autopay_locked: bool


DEFAULTS = {"name": "", "tagline": "", "primary_colour": "#0b5cad",
            "accent_colour": "#f29f05", "support_email": "", "support_phone": "",
            "support_url": "", "autopay_locked": False}


def _row() -> Branding | None:
    return db.session.get(Branding, 1)


def current(default_name: str = "Customer portal") -> Brand:
    row = _row()
    values = {k: getattr(row, k) for k in DEFAULTS} if row else dict(DEFAULTS)
    values["name"] = values["name"] or default_name
    version = str(int(row.updated_at.timestamp())) if row and row.updated_at else "0"
    return Brand(**values, has_logo=bool(row and row.logo), logo_version=version)


def logo() -> tuple[bytes, str] | None:
    row = _row()
    return (row.logo, row.logo_type) if row and row.logo else None


def sniff(data: bytes) -> str | None:
    for signature, mime in _SIGNATURES:
        if data.startswith(signature):
            return mime
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def save(data: dict, *, logo_bytes: bytes | None = None, remove_logo: bool = False,
         actor: str = "") -> Branding:
    """Validate and store (flushes). Raises ``ValidationError`` naming every bad field."""
    errors: dict[str, list[str]] = {}
    try:
        loaded = BrandingSchema().load(data)
    except ValidationError as exc:
        errors.update(exc.messages)
    errors.update(_checks(data))
    problem = _logo_problem(logo_bytes) if logo_bytes else None
    if problem:
        errors["logo"] = [problem]
    if errors:
        raise ValidationError(errors)
    mime = sniff(logo_bytes) if logo_bytes else None
    row = _row() or Branding(id=1, **DEFAULTS)
    for key, value in loaded.items():
        setattr(row, key, value.strip() if isinstance(value, str) else value)
    if mime:
        row.logo, row.logo_type = logo_bytes, mime
    elif remove_logo:
        row.logo, row.logo_type = None, None
    row.updated_by = actor[:200]
    db.session.add(row)
    db.session.flush()
    return row


def stylesheet(brand: Brand) -> str:
    """The brand's colours as CSS custom properties (values already validated as hex)."""
    def checked(colour: str, fallback: str) -> str:
        try:
            HEX(colour)
        except ValidationError:
            return fallback
        return colour

    primary = checked(brand.primary_colour, DEFAULTS["primary_colour"])
    accent = checked(brand.accent_colour, DEFAULTS["accent_colour"])
    return f":root {{ --brand: {primary}; --brand-accent: {accent}; }}\n"


__all__ = ["MAX_LOGO_BYTES", "Brand", "BrandingSchema", "current", "logo", "save", "sniff",
           "stylesheet"]
