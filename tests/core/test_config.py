"""Configuration: precedence, plugin settings, error messages, secrets."""
from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner

from backhaul.core.cli import main
from backhaul.core.config import ConfigError, ensure_secret_key, load_config, redact_url
from backhaul.core.db import db


def write_toml(tmp_path, text: str):
    path = tmp_path / "backhaul.toml"
    path.write_text(text)
    return path


# ----------------------------------------------------------------------------- precedence
def test_defaults_toml_environment_overrides_in_that_order(tmp_path):
    toml = write_toml(tmp_path, """
        queue_prefix = "from-toml"
        default_currency = "EUR"
        timezone = "Europe/Berlin"
        session_idle_minutes = 45
    """.replace("\n        ", "\n"))
    env = {"BACKHAUL_CONFIG": str(toml), "BACKHAUL_QUEUE_PREFIX": "from-env",
           "BACKHAUL_DEFAULT_CURRENCY": "GBP", "BACKHAUL_INSTANCE_PATH": str(tmp_path)}
    config = load_config({"queue_prefix": "from-override"}, environ=env)
    assert config["QUEUE_PREFIX"] == "from-override"  # override beats env and file
    assert config["DEFAULT_CURRENCY"] == "GBP"  # env beats file
    assert config["TIMEZONE"] == "Europe/Berlin"  # file beats default
    assert config["SESSION_IDLE_MINUTES"] == 45
    assert config["SESSION_ABSOLUTE_HOURS"] == 12  # default
    assert config["DATABASE_URL"] == f"sqlite:///{tmp_path / 'backhaul.db'}"


def test_plugin_settings_merge_across_layers(tmp_path):
    toml = write_toml(tmp_path, '[plugins]\nenabled = ["example"]\n\n'
                                '[plugins.example]\ngreeting = "Hi"\nkeep_days = 5\n')
    env = {"BACKHAUL_CONFIG": str(toml), "BACKHAUL_PLUGIN_EXAMPLE__KEEP_DAYS": "7",
           "BACKHAUL_PLUGIN_PAYMENTS_STRIPE__API_KEY": "sk_test_x"}
    config = load_config({"plugin_settings": {"example": {"sign_off": "Bye"}}}, environ=env)
    assert config["PLUGINS"] == ["example"]
    assert config["PLUGIN_SETTINGS"]["example"] == {"greeting": "Hi", "keep_days": "7",
                                                    "sign_off": "Bye"}
    assert config["PLUGIN_SETTINGS"]["payments_stripe"] == {"api_key": "sk_test_x"}


def test_plugin_lists_from_the_environment():
    config = load_config(environ={"BACKHAUL_PLUGINS": "example, billing",
                                  "BACKHAUL_DISABLED_PLUGINS": "billing"})
    assert config["PLUGINS"] == ["example", "billing"]
    assert config["DISABLED_PLUGINS"] == ["billing"]
    assert load_config(environ={})["PLUGINS"] == "all"


