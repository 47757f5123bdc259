"""Configured extension instances: an operator's settings for one use of an extension.

A notification channel ("Office SMTP"), a payment gateway account ("Stripe live"), a network
device ("core-router-1") is an *instance* of a contributed extension (``email_smtp``,
``stripe``, ``mikrotik``) with settings validated by the extension's ``settings_schema``.
One table holds them all, so every plugin gets the same handling of secrets:

* secret fields (``Extension.secret_fields``, or schema fields with ``metadata={"secret":
  True}``) are stored apart, encrypted together as one Fernet token (:mod:`.secrets`);
* they are never returned to a form (blank input, placeholder "unchanged": blank keeps the
  stored value) and never in ``repr``/logs (:meth:`Instance.redacted`);
* the audit trail records that they changed (``"***"``), never their value.

Plugins use it through ``backhaul.sdk.instances``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.orm import Mapped, mapped_column

from .db import TimestampMixin, db
from .secrets import decrypt_json, encrypt_json, rotate_token

#: what a form shows in a stored secret's (empty) input
UNCHANGED = "unchanged"
REDACTED = "***"


class ExtensionInstance(TimestampMixin, db.Model):
    __tablename__ = "core_extension_instance"
    #: an ``encrypt_json`` token: re-encrypted by ``backhaul secrets rotate``, and (it changes
    #: whenever a secret does) recorded in the audit trail as "***", never the value
    __sealed__ = ("secrets",)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the plugin that owns the instance (its pages edit it)
    owner: Mapped[str] = mapped_column(sa.String(64))
    #: the extension point: notification_channels, payment_gateways, provisioning_backends...
    kind: Mapped[str] = mapped_column(sa.String(64))
    #: the contributed extension's ``key`` (email_smtp, stripe...)
    extension_key: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(100))
    enabled: Mapped[bool] = mapped_column(default=True)
    #: the settings that are not secret, as validated
    settings: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    #: the secret settings, one Fernet token of their JSON ("" when there are none)
    secrets: Mapped[str] = mapped_column(sa.Text, default="")

    __table_args__ = (sa.UniqueConstraint("owner", "kind", "name"),)


class InstanceInvalid(ValueError):
    """Refused input; ``errors`` maps field names (``settings`` for the schema's) to messages."""

    def __init__(self, errors: dict):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class Instance:
    """One configured instance, secrets decrypted in ``settings`` (kept out of ``repr``)."""

    id: int
    owner: str
    kind: str
    extension_key: str
    name: str
    enabled: bool
    settings: Mapping[str, Any] = field(repr=False)
    secret_names: tuple[str, ...] = ()

    def redacted(self) -> dict:
        """The settings with every stored secret replaced by ``"***"`` (for logs, pages)."""
        return {k: (REDACTED if k in self.secret_names and v else v)
                for k, v in self.settings.items()}

    def has_secret(self, name: str) -> bool:
        return bool(self.settings.get(name)) and name in self.secret_names


def secret_fields(extension: Any) -> tuple[str, ...]:
    """The extension's secret setting names: ``secret_fields`` plus schema fields marked
    ``metadata={"secret": True}``."""
    names = list(getattr(extension, "secret_fields", ()) or ())
    schema = getattr(extension, "settings_schema", None)
    if schema is not None:
        names += [n for n, f in schema().fields.items() if f.metadata.get("secret")]
    return tuple(dict.fromkeys(names))


def _registered(kind: str) -> dict:
    from flask import current_app

    return getattr(current_app.extensions["backhaul.contributions"], kind)


def _to_instance(row: ExtensionInstance, secret_names: tuple[str, ...] = ()) -> Instance:
    hidden = decrypt_json(row.secrets)
    return Instance(id=row.id, owner=row.owner, kind=row.kind,
                    extension_key=row.extension_key, name=row.name, enabled=row.enabled,
                    settings={**(row.settings or {}), **hidden},
                    secret_names=tuple(dict.fromkeys([*secret_names, *hidden])))


def save_instance(kind: str, extension_key: str, *, owner: str, name: str,
                  settings: Mapping[str, Any], instance_id: int | None = None,
                  enabled: bool = True) -> Instance:
    """Create (``instance_id`` None) or update an instance; the caller commits.

    A secret given as ``""``, ``None`` or ``"unchanged"`` keeps its stored value. Raises
    :class:`InstanceInvalid` with field-level messages; nothing is written then.
    """
    extension = _registered(kind).get(extension_key)
    if extension is None:
        raise InstanceInvalid({"extension_key": [f"no enabled plugin offers '{extension_key}'"
                                                 f" for {kind}"]})
    if not name or len(name) > 100:
        raise InstanceInvalid({"name": ["give a name of 1 to 100 characters"]})
    row = db.session.get(ExtensionInstance, instance_id) if instance_id else None
    if instance_id and (row is None or row.owner != owner or row.kind != kind):
        raise InstanceInvalid({"id": [f"no {kind} instance {instance_id} of '{owner}'"]})
    secret_names = secret_fields(extension)
    raw = dict(settings)
    stored = decrypt_json(row.secrets) if row is not None else {}
    for secret in secret_names:
        if raw.get(secret) in (None, "", UNCHANGED):
            if secret in stored:
                raw[secret] = stored[secret]
            else:
                raw.pop(secret, None)
    try:
        loaded = extension.validate_settings(raw)
    except ValidationError as exc:
        raise InstanceInvalid({"settings": exc.normalized_messages()}) from None
    clash = db.session.scalar(sa.select(ExtensionInstance.id).where(
        ExtensionInstance.owner == owner, ExtensionInstance.kind == kind,
        ExtensionInstance.name == name, ExtensionInstance.id != (instance_id or -1)))
    if clash:
        raise InstanceInvalid({"name": [f"'{name}' exists already"]})
    row = row or ExtensionInstance(owner=owner, kind=kind, extension_key=extension_key)
    row.name, row.enabled = name, enabled
    row.settings = {k: v for k, v in loaded.items() if k not in secret_names}
    hidden = {k: v for k, v in loaded.items() if k in secret_names and v not in (None, "")}
    if hidden != stored or not row.secrets:
        row.secrets = encrypt_json(hidden)  # a new token only when a secret changed
    db.session.add(row)
    db.session.flush()
    return _to_instance(row, secret_names)


def get_instance(instance_id: int) -> Instance | None:
    row = db.session.get(ExtensionInstance, instance_id)
    return None if row is None else _to_instance(row, _secret_names_of(row))


def list_instances(*, owner: str | None = None, kind: str | None = None) -> list[Instance]:
    query = sa.select(ExtensionInstance).order_by(ExtensionInstance.name)
    if owner is not None:
        query = query.where(ExtensionInstance.owner == owner)
    if kind is not None:
        query = query.where(ExtensionInstance.kind == kind)
    return [_to_instance(r, _secret_names_of(r)) for r in db.session.scalars(query)]


def delete_instance(instance_id: int) -> bool:
    row = db.session.get(ExtensionInstance, instance_id)
    if row is not None:
        db.session.delete(row)
        db.session.flush()
    return row is not None


def _secret_names_of(row: ExtensionInstance) -> tuple[str, ...]:
    try:
        extension = _registered(row.kind).get(row.extension_key)
    except (KeyError, RuntimeError, AttributeError):
        extension = None
    return secret_fields(extension) if extension is not None else ()


def sealed_columns() -> list[tuple[type, str]]:
    """``(model, attribute)`` for every ``__sealed__`` column of every mapped model.

    A model declares the columns that hold :func:`encrypt_json` tokens with
    ``__sealed__ = ("secrets",)``; rotation finds them here, whichever plugin owns them.
    """
    found = []
    for mapper in sorted(db.Model.registry.mappers, key=lambda m: m.class_.__name__):
        for key in getattr(mapper.class_, "__sealed__", ()):
            if key not in mapper.column_attrs:
                raise TypeError(f"{mapper.class_.__name__}.__sealed__ names '{key}', "
                                "which is not one of its columns")
            found.append((mapper.class_, key))
    return found


def rotate_all(batch: int = 500) -> dict[str, int]:
    """Re-encrypt every ``__sealed__`` column's tokens with the first key.

    Returns ``{table: rows changed}``. All or nothing within the caller's transaction: a
    token no key can read raises :class:`SecretsUnreadable` before anything is committed.
    Tables that do not exist in this database (a plugin never enabled here) are skipped.
    """
    existing = set(sa.inspect(db.session.connection()).get_table_names())
    changed: dict[str, int] = {}
    for model, key in sealed_columns():
        table = model.__table__
        if table.name not in existing:
            continue
        column = table.c[getattr(model, key).property.columns[0].key]
        [pk] = table.primary_key.columns
        last, count = None, 0
        while True:
            stmt = sa.select(pk, column).where(column.is_not(None), column != "") \
                .order_by(pk).limit(batch)
            if last is not None:
                stmt = stmt.where(pk > last)
            rows = db.session.execute(stmt).all()
            if not rows:
                break
            db.session.execute(table.update().where(pk == sa.bindparam("_pk"))
                               .values({column.key: sa.bindparam("_token")}),
                               [{"_pk": r[0], "_token": rotate_token(r[1])} for r in rows])
            count += len(rows)
            last = rows[-1][0]
        changed[table.name] = changed.get(table.name, 0) + count
    return changed
