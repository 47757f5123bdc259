"""ICMP to a live address and a dead one (TEST-NET-2 never answers); the dead device comes
back up when its address answers again."""
from __future__ import annotations

from poller_helpers import make_device, poll_once

from backhaul.plugins.poller import service
from backhaul.plugins.poller.models import TargetState
from backhaul.sdk import db


def test_live_up_dead_down_and_back(app):
    live = make_device("core-1", "127.0.0.1", role="router")
    dead = make_device("radio-9", "198.51.100.1", role="router")
    tpl = service.save_template({"name": "ping", "icmp_count": 2, "icmp_interval": 0.1,
                                 "icmp_timeout": 0.5})
    service.apply_template(tpl.id, "role", "router")
    db.session.commit()
    poll_once()
    up = db.session.get(TargetState, f"device:{live.id}")
    down = db.session.get(TargetState, f"device:{dead.id}")
    assert (up.state, up.loss) == ("up", 0.0) and up.rtt_ms is not None
    assert (down.state, down.loss) == ("down", 100.0)
    dead.host = "127.0.0.1"
    db.session.commit()
    poll_once()
    assert db.session.get(TargetState, f"device:{dead.id}").state == "up"