def test_toml_plugins_disabled(tmp_path):
    toml = write_toml(tmp_path, '[plugins]\ndisabled = ["billing"]\n')
    assert load_config({"config_file": str(toml)}, environ={})["DISABLED_PLUGINS"] == [
        "billing"]


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("text, setting", [
    ("colour = 'blue'\n", "colour"),
    ("[plugins]\nenable = ['example']\n", "plugins.enable"),
    ("plugins = 3\n", "plugins"),
])
def test_unknown_toml_settings_are_errors(tmp_path, text, setting):
    toml = write_toml(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config({"config_file": str(toml)}, environ={})
    assert err.value.setting == setting


def test_unreadable_toml(tmp_path):
    toml = write_toml(tmp_path, "this is = = not toml")
    with pytest.raises(ConfigError, match="BACKHAUL_CONFIG.*cannot read.*Fix the file"):
        load_config(environ={"BACKHAUL_CONFIG": str(toml)})


@pytest.mark.parametrize("env, setting, words", [
    ({"BACKHAUL_STRICT_PLUGINS": "maybe"}, "STRICT_PLUGINS", "not a boolean"),
    ({"BACKHAUL_SESSION_IDLE_MINUTES": "ten"}, "SESSION_IDLE_MINUTES", "whole number"),
    ({"BACKHAUL_DEFAULT_CURRENCY": "usd"}, "DEFAULT_CURRENCY", "ISO 4217"),
    ({"BACKHAUL_TIMEZONE": "Mars/Olympus"}, "TIMEZONE", "not a known time zone"),
    ({"BACKHAUL_REDIS_URL": "localhost:6379"}, "REDIS_URL", "not a Redis URL"),
    ({"BACKHAUL_DISABLED_PLUGINS": "all"}, "DISABLED_PLUGINS", "not allowed"),
])
def test_invalid_values_name_the_setting_and_the_fix(env, setting, words):
    with pytest.raises(ConfigError) as err:
        load_config(environ=env)
    assert err.value.setting == setting
    assert f"setting '{setting}'" in str(err.value) and words in str(err.value)
    assert str(err.value).startswith("Invalid configuration:")


# ----------------------------------------------------------------------------- plugin settings
def test_plugin_settings_are_loaded_through_the_schema(make_app, monkeypatch):
    monkeypatch.setenv("BACKHAUL_PLUGIN_EXAMPLE__KEEP_DAYS", "7")
    app = make_app(plugins=["example"], plugin_settings={"example": {"greeting": "Howdy"}})
    settings = app.extensions["backhaul.plugins"].settings("example")
    assert settings == {"greeting": "Howdy", "keep_days": 7, "sign_off": None}


def test_invalid_plugin_setting_is_one_error_naming_setting_plugin_and_fix(make_app):
    with pytest.raises(ConfigError) as err:
        make_app(plugins=["example"], plugin_settings={"example": {"keep_days": "soon"}})
    message = str(err.value)
    assert err.value.plugin == "example" and err.value.setting == "keep_days"
    assert "plugin 'example', setting 'keep_days'" in message
    assert "Not a valid integer" in message
    assert "[plugins.example]" in message and "BACKHAUL_PLUGIN_EXAMPLE__KEEP_DAYS" in message


def test_out_of_range_plugin_setting(make_app):
    with pytest.raises(ConfigError, match="setting 'keep_days'.*greater than or equal to 1"):
        make_app(plugins=["example"], plugin_settings={"example": {"keep_days": 0}})


def test_unknown_plugin_setting_lists_the_known_ones(make_app):
    with pytest.raises(ConfigError) as err:
        make_app(plugins=["example"], plugin_settings={"example": {"greting": "Hi"}})
    message = str(err.value)
    assert "plugin 'example', setting 'greting'" in message and "Unknown field" in message
    assert "known settings: greeting, keep_days, sign_off" in message


def test_plugin_setting_errors_are_fatal_even_when_not_strict(make_app):
    with pytest.raises(ConfigError):
        make_app(plugins=["example"], strict_plugins=False,
                 plugin_settings={"example": {"keep_days": "soon"}})


# ----------------------------------------------------------------------------- secrets
@pytest.mark.parametrize("url, shown", [
    ("postgresql://bh:s3cret@db.example:5432/bh", "postgresql://bh:***@db.example:5432/bh"),
    ("postgresql://bh:p%40ss@word@db/bh", "postgresql://bh:***@db/bh"),
    ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
    ("postgresql://bh@db/bh", "postgresql://bh@db/bh"),
    ("sqlite:////var/lib/backhaul.db", "sqlite:////var/lib/backhaul.db"),
    (None, "None"),
])
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_database_password_is_never_in_a_config_error():
    with pytest.raises(ConfigError) as err:
        load_config(environ={"BACKHAUL_DATABASE_URL": "mysql://bh:s3cretpw@db/bh"})
    assert "s3cretpw" not in str(err.value) and "mysql://bh:***@db/bh" in str(err.value)
    with pytest.raises(ConfigError) as err:
        load_config(environ={"BACKHAUL_REDIS_URL": "http://:s3cretpw@cache"})
    assert "s3cretpw" not in str(err.value)


def test_unreachable_database_message_hides_the_password(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKHAUL_DATABASE_URL", "postgresql://bh:s3cretpw@127.0.0.1:1/bh")
    monkeypatch.setenv("BACKHAUL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BACKHAUL_PLUGINS", "example")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "cannot use the database postgresql+psycopg://bh:***@127.0.0.1:1/bh" in result.output
    assert "BACKHAUL_DATABASE_URL" in result.output
    assert "s3cretpw" not in result.output


def test_configuration_error_from_the_cli_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKHAUL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BACKHAUL_PLUGINS", "exampel")
    result = CliRunner().invoke(main, ["plugins", "list"])
    assert result.exit_code == 1
    assert "Error: Invalid configuration: setting 'PLUGINS': unknown plugin 'exampel'" in \
        result.output
    assert "Traceback" not in result.output


def test_configuration_error_is_not_hidden_behind_no_such_command(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKHAUL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("BACKHAUL_PLUGINS", "exampel")
    result = CliRunner().invoke(main, ["example", "greet", "Ada"])
    assert result.exit_code == 1
    assert "unknown plugin 'exampel'" in result.output and "No such command" not in \
        result.output


def test_internal_settings_are_not_read_from_the_environment():
    config = load_config(environ={"BACKHAUL_PLUGIN_SETTINGS": "{}",
                                  "BACKHAUL_EXTRA_PLUGINS": "evil"})
    assert config["PLUGIN_SETTINGS"] == {} and config["EXTRA_PLUGINS"] == []


def test_secret_key_is_generated_once_and_kept_private(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path / "instance"), "SECRET_KEY": None}
    key = ensure_secret_key(config)
    path = tmp_path / "instance" / "secret_key"
    assert len(key) >= 32 and path.read_text() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_secret_key(config) == key
    assert not [p for p in path.parent.iterdir() if p.name != "secret_key"], "no temp files"


def test_configured_secret_key_wins(tmp_path):
    config = {"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "configured-key"}
    assert ensure_secret_key(config) == "configured-key"
    assert not (tmp_path / "secret_key").exists()


def test_apps_share_the_kept_secret_key(tmp_path, backhaul_database_url):
    from backhaul.core.app import create_app

    config = {"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": backhaul_database_url,
              "SECRET_KEY": "", "PLUGINS": []}
    first, second = create_app(dict(config)), create_app(dict(config))
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert first.config["SECRET_KEY"] == (tmp_path / "secret_key").read_text()
    for app in (first, second):
        with app.app_context():
            db.engine.dispose()


def test_readable_secret_key_file_is_tightened(tmp_path):
    path = tmp_path / "secret_key"
    path.write_text("k" * 64)
    os.chmod(path, 0o644)
    assert ensure_secret_key({"INSTANCE_PATH": str(tmp_path)}) == "k" * 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_empty_secret_key_file_says_what_to_do(tmp_path):
    (tmp_path / "secret_key").write_text("")
    with pytest.raises(ConfigError, match="holds no usable key.*Delete the file"):
        ensure_secret_key({"INSTANCE_PATH": str(tmp_path)})


def test_readme_documents_every_setting():
    from pathlib import Path

    from backhaul.core.config import DEFAULTS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    internal = {"PLUGIN_SETTINGS", "EXTRA_PLUGINS"}  # set through TOML tables / the test kit
    missing = [f"BACKHAUL_{name}" for name in DEFAULTS
               if name not in internal and f"`BACKHAUL_{name}`" not in readme]
    assert not missing, f"document these in README.md's Configuration section: {missing}"
