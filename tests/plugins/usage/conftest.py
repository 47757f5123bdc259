"""The usage tests' app: billing, network, radius, notifications, usage and the test kit's
directory backend."""
from __future__ import annotations

import pytest

from backhaul.sdk import PluginMeta
from backhaul.sdk.testing.provisioning import DirectoryBackend

PLUGINS = ["billing", "network", "radius", "notifications", "usage"]


@pytest.fixture
def usage_settings():
    return {"overage_per_gb": "1.00"}


@pytest.fixture
def app(make_app, temp_plugin, tmp_path, usage_settings):
    kit = temp_plugin("kit_devices", meta=PluginMeta(name="kit_devices"),
                      provisioning_backends=lambda: [DirectoryBackend()])
    application = make_app(plugins=PLUGINS, extra_plugins=[kit],
                           plugin_settings={"usage": usage_settings})
    application.device_folder = tmp_path / "devices"
    application.device_folder.mkdir()
    with application.app_context():
        yield application
