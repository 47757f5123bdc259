"""The plugin loads through its entry point and its backend's settings work as an encrypted
configured instance (how the network plugin stores a router)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from backhaul.core.db import db
from backhaul.sdk.instances import InstanceInvalid, get_instance, save_instance
from backhaul.sdk.provisioning import DeviceRef
from backhaul.sdk.testing.routeros import RouterOSSimulator


@pytest.fixture
def app(make_app):
    application = make_app(plugins=["network_mikrotik"])
    with application.app_context():
        yield application


def test_backend_is_contributed_and_a_router_instance_keeps_its_password_encrypted(app):
    backend = app.extensions["backhaul.contributions"].provisioning_backends["mikrotik.routeros"]
    with RouterOSSimulator(password="Very$ecret") as sim:
        inst = save_instance("provisioning_backends", "mikrotik.routeros", owner="network",
                             name="tower-7", settings={"host": "127.0.0.1", "port": sim.port,
                                                       "username": "admin",
                                                       "password": "Very$ecret",
                                                       "delinquent_list": "late"})
        db.session.flush()
        raw = db.session.execute(sa.text("select * from core_extension_instance")).all()
        assert raw and "Very$ecret" not in repr(raw)
        settings = dict(get_instance(inst.id).settings)
        assert settings["password"] == "Very$ecret"
        device = DeviceRef(id=inst.id, name=inst.name, backend=backend.key, settings=settings)
        result = backend.test_connection(device)
        assert result.ok, result.message
        assert result.facts["identity"] == "SimRouter"
        with pytest.raises(InstanceInvalid) as err:
            save_instance("provisioning_backends", "mikrotik.routeros", owner="network",
                          name="bad", settings={"host": "x", "throttle_by": "magic"})
        assert "throttle_by" in str(err.value.errors)
    db.session.rollback()
