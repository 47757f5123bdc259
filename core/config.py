"""Settings: defaults < optional TOML file < ``BACKHAUL_*`` environment < explicit overrides.

Everything that can be wrong with configuration is found here, before anything starts, and
reported as one :class:`ConfigError` naming the setting (and plugin) and what to do.
"""
from __future__ import annotations

import os
import re
import secrets
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ENV_PREFIX = "BACKHAUL_"

DEFAULTS: dict[str, Any] = {
    "INSTANCE_PATH": "instance",
    "DATABASE_URL": None,  # default: sqlite:///<instance>/backhaul.db
    "REDIS_URL": None,  # unset: jobs run in-process
    "PLUGINS": "all",  # "all" or a list of names
    "DISABLED_PLUGINS": [],  # names taken out of PLUGINS (essential ones cannot be)
    "SECRET_KEY": None,  # generated and kept in <instance>/secret_key on first run
    "SECRETS_KEYS": [],  # Fernet keys for secrets at rest, newest first (see core/secrets.py)
    "STRICT_PLUGINS": False,  # a plugin that fails to load is fatal
    "TRACE_HOOKS": False,  # log every hook call
    "QUEUE_PREFIX": "backhaul",  # RQ queue names are "<prefix>:<queue>"
    "JOB_BACKOFF_SECONDS": 10,  # first retry delay; doubles per attempt (capped at 1 hour)
    "JOB_STALE_GRACE_SECONDS": 60,  # a running job past its timeout + this is presumed lost
    "PLUGIN_SETTINGS": {},  # {plugin: {key: value}}
    "EXTRA_PLUGINS": [],  # plugin objects registered directly (in-test plugins)
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "ACCOUNT_NUMBER_FORMAT": "A{seq:06d}",
    "DEFAULT_CURRENCY": "USD",
    "TIMEZONE": "UTC",
    "GRAPHQL_MAX_DEPTH": 10,  # nesting of fields in one query
    "GRAPHQL_MAX_ALIASES": 30,  # aliased fields in one document
    "GRAPHQL_MAX_TOKENS": 2000,  # lexical tokens parsed before a query is refused
    "GRAPHQL_MAX_COST": 10000,  # fields, multiplied by the page size of lists they are in
    "GRAPHQL_DEFAULT_PAGE_SIZE": 20,  # `first` when a connection query omits it
    "GRAPHQL_MAX_PAGE_SIZE": 100,  # the largest `first` a connection accepts
    "GRAPHQL_RATE_LIMIT": 600,  # requests per principal (token or user) per window; 0: off
    "GRAPHQL_RATE_WINDOW": 60,  # the rate limit's window, in seconds
    "AUTH_PASSWORD_MIN_LENGTH": 12,
    "AUTH_THROTTLE_ATTEMPTS": 5,  # failures per address+IP within the window before refusing
    "AUTH_THROTTLE_WINDOW_MINUTES": 15,
    "AUTH_LOCKOUT_THRESHOLD": 10,  # consecutive failures that lock an account
    "AUTH_LOCKOUT_MINUTES": 15,
    "AUTH_MFA_PENDING_MINUTES": 5,  # time to enter the TOTP code after the password
    "AUTH_SESSION_TOUCH_SECONDS": 60,  # how often last-seen is written for a session
    "SESSION_COOKIE_SECURE": False,  # True forces Secure; otherwise Secure on HTTPS requests
    "TRUSTED_PROXIES": 0,  # reverse proxies in front (X-Forwarded-For/Proto are trusted that deep)
}

_BOOLS = {"STRICT_PLUGINS", "TRACE_HOOKS", "SESSION_COOKIE_SECURE"}
_INTS = {"SESSION_IDLE_MINUTES", "SESSION_ABSOLUTE_HOURS", "MAX_CONTENT_LENGTH",
         "JOB_BACKOFF_SECONDS", "JOB_STALE_GRACE_SECONDS", "GRAPHQL_MAX_DEPTH",
         "GRAPHQL_MAX_ALIASES", "GRAPHQL_MAX_TOKENS", "GRAPHQL_MAX_COST",
         "GRAPHQL_DEFAULT_PAGE_SIZE", "GRAPHQL_MAX_PAGE_SIZE", "GRAPHQL_RATE_LIMIT",
         "GRAPHQL_RATE_WINDOW", "AUTH_PASSWORD_MIN_LENGTH",
         "AUTH_THROTTLE_ATTEMPTS", "AUTH_THROTTLE_WINDOW_MINUTES", "AUTH_LOCKOUT_THRESHOLD",
         "AUTH_LOCKOUT_MINUTES", "AUTH_MFA_PENDING_MINUTES", "AUTH_SESSION_TOUCH_SECONDS",
         "TRUSTED_PROXIES"}
