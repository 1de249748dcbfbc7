"""manage.py export_customers FILE --as USERNAME: the customers that user may see, as .xlsx or CSV."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _

from yixiang.accounts.models import User
from yixiang.customers import exporting
from yixiang.errors import DomainError

FILTERS = ("q", "stage", "grade", "tag", "owner", "kind", "source", "region", "value_tier")


class Command(BaseCommand):
    help = "Export the customers a user may see (with the list's filters) to .xlsx or CSV."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="where to write: a name ending in .xlsx or .csv")
        parser.add_argument("--as", dest="actor", required=True, metavar="USERNAME", help="whose view to export")
        parser.add_argument("--format", choices=sorted(exporting.FORMATS), help="default: from the file name")
        parser.add_argument("--language", default=None, help="language of the headers, e.g. zh-hans or en")
        for name in FILTERS:
            parser.add_argument(f"--{name.replace('_', '-')}", dest=name, default="", help=f"filter: {name}")

    def handle(self, *args: Any, **opts: Any) -> None:
        with translation.override(opts["language"]) if opts["language"] else contextlib.nullcontext():
            path = Path(opts["file"])
            fmt = opts["format"] or path.suffix.lower().lstrip(".")
            user = User.objects.filter(username=opts["actor"], is_active=True).first()
            if user is None:
                raise CommandError(_("No active user named “%(name)s”.") % {"name": opts["actor"]})
            filters = exporting.filters_from_query({name: opts[name] for name in FILTERS})
            try:
                export = exporting.export_customers(user=user, filters=filters, fmt=fmt)
            except DomainError as exc:
                raise CommandError(exc.message) from None
            with export.file, open(path, "wb") as out:
                shutil.copyfileobj(export.file, out)
            self.stdout.write(_("%(rows)s customers written to %(path)s.") % {"rows": export.rows, "path": path})
