"""Fill the funnel's daily snapshots: ``--backfill`` every past day from the history (once, after
installing or importing history), otherwise what the nightly job does (yesterday and missed days)."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yixiang.reports import funnel_snapshots


class Command(BaseCommand):
    help = "Fill the funnel's daily snapshots (reports.FunnelSnapshot)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--backfill", action="store_true", help="every day from the first history row")
        parser.add_argument("--until", help="last day to snapshot with --backfill (YYYY-MM-DD; default yesterday)")

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.monotonic()
        if options["backfill"]:
            try:
                until = dt.date.fromisoformat(options["until"]) if options["until"] else None
            except ValueError:
                raise CommandError(f"--until: not a date (YYYY-MM-DD): {options['until']}") from None
            result = funnel_snapshots.funnel_snapshots_backfill(until=until)
        elif options["until"]:
            raise CommandError("--until goes with --backfill")
        else:
            result = funnel_snapshots.funnel_snapshots_refresh()
        result["seconds"] = round(time.monotonic() - began, 1)
        self.stdout.write(json.dumps(result))