_LISTS = {"PLUGINS", "DISABLED_PLUGINS"}
#: set through TOML tables or by the test kit, never from a string
_NOT_FROM_ENV = {"PLUGIN_SETTINGS", "EXTRA_PLUGINS"}


class ConfigError(Exception):
    """Invalid configuration. The message names the setting and what to do."""

    def __init__(self, setting: str, problem: str, fix: str, plugin: str | None = None):
        where = f"plugin '{plugin}', setting '{setting}'" if plugin else f"setting '{setting}'"
        super().__init__(f"Invalid configuration: {where}: {problem}. {fix}")
        self.setting, self.plugin = setting, plugin


def redact_url(url: str | None) -> str:
    """A URL with its password replaced by ``***`` (safe for logs and error messages)."""
    if not url:
        return str(url)
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    userinfo = netloc[0].split(":", 1)[0] + ":***"
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{netloc[1]}"))


def _parse_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(name, f"'{value}' is not a boolean", "Use true or false.")


def _from_env(environ: dict[str, str]) -> dict[str, Any]:
    """``BACKHAUL_X`` -> ``X``; ``BACKHAUL_PLUGIN_<NAME>__<KEY>`` -> plugin settings."""
    out: dict[str, Any] = {}
    plugin_settings: dict[str, dict] = {}
    for key, value in environ.items():
        if not key.startswith(ENV_PREFIX) or key == "BACKHAUL_CONFIG":
            continue
        name = key[len(ENV_PREFIX):]
        match = re.fullmatch(r"PLUGIN_([A-Z0-9_]+?)__([A-Z0-9_]+)", name)
        if match:
            plugin_settings.setdefault(match[1].lower(), {})[match[2].lower()] = value
        elif name in DEFAULTS and name not in _NOT_FROM_ENV:
            out[name] = value
    if plugin_settings:
        out["PLUGIN_SETTINGS"] = plugin_settings
    return out


def _from_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("BACKHAUL_CONFIG", f"cannot read {path}: {exc}",
                          "Fix the file or unset BACKHAUL_CONFIG.") from None
    out = {k.upper(): v for k, v in data.items() if k != "plugins"}
    unknown = sorted(set(out) - set(DEFAULTS))
    if unknown:
        raise ConfigError(unknown[0].lower(), f"unknown setting in {path}",
                          f"Known settings: {', '.join(sorted(k.lower() for k in DEFAULTS))}.")
    plugins = data.get("plugins")
    if plugins is not None and not isinstance(plugins, dict):
        raise ConfigError("plugins", f"must be a table in {path}",
                          "Write [plugins] with enabled = [...] and [plugins.<name>] tables.")
    for key, value in (plugins or {}).items():
        if key == "enabled":
            out["PLUGINS"] = value
        elif key == "disabled":
            out["DISABLED_PLUGINS"] = value
        elif not isinstance(value, dict):
            raise ConfigError(f"plugins.{key}", f"unknown setting in {path}",
                              "Use enabled = [...], disabled = [...] or a [plugins.<name>] "
                              "table of that plugin's settings.")
    out["PLUGIN_SETTINGS"] = {k: v for k, v in (plugins or {}).items() if isinstance(v, dict)}
    return out


def _merge_plugin_settings(*layers: dict) -> dict:
    merged: dict[str, dict] = {}
    for layer in layers:
        for plugin, values in (layer or {}).items():
            merged.setdefault(plugin, {}).update(values)
    return merged


