"""A provisioning backend that keeps each device's state in a JSON file, for tests.

Several processes (the web app, an RQ worker, the test itself) see the same "device": its
state is the file ``<settings.path>/device-<id>.json``, written atomically under a lock.
The helpers below let a test act as the person at the router: change an owned object by
hand (drift), add an object of their own (never to be touched), count what was applied.

Not a simulator of any real device; a plugin for real equipment proves itself against a
simulator speaking that equipment's protocol (see the MikroTik and Juniper plugins).
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from marshmallow import INCLUDE, Schema, fields

from backhaul.sdk.provisioning import (
    ApplyResult,
    Change,
    ChangeAction,
    ConnectionResult,
    DeviceRef,
    ProvisioningBackend,
    ProvisioningError,
    Subscriber,
)

__all__ = ["DirectoryBackend", "applied_changes", "device_file", "edit_by_hand"]

MARKER = "backhaul"


def device_file(device: DeviceRef) -> Path:
    path = device.settings.get("path")
    if not path:
        raise ProvisioningError("the device has no 'path' setting", retryable=False)
    return Path(path) / f"device-{device.id}.json"


@contextlib.contextmanager
def _locked(device: DeviceRef) -> Iterator[dict]:
    """The device's objects, locked for the block and written back atomically after it."""
    path = device_file(device)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        objects = json.loads(path.read_text()) if path.exists() else {}
        yield objects
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(objects, sort_keys=True, indent=1))
        os.replace(tmp, path)


def _objects(device: DeviceRef) -> dict:
    path = device_file(device)
    return json.loads(path.read_text()) if path.exists() else {}


class DirectorySettings(Schema):
    class Meta:
        unknown = INCLUDE

    path = fields.String(required=True, metadata={"description": "folder of device files"})


class DirectoryBackend(ProvisioningBackend):
    """Objects named by the subscriber key, marked ``owner: backhaul``; anything else is
    the operator's own and never read or touched."""

    key = "testkit.directory"
    label = "JSON file per device (test kit)"
    settings_schema = DirectorySettings

    def test_connection(self, device: DeviceRef) -> ConnectionResult:
        folder = device_file(device).parent
        if not folder.is_dir():
            return ConnectionResult(False, f"folder {folder} does not exist")
        return ConnectionResult(True, "reachable", {"model": "directory", "version": "1"})

    def render(self, device: DeviceRef, subscriber: Subscriber) -> dict[str, Any]:
        password = subscriber.password.reveal()
        return {
            "state": str(subscriber.state),
            "username": subscriber.username,
            "password_sha256": hashlib.sha256(password.encode()).hexdigest() if password else None,
            "mac": subscriber.mac,
            "ipv4": subscriber.ipv4,
            "rate": f"{subscriber.download_kbps or 0}/{subscriber.upload_kbps or 0}",
        }

    def read(self, device: DeviceRef, keys: Sequence[str] | None = None) -> dict[str, dict]:
        if device.settings.get("fail"):
            raise ProvisioningError(str(device.settings["fail"]))
        owned = {k: {f: v for f, v in o.items() if f != "owner"}
                 for k, o in _objects(device).items() if o.get("owner") == MARKER}
        return owned if keys is None else {k: v for k, v in owned.items() if k in set(keys)}

    def apply(self, device: DeviceRef, changes: Sequence[Change]) -> ApplyResult:
        if device.settings.get("fail"):
            raise ProvisioningError(str(device.settings["fail"]))
        with _locked(device) as objects:
            log = objects.setdefault("_applied", {"owner": "log", "changes": []})
            for change in changes:
                existing = objects.get(change.key)
                if existing is not None and existing.get("owner") != MARKER:
                    continue  # never touch what someone made by hand
                if change.action == ChangeAction.DELETE:
                    objects.pop(change.key, None)
                else:
                    objects[change.key] = {**change.after, "owner": MARKER}
                log["changes"].append(change.summary())
        return ApplyResult(applied=tuple(changes))


def edit_by_hand(device: DeviceRef, key: str, **fields: Any) -> None:
    """Change (or, with ``owner="someone"``, create) an object as a person at the device."""
    with _locked(device) as objects:
        obj = objects.setdefault(key, {"owner": fields.pop("owner", "operator")})
        obj.update(fields)


def applied_changes(device: DeviceRef) -> list[dict]:
    """Every change ``apply`` made on the device, oldest first (the dry-run oracle)."""
    return list(_objects(device).get("_applied", {}).get("changes", []))
