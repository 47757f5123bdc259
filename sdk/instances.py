"""Operator-configured instances of an extension, with secrets encrypted at rest.

A notification channel ("Office SMTP"), a payment gateway account ("Stripe live"), a network
device ("core-router-1"): each is an *instance* of an extension your plugin (or another)
contributes, with settings validated by the extension's ``settings_schema``. Store them here
rather than in a table of your own and secrets are handled for you:

* **Which settings are secret**: ``secret_fields = ("password",)`` on the extension class, or
  ``fields.Str(metadata={"secret": True})`` in its schema.
* **Encrypted at rest** with ``cryptography``'s MultiFernet; the keys come from
  ``BACKHAUL_SECRETS_KEYS`` (never the database). ``backhaul secrets rotate`` re-encrypts
  everything with a new first key.
* **In a table of your own**: store ``encrypt_json({...})`` in a text column and list it in
  the model's ``__sealed__ = ("secrets",)``, so ``backhaul secrets rotate`` re-encrypts it
  (a token rotation misses is unreadable once the old key is removed) and the audit trail
  records ``"***"``. A test fails when a column is written with ``encrypt_json`` undeclared.
* **Never shown back**: :func:`form_fields` / :func:`form_values` build the settings form from
  the schema; a stored secret's input stays empty with the placeholder "unchanged", and
  saving a blank (or ``"unchanged"``) keeps it. The same holds for GraphQL inputs.
* **Never logged or audited**: :class:`Instance` keeps settings out of its ``repr`` (log
  ``instance.redacted()``); the audit trail records ``"***"`` when a secret changes.

Use::

    from backhaul.sdk.instances import InstanceInvalid, get_instance, save_instance

    try:
        device = save_instance("provisioning_backends", "acme.router", owner="network",
                               name="core-router-1", settings=form_settings,
                               instance_id=existing_id)        # None creates
    except InstanceInvalid as exc:
        errors = exc.errors                                    # {"settings": {"host": [...]}}
    ...
    password = get_instance(device.id).settings["password"]    # decrypted, in memory only

Keep your plugin's own facts about the instance (a channel's medium, a device's site) in your
own table with a foreign key to ``core_extension_instance.id`` (migration
``depends_on = "core_0005_seams"``). None of these functions commits.
"""
from __future__ import annotations

from backhaul.core.instances import (
    UNCHANGED,
    Instance,
    InstanceInvalid,
    delete_instance,
    get_instance,
    list_instances,
    save_instance,
    secret_fields,
)
from backhaul.core.secrets import SecretsUnreadable, decrypt_json, encrypt_json

from .settings_form import SettingField
from .settings_form import display_values as form_values
from .settings_form import fields_for as form_fields
from .settings_form import parse as parse_form

__all__ = ["UNCHANGED", "Instance", "InstanceInvalid", "SecretsUnreadable", "SettingField",
           "decrypt_json", "delete_instance", "encrypt_json", "form_fields", "form_values",
           "get_instance", "list_instances", "parse_form", "save_instance", "secret_fields"]
