"""Secrets at rest: a key ring of Fernet keys (``cryptography``'s MultiFernet).

The keys come from configuration (``BACKHAUL_SECRETS_KEYS``, comma-separated, newest first)
and never from the database, so a copy of the database alone reveals no secret. Without the
setting a key is generated once into ``<instance>/secrets_key`` (mode 0600), as the session
key is, so ``make run`` needs nothing; production sets it (and backs it up: data encrypted
with a lost key is lost).

Rotation: put a new key first (``backhaul secrets new-key``), keep the old ones after it,
run ``backhaul secrets rotate`` (re-encrypts every stored secret with the first key), then
drop the old keys. Until then the old keys still decrypt what they encrypted.
"""
from __future__ import annotations

import json
import os
import secrets as _random
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from .config import ConfigError

EXTENSION_KEY = "backhaul.secrets"
KEY_FILE = "secrets_key"


class SecretsUnreadable(RuntimeError):
    """Stored secrets were encrypted with a key that is not in ``SECRETS_KEYS``."""


def new_key() -> str:
    """A fresh Fernet key (urlsafe base64, 32 random bytes)."""
    return Fernet.generate_key().decode()


def parse_keys(value: Any) -> list[str]:
    """``SECRETS_KEYS`` as a list (a comma-separated string from the environment)."""
    if not value:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    keys = [str(k).strip() for k in items if str(k).strip()]
    for position, key in enumerate(keys, 1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ConfigError("SECRETS_KEYS", f"key number {position} is not a Fernet key "
                              "(32 bytes, urlsafe base64)", "Generate one with "
                              "`backhaul secrets new-key`.") from None
    return keys


def ensure_keys(config: dict[str, Any]) -> list[str]:
    """The configured keys, or one generated once into the instance folder (atomically)."""
    keys = parse_keys(config.get("SECRETS_KEYS"))
    if keys:
        return keys
    path = Path(config["INSTANCE_PATH"]) / KEY_FILE
    if not path.exists():
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{_random.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(new_key())
        try:
            os.link(tmp, path)  # another process won the race: use its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return parse_keys(path.read_text().strip())


def init_app(app, config: dict[str, Any]) -> None:
    keys = ensure_keys(config)
    app.extensions[EXTENSION_KEY] = MultiFernet([Fernet(k.encode()) for k in keys])


def _ring(app=None) -> MultiFernet:
    return (app or current_app).extensions[EXTENSION_KEY]


def encrypt_json(values: dict, app=None) -> str:
    """Encrypt a JSON-able dict with the first key; ``""`` for an empty dict."""
    if not values:
        return ""
    return _ring(app).encrypt(json.dumps(values, sort_keys=True).encode()).decode()


def decrypt_json(token: str, app=None) -> dict:
    """The dict :func:`encrypt_json` sealed; raises :class:`SecretsUnreadable`."""
    if not token:
        return {}
    try:
        return json.loads(_ring(app).decrypt(token.encode()))
    except InvalidToken:
        raise SecretsUnreadable("stored secrets cannot be decrypted with any key in "
                                "SECRETS_KEYS: restore the key they were written with "
                                "(keep old keys listed until `backhaul secrets rotate` ran)"
                                ) from None


def rotate_token(token: str, app=None) -> str:
    """The same secrets, re-encrypted with the first key."""
    if not token:
        return token
    try:
        return _ring(app).rotate(token.encode()).decode()
    except InvalidToken:
        raise SecretsUnreadable("a stored secret cannot be decrypted with any key in "
                                "SECRETS_KEYS: rotation stopped, nothing was changed") from None
