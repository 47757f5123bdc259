"""The RADIUS tests' app: billing, network, radius and the test kit's directory backend."""
from __future__ import annotations

import pytest

from backhaul.sdk import PluginMeta
from backhaul.sdk.testing.provisioning import DirectoryBackend


@pytest.fixture
def app(make_app, temp_plugin, tmp_path):
    kit = temp_plugin("kit_devices", meta=PluginMeta(name="kit_devices"),
                      provisioning_backends=lambda: [DirectoryBackend()])
    application = make_app(plugins=["billing", "network", "radius"], extra_plugins=[kit])
    application.device_folder = tmp_path / "devices"
    application.device_folder.mkdir()
    with application.app_context():
        yield application
