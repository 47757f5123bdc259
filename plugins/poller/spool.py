"""Poll results kept on disk while the database cannot be written, sent when it can.

A batch that fails to commit is written to ``spool_dir`` as one JSON file (written to a
temporary name, then renamed: a crash never leaves half a file); while any file waits, new
batches queue behind it so rates and states are computed in poll order. The spool is
bounded (``spool_max_mb``): past it the oldest files are dropped, with a log line. Only
measured values go to disk, never a template's credentials.
"""
from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime
from pathlib import Path

from .snmp_icmp import IcmpResult, SnmpResult
from .store import PollResult
from .targets import Target

log = logging.getLogger(__name__)


def encode(result: PollResult) -> dict:
    snmp = result.snmp
    return {"target": result.target.key, "at": result.at.isoformat(),
            "icmp": None if result.icmp is None else [result.icmp.loss, result.icmp.rtt_ms,
                                                       result.icmp.error],
            "snmp": None if snmp is None else [
                {k: list(v) for k, v in snmp.values.items()}, snmp.error, snmp.interfaces],
            "errors": list(result.errors)}


def decode(item: dict, targets: dict[str, Target]) -> PollResult | None:
    target = targets.get(item["target"])
    if target is None:  # no longer polled: its results have nowhere to go
        return None
    result = PollResult(target, datetime.fromisoformat(item["at"]),
                        errors=list(item.get("errors") or []))
    if item.get("icmp") is not None:
        result.icmp = IcmpResult(*item["icmp"])
    if item.get("snmp") is not None:
        values, error, interfaces = item["snmp"]
        result.snmp = SnmpResult({k: tuple(v) for k, v in values.items()}, error, interfaces)
    return result


class Spool:
    def __init__(self, folder: str | Path, max_bytes: int = 512 * 2**20):
        self.folder, self.max_bytes = Path(folder), max_bytes
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dropped = 0

    def files(self) -> list[Path]:
        return sorted(self.folder.glob("batch-*.json"))

    def __len__(self) -> int:
        return len(self.files())

    def put(self, batch: list[PollResult]) -> Path:
        name = f"batch-{time.time_ns():020d}-{os.getpid()}.json"
        tmp = self.folder / f".{name}.tmp"
        tmp.write_text(json.dumps([encode(r) for r in batch]))
        os.replace(tmp, self.folder / name)
        self._bound()
        return self.folder / name

    def _bound(self) -> None:
        files = self.files()
        sizes = {f: f.stat().st_size for f in files}
        total = sum(sizes.values())
        while files and total > self.max_bytes:
            oldest = files.pop(0)
            total -= sizes[oldest]
            oldest.unlink(missing_ok=True)
            self.dropped += 1
            log.warning("poller spool over %d bytes: dropped %s", self.max_bytes, oldest.name)

    def drain(self, write, targets: dict[str, Target]) -> int:
        """Write every spooled batch, oldest first, with ``write(batch)``; a file is deleted
        only after its batch committed. Stops (raising) at the first failure."""
        sent = 0
        for path in self.files():
            items = json.loads(path.read_text())
            batch = [r for r in (decode(i, targets) for i in items) if r is not None]
            if batch:
                write(batch)
            path.unlink(missing_ok=True)
            sent += len(batch)
        return sent
