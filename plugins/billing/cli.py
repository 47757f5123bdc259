"""``backhaul billing ...``: run, preview, check the ledger, delinquency."""
from __future__ import annotations

import json
from datetime import date

import click

from backhaul.sdk import db


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def make_group() -> click.Group:
    @click.group("billing")
    def group():
        """Billing: runs, previews, ledger checks, delinquency."""

    @group.command("run")
    @click.option("--date", "run_date", help="bill periods starting on or before (ISO date; "
                                             "default today)")
    @click.option("--chunk-size", type=int, default=None, help="accounts per transaction")
    def run_command(run_date, chunk_size):
        """Start (or resume) the billing run of a date and carry it out."""
        from .run import run_billing

        result = run_billing(_date(run_date), triggered_by="cli", chunk_size=chunk_size)
        click.echo(f"run #{result.id} {result.status}: {result.invoiced} invoiced, "
                   f"{result.empty} with nothing to bill, {result.failed} failed")
        if result.failed:
            raise SystemExit(1)

    @group.command("preview")
    @click.option("--date", "run_date")
    @click.option("--limit", type=int, default=20)
    def preview_command(run_date, limit):
        """What the run of a date would bill (writes nothing)."""
        from .run import preview

        due, items = preview(_date(run_date) or date.today(), limit=limit)
        click.echo(f"{due} account(s) due")
        for item in items:
            total = item.draft.total if item.draft else f"FAILS: {item.error}"
            click.echo(f"  account {item.account_id} from {item.period_start}: {total}")

    @group.command("check")
    @click.option("--json", "as_json", is_flag=True)
    def check_command(as_json):
        """Check that every invoice adds up and the ledger balances to the cent."""
        from .checks import run_all

        results = run_all()
        bad = {k: [list(map(str, r)) for r in v] for k, v in results.items() if v}
        if as_json:
            click.echo(json.dumps({"ok": not bad, "problems": bad}, indent=2))
        else:
            for name, rows in results.items():
                click.echo(f"{'FAIL' if rows else 'ok  '} {name}: {len(rows)}")
        if bad:
            raise SystemExit(1)

    @group.command("delinquency")
    @click.option("--day", help="evaluate for this day (default: tonight)")
    @click.option("--apply", is_flag=True, help="make the transitions (default: preview)")
    def delinquency_command(day, apply):
        """Who will be suspended tonight, and why (``--apply`` runs the nightly job)."""
        from .delinquency import preview, run_nightly

        if apply:
            click.echo(json.dumps(run_nightly(_date(day))))
            return
        for entry in preview(_date(day), include_spared=True):
            spared = f" (spared: {entry.excluded})" if entry.excluded else ""
            click.echo(f"account {entry.account_id}: {entry.reason}{spared}")
        db.session.rollback()

    return group


__all__ = ["make_group"]
