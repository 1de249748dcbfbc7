"""manage.py import_customers FILE: the same import as the upload page, with a progress bar."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, OutputWrapper
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from yixiang.accounts.models import Role, User
from yixiang.customers import importing
from yixiang.customers.models import ImportJob
from yixiang.errors import DomainError


class ProgressBar:
    """[#########-----------]  45%  45,000/100,000 rows  12,000 rows/s — redrawn on stderr."""

    def __init__(self, stream: OutputWrapper, *, width: int = 30, every: float = 0.2):
        self.stream = stream
        self.width = width
        self.every = every
        self.started = time.monotonic()
        self.drawn_at = 0.0

    def __call__(self, job: ImportJob) -> None:
        now = time.monotonic()
        if now - self.drawn_at >= self.every:
            self.draw(job.processed_rows, job.total_rows)
            self.drawn_at = now

    def draw(self, done: int, total: int) -> None:
        total = max(total, done, 1)
        share = done / total
        filled = int(self.width * share)
        rate = done / max(time.monotonic() - self.started, 1e-6)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r[{bar}] {share:4.0%}  {done:,}/{total:,}  {rate:,.0f}/s", ending="")
        self.stream.flush()

    def finish(self, job: ImportJob) -> None:
        self.draw(job.processed_rows, job.processed_rows)
        self.stream.write("")


def _user(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise CommandError(_("No active user named “%(name)s”.") % {"name": username})
    return user


class Command(BaseCommand):
    help = "Import customers from a CSV (UTF-8, UTF-8 with BOM, GBK) or .xlsx file."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="CSV or .xlsx file")
        who = parser.add_mutually_exclusive_group()
        who.add_argument("--owner", metavar="USERNAME", help="owner of the imported customers")
        who.add_argument("--pool", action="store_true", help="put the customers in the public pool (admin only)")
        parser.add_argument(
            "--as",
            dest="actor",
            metavar="USERNAME",
            help="the user doing the import (default: the owner; with --pool, the first administrator)",
        )
        parser.add_argument("--dry-run", action="store_true", help="check every row, save nothing")
        parser.add_argument(
            "--kind",
            choices=ImportJob.Kind.values,
            default=ImportJob.Kind.CUSTOMERS,
            help="what the file holds: customers, or history to migrate (followups, contracts, payouts, payments, "
            "owners; administrators only, --as an administrator)",
        )
        parser.add_argument("--language", default=None, help="language of the report, e.g. zh-hans or en")

    def handle(self, *args: Any, **opts: Any) -> None:
        with translation.override(opts["language"]) if opts["language"] else contextlib.nullcontext():
            self._handle(opts)

    def _handle(self, opts: dict[str, Any]) -> None:
        path = Path(opts["file"])
        if not path.is_file():
            raise CommandError(_("File not found: %(path)s") % {"path": path})
        owner = _user(opts["owner"]) if opts["owner"] else None
        if opts["actor"]:
            actor = _user(opts["actor"])
        elif owner is not None:
            actor = owner
        else:
            admins = User.objects.filter(Q(role=Role.ADMIN) | Q(is_superuser=True), is_active=True)
            actor = admins.order_by("pk").first()
            if actor is None:
                raise CommandError(_("Name the importing user with --as USERNAME."))
        if owner is None and not opts["pool"]:
            owner = actor
        bar = ProgressBar(self.stderr)
        try:
            job = importing.import_file(
                path,
                actor=actor,
                owner=owner,
                dry_run=opts["dry_run"],
                file_name=path.name,
                progress=bar,
                kind=opts["kind"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from None
        bar.finish(job)
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(job.message)
        if job.status != ImportJob.Status.DONE:
            self.stdout.write(_("Another worker is finishing import job %(id)s.") % {"id": job.pk})
            return
        self._report(job)

    def _report(self, job: ImportJob) -> None:
        out = self.stdout
        out.write(job.message)
        sections = (
            ("error", _("Rows with errors:")),
            ("duplicate", _("Duplicates skipped:")),
            ("warning", _("Notes:")),
        )
        for kind, title in sections:
            entries = importing.job_entries(job, kind)
            if not entries:
                continue
            out.write(title)
            for e in entries:
                if kind == "warning":
                    out.write(f"  {e['reason']}")
                else:
                    out.write("  " + _("line %(line)s: %(reason)s") % {"line": e["line"], "reason": e["reason"]})
            left_out = importing.job_entries_left_out(job, kind)
            if left_out:
                out.write("  " + _("… and %(count)s more, not listed.") % {"count": left_out})
