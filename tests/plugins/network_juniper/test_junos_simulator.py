"""The Junos NETCONF simulator on its own: wire protocol through ncclient (both framings), the
Junos RPCs' replies, and the configuration tree's formats, with expectations written out by
hand from Junos's documented behaviour rather than from the simulator's code."""
from __future__ import annotations

import contextlib
import socket

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from ncclient import manager
from ncclient.operations import RPCError

from backhaul.sdk.testing.junos import JunosSimulator
from backhaul.sdk.testing.junos_config import (
    ConfigError,
    diff_text,
    load_set,
    load_text,
    render_set,
    render_text,
)


def connect(sim, **kw):
    return manager.connect(host="127.0.0.1", port=sim.port, username="admin",
                           password=sim.password, hostkey_verify=False, look_for_keys=False,
                           allow_agent=False, device_params={"name": "junos"}, timeout=5, **kw)


def rpc(m, xml: str) -> str:
    """The reply as text (ncclient's junos handler strips the namespaces)."""
    return str(m.rpc(etree.fromstring(xml)))


@pytest.mark.parametrize("netconf_11", [False, True], ids=["1.0-eom", "1.1-chunked"])
def test_both_framings_carry_a_large_load_and_a_reply(netconf_11):
    with JunosSimulator(netconf_11=netconf_11) as sim, connect(sim) as m:
        assert ("urn:ietf:params:netconf:base:1.1" in m.server_capabilities) is netconf_11
        lines = "\n".join(f"set policy-options prefix-list big 10.{i // 250}.{i % 250}.1/32"
                          for i in range(3000))  # ~170 kB: several SSH windows and chunks
        rpc(m, "<lock-configuration/>")
        reply = rpc(m, f'<load-configuration action="set" format="text"><configuration-set>'
                       f"{lines}</configuration-set></load-configuration>")
        assert "<ok/>" in reply
        rpc(m, "<commit-configuration/>")
        text = rpc(m, '<get-configuration format="set" database="committed"/>')
        assert text.count("set policy-options prefix-list big ") == 3000
        assert sim.commits == 1


def test_software_information_and_errors_in_junos_shape():
    with JunosSimulator(hostname="edge-9", model="ex4300-48t", version="22.2R3.12") as sim, \
            connect(sim) as m:
        root = etree.fromstring(rpc(m, "<get-software-information/>").encode())
        assert root.findtext(".//{*}host-name") == "edge-9"
        assert root.findtext(".//{*}junos-version") == "22.2R3.12"
        with pytest.raises(RPCError) as err:
            rpc(m, "<get-bgp-summary-information/>")
        assert "syntax error" in str(err.value)
        sim.fault("get-software-information", "error", message="mgd: RE busy")
        with pytest.raises(RPCError) as err:
            rpc(m, "<get-software-information/>")
        assert "RE busy" in str(err.value)


def test_lock_is_exclusive_and_dies_with_its_session():
    with JunosSimulator() as sim:
        with connect(sim) as first, connect(sim) as second:
            rpc(first, "<lock-configuration/>")
            with pytest.raises(RPCError) as err:
                rpc(second, "<lock-configuration/>")
            assert "locked by" in str(err.value)
            with pytest.raises(RPCError):
                rpc(second, '<load-configuration action="set" format="text"><configuration-set>'
                            "set system host-name x</configuration-set></load-configuration>")
            rpc(first, '<load-configuration action="set" format="text"><configuration-set>'
                       "set system host-name x</configuration-set></load-configuration>")
        # the first session went away with uncommitted changes: they are discarded
        assert sim.lock_owner is None and sim.show("set", "candidate") == ""
        with connect(sim) as third:
            rpc(third, "<lock-configuration/>")
        assert sim.lock_owner is None


def test_text_load_compare_rollback_and_discard():
    base = "system {\n    host-name mx1;\n}\n"
    with JunosSimulator(config=base) as sim, connect(sim) as m:
        rpc(m, "<lock-configuration/>")
        rpc(m, '<load-configuration action="merge" format="text"><configuration-text>'
               "firewall { policer p1 { if-exceeding { bandwidth-limit 10m; "
               "burst-size-limit 62500; } then discard; } }</configuration-text>"
               "</load-configuration>")
        text = rpc(m, '<get-configuration compare="rollback" rollback="0" format="text"/>')
        assert "[edit]" in text and "+   firewall {" in text and "bandwidth-limit 10m;" in text
        rpc(m, '<load-configuration rollback="0"/>')  # discard, as PyEZ's rollback(0) does
        assert sim.show("set", "candidate") == "set system host-name mx1"
        rpc(m, '<load-configuration action="set" format="text"><configuration-set>'
               "set system host-name mx2</configuration-set></load-configuration>")
        rpc(m, "<commit-configuration/>")
        assert sim.show() == "set system host-name mx2"
        rpc(m, '<load-configuration rollback="1"/>')
        rpc(m, "<commit-configuration/>")
        assert sim.show() == "set system host-name mx1"


def test_commit_confirmed_rolls_back_unless_confirmed():
    with JunosSimulator(minute=0.2) as sim, connect(sim) as m:
        def load(line):
            rpc(m, f'<load-configuration action="set" format="text"><configuration-set>{line}'
                   "</configuration-set></load-configuration>")
        load("set system host-name kept")
        rpc(m, "<commit-configuration/>")
        load("set system host-name confirmed")
        rpc(m, "<commit-configuration><confirmed/><confirm-timeout>1</confirm-timeout>"
               "</commit-configuration>")
        rpc(m, "<commit-configuration/>")  # the confirming commit
        load("set system host-name forgotten")
        rpc(m, "<commit-configuration><confirmed/><confirm-timeout>1</confirm-timeout>"
               "</commit-configuration>")
        assert sim.show() == "set system host-name forgotten"
        info = rpc(m, "<get-commit-revision-information><detail/></get-commit-revision-information>")
        assert "rollback in 1mins" in info
        assert sim.wait_for_rollback(3)
        assert sim.show() == "set system host-name confirmed" and sim.auto_rollbacks == 1


