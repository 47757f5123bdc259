"""The example plugin's settings, validated at start-up by the core.

Set them in the TOML file::

    [plugins.example]
    greeting = "Howdy"
    keep_days = 30

or in the environment: ``BACKHAUL_PLUGIN_EXAMPLE__GREETING=Howdy``. A bad value stops the
app at start-up with one message naming the setting, the plugin and the fix. Read them with
``current_plugin_settings("example")``.
"""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class ExampleSettings(Schema):
    #: the word a greeting starts with
    greeting = fields.Str(load_default="Hello", validate=validate.Length(min=1, max=40))
    #: words added to every greeting (the plugin's answer to its own hook), or none
    sign_off = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=60))
    #: greetings older than this are removed by the periodic ``tidy`` job
    keep_days = fields.Int(load_default=90, validate=validate.Range(min=1, max=3650))
