"""Template and state operations shared by the pages and GraphQL (raise FieldErrors)."""
from __future__ import annotations

import re
from datetime import timedelta

import sqlalchemy as sa

from backhaul.sdk import db, utcnow
from backhaul.sdk.graphql import FieldErrors

from .models import Applied, Sample, TargetState, Template

OID_RE = re.compile(r"^\.?[0-2](\.\d{1,10}){1,127}$")
NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")
TYPES = ("gauge", "counter", "string")
KINDS = ("role", "device", "model", "subnet")
MAX_OIDS = 100
NUMBERS = {"interval": (10, 86_400), "icmp_count": (1, 20), "icmp_interval": (0.05, 5.0),
           "icmp_timeout": (0.1, 10.0), "loss_warning": (0, 100), "rtt_warning": (0, 60_000),
           "snmp_port": (1, 65535), "snmp_timeout": (0.1, 10.0)}
DEFAULTS = {"interval": 60, "icmp_enabled": True, "icmp_count": 3, "icmp_interval": 0.2,
            "icmp_timeout": 1.0, "loss_warning": 20.0, "rtt_warning": 200.0,
            "snmp_enabled": False, "snmp_port": 161,
            "snmp_timeout": 1.0, "oids": [], "snmp_interfaces": False, "snmp_version": "2c",
            "v3_user": "", "v3_auth": "SHA-256", "v3_priv": "AES-128", "secrets": ""}
#: a new template's v2c community when none is given (the agents' factory default)
DEFAULT_COMMUNITY = "public"
VERSIONS = ("2c", "3")


def _number(value, low, high, field):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise FieldErrors({field: ["a number"]}) from None
    if not low <= number <= high:
        raise FieldErrors({field: [f"between {low} and {high}"]})
    return number


def clean_oids(oids) -> list[dict]:
    if not isinstance(oids, list) or len(oids) > MAX_OIDS:
        raise FieldErrors({"oids": [f"a list of at most {MAX_OIDS} OIDs"]})
    out, names = [], set()
    for i, raw in enumerate(oids):
        name, oid = str(raw.get("name") or ""), str(raw.get("oid") or "").strip()
        kind = raw.get("type") or "gauge"
        if not NAME_RE.match(name) or name in names or name.startswith(("icmp.", "if.")):
            raise FieldErrors({f"oids.{i}.name": ["a unique name: letters, digits, _ . -"]})
        if not OID_RE.match(oid):
            raise FieldErrors({f"oids.{i}.oid": ["a numeric OID such as 1.3.6.1.2.1.1.3.0"]})
        if kind not in TYPES:
            raise FieldErrors({f"oids.{i}.type": [f"one of {', '.join(TYPES)}"]})
        item = {"name": name, "oid": oid.lstrip("."), "type": kind,
                "unit": str(raw.get("unit") or "")[:16]}
        for key in ("warning", "critical", "hysteresis"):
            if raw.get(key) not in (None, ""):
                if kind == "string":
                    raise FieldErrors({f"oids.{i}.{key}": ["strings have no thresholds"]})
                item[key] = _number(raw[key], -1e18, 1e18, f"oids.{i}.{key}")
        names.add(name)
        out.append(item)
    return out


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def save_template(values: dict, template_id: int | None = None) -> Template:
    nul = sorted(k for k, v in values.items() if _has_nul(v))
    if nul:  # PostgreSQL cannot store text holding NUL
        raise FieldErrors({k: ["must not contain NUL characters"] for k in nul})
    row = db.session.get(Template, template_id) if template_id else Template(**DEFAULTS)
    if row is None:
        raise FieldErrors({"id": [f"There is no template {template_id}."]})
    if "name" in values or template_id is None:
        name = str(values.get("name") or "").strip()
        if not 1 <= len(name) <= 100:
            raise FieldErrors({"name": ["1-100 characters"]})
        clash = db.session.scalar(sa.select(Template.id).where(Template.name == name))
        if clash and clash != row.id:
            raise FieldErrors({"name": ["another template has this name"]})
        row.name = name
    for key, (low, high) in NUMBERS.items():
        if values.get(key) is not None:
            number = _number(values[key], low, high, key)
            setattr(row, key, int(number) if key in ("interval", "icmp_count", "snmp_port")
                    else number)
    for key in ("icmp_enabled", "snmp_enabled"):
        if values.get(key) is not None:
            setattr(row, key, bool(values[key]))
    if values.get("oids") is not None:
        row.oids = clean_oids(values["oids"])
    if values.get("snmp_interfaces") is not None:
        row.snmp_interfaces = bool(values["snmp_interfaces"])
    _save_v3(row, values)
    db.session.add(row)
    db.session.flush()
    return row


