"""``manage.py incentives --month YYYY-MM [--derive] [--close] [--json]``: the month's statements."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yixiang.accounts.models import Role, User
from yixiang.errors import DomainError
from yixiang.incentives import rules, selectors, services
from yixiang.incentives.api import statement_payload


class Command(BaseCommand):
    help = "Compute (and optionally close) the incentive statements of a month."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument(
            "--derive", action="store_true", help="first record customers whose first payment falls in the month"
        )
        parser.add_argument("--close", action="store_true", help="freeze the month after computing it")
        parser.add_argument("--json", action="store_true", help="print the statements as JSON")

    def handle(self, *args, **opts) -> None:
        try:
            month = rules.parse_month(opts["month"])
        except ValueError:
            raise CommandError(f"--month must look like 2011-04, got {opts['month']!r}") from None
        # The command acts for the company: an administrator's view, recorded as nobody's action.
        system = User(username="system", role=Role.ADMIN, is_superuser=True)
        try:
            if opts["derive"]:
                n = services.developed_customers_derive(actor=None, month=month)
                self.stderr.write(f"recorded {n} developed customer(s) from first payments")
            if opts["close"]:
                services.month_close(actor=None, month=month)
                self.stderr.write(f"closed {month:%Y-%m}")
            view = selectors.month_statements(fetched_by=system, month=month)
        except DomainError as exc:
            raise CommandError(exc.message) from None
        if opts["json"]:
            payload = [statement_payload(s) for s in view.statements]
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
            return
        state = "closed" if view.closed else "open"
        self.stdout.write(f"{month:%Y-%m} ({state}) · {view.version}")
        for s in view.statements:
            late = " · target filed late" if s.target_late else ""
            self.stdout.write(
                f"\n{s.username} [{s.role}] threshold {s.threshold if s.threshold is not None else '-'}"
                f" · valid {s.valid_customers} · total {s.total:+d}{late}"
            )
            for line in s.lines:
                who = f" {line.customer_name}#{line.customer_id}" if line.customer_id else ""
                self.stdout.write(f"  {line.amount:+7d}  {line.kind}{who}: {line.reason}")
        f = view.funding
        if f is not None:
            self.stdout.write(
                f"\npenalties {f.penalties} · paid from penalties {f.from_penalties}, fund {f.from_fund}, "
                f"management {f.from_management} · wages {f.from_wages} · beyond the funds {f.shortfall}"
                f" · fund {f.fund_before} → {f.fund_after}"
            )