def test_wrong_password_and_garbage_do_not_hurt_the_device():
    with JunosSimulator() as sim:
        from ncclient.transport.errors import AuthenticationError
        with pytest.raises(AuthenticationError):
            manager.connect(host="127.0.0.1", port=sim.port, username="admin",
                            password="wrong", hostkey_verify=False, look_for_keys=False,
                            allow_agent=False, device_params={"name": "junos"}, timeout=5)
        with socket.create_connection(("127.0.0.1", sim.port), timeout=2) as raw:
            raw.sendall(b"\x00" * 4096 + b"GET / HTTP/1.0\r\n\r\n")
        m = connect(sim)
        m._session.send("<rpc message-id='x'><<<not xml")  # malformed: the session ends
        with contextlib.suppress(Exception):
            m.close_session()
        with connect(sim) as m:
            assert "<host-name>sim-mx1</host-name>" in rpc(m, "<get-software-information/>")


# ----------------------------------------------------------------------------- the tree
def test_set_and_text_formats_are_the_same_configuration():
    text = """
    groups {
        backhaul {
            firewall {
                policer bh-1 {
                    if-exceeding { bandwidth-limit 20m; burst-size-limit 12500; }
                    then discard;
                }
                family inet {
                    filter bh-1-in {
                        term police {
                            from { source-address { 100.64.0.1/32; } }
                            then { policer bh-1; accept; }
                        }
                    }
                }
            }
            interfaces { ge-0/0/1 { unit 100 { description "bh:sub 1"; vlan-id 100;
                family inet { filter { input bh-1-in; } } } } }
        }
    }
    apply-groups [ backhaul other ];
    """
    from_text: dict = {}
    load_text(from_text, text)
    from_set: dict = {}
    assert load_set(from_set, "\n".join(render_set(from_text))) == []
    assert from_set == from_text
    again: dict = {}
    load_text(again, "\n".join(render_text(from_text)))
    assert again == from_text
    assert 'set groups backhaul interfaces ge-0/0/1 unit 100 description "bh:sub 1"' in \
        render_set(from_text)
    assert "set apply-groups other" in render_set(from_text)


def test_merge_replaces_single_values_and_keeps_lists():
    tree: dict = {}
    load_set(tree, "set interfaces ge-0/0/1 unit 5 vlan-id 5\n"
                   "set policy-options prefix-list l 10.0.0.1/32\n"
                   "set firewall family inet filter f term t then policer p1")
    load_set(tree, "set interfaces ge-0/0/1 unit 5 vlan-id 6\n"
                   "set policy-options prefix-list l 10.0.0.2/32\n"
                   "set firewall family inet filter f term t then policer p2")
    assert render_set(tree) == [
        "set interfaces ge-0/0/1 unit 5 vlan-id 6",
        "set policy-options prefix-list l 10.0.0.1/32",
        "set policy-options prefix-list l 10.0.0.2/32",
        "set firewall family inet filter f term t then policer p2"]
    assert load_set(tree, "delete policy-options prefix-list l 10.0.0.9/32") == [
        "statement not found: policy-options prefix-list l 10.0.0.9/32"]
    load_set(tree, "delete interfaces ge-0/0/1 unit 5 vlan-id\ndelete firewall")
    assert render_set(tree) == ["set interfaces ge-0/0/1 unit 5",
                                "set policy-options prefix-list l 10.0.0.1/32",
                                "set policy-options prefix-list l 10.0.0.2/32"]


def test_compare_is_junos_shaped():
    old: dict = {}
    load_set(old, "set system host-name a\nset firewall policer p if-exceeding bandwidth-limit 1m")
    new: dict = {}
    load_set(new, "set system host-name b\nset firewall policer p if-exceeding bandwidth-limit 1m")
    assert diff_text(old, new) == ["[edit system]", "-   host-name a;", "+   host-name b;"]
    assert diff_text(new, new) == []


@pytest.mark.parametrize("bad", ["a { b;", "a b; }", "x [ y z", "{ }", "a { b }"])
def test_broken_text_is_refused(bad):
    with pytest.raises(ConfigError):
        load_text({}, bad)


def test_get_configuration_filter_takes_one_group_and_top_level_statements():
    with JunosSimulator(config="system { host-name mx; }\ngroups { a { system { location x; } }"
                               " b { system { location y; } } }\napply-groups [ a b ];") as sim, \
            connect(sim) as m:
        text = rpc(m, '<get-configuration format="set"><configuration><groups><name>b</name>'
                      "</groups><apply-groups/></configuration></get-configuration>")
        body = etree.fromstring(text.encode()).findtext(".//{*}configuration-set")
        assert body.splitlines() == ["set groups b system location y", "set apply-groups a",
                                     "set apply-groups b"]


_WORDS = st.sampled_from(["set", "delete", "{", "}", ";", "[", "]", '"', "a", "b c", "unit",
                          "policer", "then", "\\", "/*", "*/", "#", "\n", "replace:", "delete:",
                          "10.0.0.1/32", "\\x", '"q\\"x"'])


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORDS, max_size=40).map(" ".join))
def test_hostile_configuration_text_is_refused_cleanly(text):
    for load in (load_text, load_set):
        tree: dict = {}
        try:
            load(tree, text)
        except ConfigError:
            continue
        # whatever was accepted renders and reloads to the same tree
        again: dict = {}
        load_set(again, "\n".join(render_set(tree)))
        assert again == tree or not tree