def load_config(overrides: dict | None = None, environ: dict | None = None) -> dict[str, Any]:
    """Build the final settings dict; raises :class:`ConfigError`."""
    environ = dict(os.environ if environ is None else environ)
    overrides = {k.upper(): v for k, v in (overrides or {}).items()}
    env = _from_env(environ)
    toml_path = overrides.get("CONFIG_FILE") or environ.get("BACKHAUL_CONFIG")
    file_layer = _from_toml(Path(toml_path)) if toml_path else {}

    config = dict(DEFAULTS)
    for layer in (file_layer, env, overrides):
        config.update({k: v for k, v in layer.items() if k != "PLUGIN_SETTINGS"})
    config["PLUGIN_SETTINGS"] = _merge_plugin_settings(
        file_layer.get("PLUGIN_SETTINGS"), env.get("PLUGIN_SETTINGS"),
        overrides.get("PLUGIN_SETTINGS"))
    return _normalise(config)


def _normalise(config: dict[str, Any]) -> dict[str, Any]:
    for name in _BOOLS:
        config[name] = _parse_bool(name, config[name])
    for name in _INTS:
        try:
            config[name] = int(config[name])
        except (TypeError, ValueError):
            raise ConfigError(name, f"'{config[name]}' is not a whole number",
                              "Give a whole number.") from None
    instance = Path(config["INSTANCE_PATH"]).resolve()
    config["INSTANCE_PATH"] = str(instance)
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance / 'backhaul.db'}"
    url = str(config["DATABASE_URL"])
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    if not (url.startswith("sqlite:") or url.startswith("postgresql+psycopg://")):
        raise ConfigError("DATABASE_URL", f"unsupported database '{redact_url(url)}'",
                          "Use sqlite:///path/to.db or postgresql://user:password@host/db.")
    config["DATABASE_URL"] = url
    redis_url = config["REDIS_URL"]
    if redis_url and not str(redis_url).startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL", f"'{redact_url(redis_url)}' is not a Redis URL",
                          "Use redis://host:6379/0, or unset it to run jobs in-process.")
    for name in _LISTS:
        config[name] = _parse_names(name, config[name])
    if config["DISABLED_PLUGINS"] == "all":
        raise ConfigError("DISABLED_PLUGINS", "'all' is not allowed here",
                          "List plugin names, or set PLUGINS to the few you want.")
    try:
        ZoneInfo(str(config["TIMEZONE"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("TIMEZONE", f"'{config['TIMEZONE']}' is not a known time zone",
                          "Use an IANA name such as UTC or Europe/Berlin.") from None
    from .secrets import parse_keys

    config["SECRETS_KEYS"] = parse_keys(config["SECRETS_KEYS"])
    currency = str(config["DEFAULT_CURRENCY"])
    if not re.fullmatch(r"[A-Z]{3}", currency):
        raise ConfigError("DEFAULT_CURRENCY", f"'{currency}' is not an ISO 4217 code",
                          "Use a code such as USD or EUR.")
    return config


def _parse_names(name: str, value: Any) -> str | list[str]:
    """``"all"``, a comma-separated string or a list -> ``"all"`` or a list of names."""
    if isinstance(value, str):
        if value.strip() == "all":
            return "all"
        value = value.split(",")
    if not isinstance(value, list | tuple):
        raise ConfigError(name, f"'{value}' is not a list of plugin names",
                          'Use "all", "a,b" (environment) or ["a", "b"] (TOML).')
    return [str(v).strip() for v in value if str(v).strip()]


def private_folder(folder: Path) -> Path:
    """Create ``folder`` for its owner only (0700) and tighten it if it exists: the instance
    folder holds the secret key and the SQLite database (issue 11, finding 11)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        folder.chmod(0o700)
    return folder


def ensure_secret_key(config: dict[str, Any]) -> str:
    """Return the configured secret key, or one generated once and kept in the instance folder.

    The file is created atomically (readable by its owner only), so two processes starting
    at once agree on one key and a crash never leaves an empty key behind.
    """
    if config.get("SECRET_KEY"):
        return str(config["SECRET_KEY"])
    path = Path(config["INSTANCE_PATH"]) / "secret_key"
    private_folder(path.parent)
    if path.exists():
        return _read_secret_key(path)
    tmp = path.with_name(f".secret_key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secrets.token_urlsafe(48))
    try:
        os.link(tmp, path)  # fails if another process won the race: use its key
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return _read_secret_key(path)


def _read_secret_key(path: Path) -> str:
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)  # others must never read it
    key = path.read_text().strip()
    if len(key) < 32:
        raise ConfigError("SECRET_KEY", f"{path} holds no usable key",
                          "Delete the file to have a new key generated (signed-in users "
                          "will have to sign in again), or set BACKHAUL_SECRET_KEY.")
    return key