def _save_v3(row: Template, values: dict) -> None:
    """SNMP version, v2c community and v3 credentials; the community and keys are sealed at
    rest and kept when not given (a blank input keeps them: they are never shown back)."""
    from backhaul.sdk.instances import decrypt_json, encrypt_json

    from .snmp_icmp import AUTH, PRIV

    if values.get("snmp_version") is not None:
        if str(values["snmp_version"]) not in VERSIONS:
            raise FieldErrors({"snmp_version": ["2c or 3"]})
        row.snmp_version = str(values["snmp_version"])
    if values.get("v3_user") is not None:
        if len(str(values["v3_user"])) > 64:
            raise FieldErrors({"v3_user": ["at most 64 characters"]})
        row.v3_user = str(values["v3_user"]).strip()
    for key, allowed in (("v3_auth", AUTH), ("v3_priv", PRIV)):
        if values.get(key) not in (None, ""):
            if values[key] not in allowed:
                raise FieldErrors({key: [f"one of {', '.join(allowed)}"]})
            setattr(row, key, values[key])
    keys = decrypt_json(row.secrets) if row.secrets else {}
    community = values.get("snmp_community")
    if community not in (None, ""):
        community = str(community)
        if len(community) > 64 or any(ord(c) < 32 for c in community):
            raise FieldErrors({"snmp_community": ["1-64 printable characters"]})
        keys["community"] = community
    elif "community" not in keys:
        keys["community"] = DEFAULT_COMMUNITY
    for field in ("auth_key", "priv_key"):
        given = values.get(f"v3_{field}")
        if given not in (None, ""):
            if not 8 <= len(str(given)) <= 128:
                raise FieldErrors({f"v3_{field}": ["8-128 characters"]})
            keys[field] = str(given)
    if row.snmp_version == "3":
        missing = [f for f in ("v3_user", "v3_auth_key", "v3_priv_key")
                   if not (row.v3_user if f == "v3_user" else keys.get(f[3:]))]
        if missing:
            raise FieldErrors({f: ["needed for SNMPv3 authPriv"] for f in missing})
    row.secrets = encrypt_json(keys)


def delete_template(template_id: int) -> None:
    row = db.session.get(Template, template_id)
    if row is None:
        raise FieldErrors({"id": [f"There is no template {template_id}."]})
    db.session.execute(sa.delete(Applied).where(Applied.template_id == template_id))
    db.session.delete(row)
    db.session.flush()


def apply_template(template_id: int, kind: str, value: str) -> Applied:
    if db.session.get(Template, template_id) is None:
        raise FieldErrors({"templateId": [f"There is no template {template_id}."]})
    if kind not in KINDS:
        raise FieldErrors({"kind": [f"one of {', '.join(KINDS)}"]})
    value = str(value or "").strip()
    if kind == "subnet":
        from .discovery import parse_subnet

        value = str(parse_subnet(value, "value"))
    if not 1 <= len(value) <= 200 or (kind == "device" and not value.isdigit()):
        raise FieldErrors({"value": ["a role, a device id, 'Manufacturer Model' or a subnet"]})
    row = db.session.scalar(sa.select(Applied).where(
        Applied.template_id == template_id, Applied.kind == kind, Applied.value == value))
    if row is None:
        row = Applied(template_id=template_id, kind=kind, value=value)
        db.session.add(row)
        db.session.flush()
    return row


def unapply(applied_id: int) -> None:
    row = db.session.get(Applied, applied_id)
    if row is None:
        raise FieldErrors({"id": [f"There is no application {applied_id}."]})
    db.session.delete(row)
    db.session.flush()


def states(state: str | None = None, limit: int = 200) -> list[TargetState]:
    query = sa.select(TargetState).order_by(TargetState.target).limit(max(1, min(limit, 1000)))
    if state:
        query = query.where(TargetState.state == state)
    return list(db.session.scalars(query))


def history(target: str, metric: str, hours: float = 24, limit: int = 2000) -> list[Sample]:
    since = utcnow() - timedelta(hours=max(0.1, min(float(hours), 24 * 3650)))
    rows = db.session.scalars(sa.select(Sample).where(
        Sample.target == target, Sample.metric == metric, Sample.at >= since)
        .order_by(Sample.at.desc()).limit(max(1, min(int(limit), 5000))))
    return list(reversed(list(rows)))


def metrics_of(target: str) -> list[str]:
    return list(db.session.scalars(sa.select(Sample.metric).where(
        Sample.target == target).distinct().order_by(Sample.metric)))


def units() -> dict[str, str]:
    """{OID name: unit} over every template (for chart axes)."""
    return {o["name"]: o.get("unit") or "" for t in db.session.scalars(sa.select(Template))
            for o in t.oids or ()}
