"""The plugin loads through its entry point and its backend's settings work as an encrypted
configured instance (how the network plugin stores a device)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from backhaul.core.db import db
from backhaul.sdk.instances import InstanceInvalid, get_instance, save_instance
from backhaul.sdk.provisioning import DeviceRef
from backhaul.sdk.testing.junos import JunosSimulator


@pytest.fixture
def app(make_app):
    application = make_app(plugins=["network_juniper"])
    with application.app_context():
        yield application


def test_backend_is_contributed_and_a_device_instance_keeps_its_password_encrypted(app):
    backend = app.extensions["backhaul.contributions"].provisioning_backends["juniper.junos"]
    with JunosSimulator(password="Very$ecret") as sim:
        inst = save_instance("provisioning_backends", "juniper.junos", owner="network",
                             name="mx-7", settings={"host": "127.0.0.1", "port": sim.port,
                                                    "username": "admin",
                                                    "password": "Very$ecret",
                                                    "business_interface": "ae0"})
        db.session.flush()
        raw = db.session.execute(sa.text("select * from core_extension_instance")).all()
        assert raw and "Very$ecret" not in repr(raw)
        settings = dict(get_instance(inst.id).settings)
        assert settings["password"] == "Very$ecret"
        device = DeviceRef(id=inst.id, name=inst.name, backend=backend.key, settings=settings)
        result = backend.test_connection(device)
        assert result.ok, result.message
        assert result.facts["hostname"] == "sim-mx1"
    for bad in ({"business_interface": "eth0; rm -rf"}, {"confirm_minutes": 0},
                {"group": "bad group"}, {"delinquent_states": ["active"]}):
        with pytest.raises(InstanceInvalid):
            save_instance("provisioning_backends", "juniper.junos", owner="network",
                          name="bad", settings={"host": "x", **bad})
    db.session.rollback()
